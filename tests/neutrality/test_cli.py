"""``evaluate --neutralize``, ``neutralize`` and ``merge`` from the command line (tiny model, toy data)."""

from __future__ import annotations

import json

import pytest


def _summary(out) -> dict:
    report = json.loads((out / "report.json").read_text())
    (dataset,) = report["datasets"].values()
    return dataset["summary"]


def _evaluate(cli, toy_dir, out, *args: str):
    return cli("evaluate", "--model", "builtin:tiny", "--data", str(toy_dir), "--out", str(out), *args)


def test_evaluate_neutralize_matches_the_neutralized_model(cli, toy_dir, tmp_path):
    cache = str(tmp_path / "cache")
    code, _, err = _evaluate(cli, toy_dir, tmp_path / "plain", "--cache", cache)
    assert code == 0, err
    code, _, err = _evaluate(cli, toy_dir, tmp_path / "post", "--cache", cache, "--neutralize", "lsar")
    assert code == 0, err
    assert "neutralized: lsar r=2 fitted on candidate pools (de, en, es)" in err
    (fitted,) = json.loads((tmp_path / "post" / "neutralization.json").read_text())
    assert fitted["languages"] == ["de", "en", "es"] and fitted["rank"] == 2
    code, out, err = cli(
        "neutralize",
        "--model",
        "builtin:tiny",
        "--fit-on",
        str(toy_dir),
        "--out",
        str(tmp_path / "model"),
        "--no-cache",
    )
    assert code == 0, err
    assert "rank 2, fitted on 3 languages (de, en, es)" in out
    code, _, err = cli(
        "evaluate",
        "--model",
        str(tmp_path / "model"),
        "--data",
        str(toy_dir),
        "--out",
        str(tmp_path / "baked"),
        "--no-cache",
    )
    assert code == 0, err
    post, baked, plain = (
        _summary(tmp_path / "post"),
        _summary(tmp_path / "baked"),
        _summary(tmp_path / "plain"),
    )
    for key in ("mono_map", "cross_map", "multi_map", "rank_distance"):
        assert post[key] == pytest.approx(baked[key], abs=2e-3), key
    assert any(post[k] != plain[k] for k in ("multi_map", "rank_distance", "cross_map"))
    code, out, _ = cli("models", "info", str(tmp_path / "model"))
    assert code == 0 and "neutralization" in out and "lsar" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--neutralize", "pca"], "unknown method 'pca'"),
        (["--neutralize", "lsar", "--rank", "5"], "--rank must be between 1 and 2"),
        (["--neutralize", "center", "--fit-on", "ONE"], "at least 2 languages, found 1"),
    ],
)
def test_evaluate_neutralize_bad_inputs_are_one_line_errors(cli, toy_dir, tmp_path, args, message):
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": "a", "text": "x", "lang": "en"}) + "\n")
    args = [str(one) if a == "ONE" else a for a in args]
    code, _, err = _evaluate(cli, toy_dir, tmp_path / "e", "--no-cache", *args)
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert code == 2 and message in err and len(errors) == 1 and "Traceback" not in err, err


def test_center_with_a_source_missing_evaluated_languages_is_an_error(cli, toy_dir, tmp_path):
    two = tmp_path / "two.jsonl"
    two.write_text(
        "\n".join(
            json.dumps({"id": str(i), "text": t, "lang": lang})
            for i, (t, lang) in enumerate([("Der Turm.", "de"), ("The tower.", "en")])
        )
    )
    code, _, err = _evaluate(
        cli, toy_dir, tmp_path / "e", "--no-cache", "--neutralize", "center", "--fit-on", str(two)
    )
    assert code == 2 and "no statistics for language(s) es" in err, err


def test_merge_and_neutralize_usage_errors(cli, tmp_path):
    code, _, err = cli("merge", "--base", "builtin:tiny", "--out", str(tmp_path / "m"))
    assert code == 2 and "give either --base A --tuned B" in err
    code, _, err = cli(
        "merge",
        "--base",
        "builtin:tiny",
        "--tuned",
        "builtin:tiny",
        "--weight",
        "1.5",
        "--out",
        str(tmp_path / "m"),
    )
    assert code == 2 and "--weight: weight must be in [0, 1]" in err
    code, _, err = cli(
        "neutralize",
        "--model",
        "builtin:tiny",
        "--fit-on",
        "xquad-r",
        "--method",
        "x",
        "--out",
        str(tmp_path / "n"),
    )
    assert code == 2 and "unknown method" in err
    assert not (tmp_path / "m").exists() and not (tmp_path / "n").exists()
