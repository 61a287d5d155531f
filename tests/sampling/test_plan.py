"""``hybridbatch batches``: the JSONL plan and its summary."""

from __future__ import annotations

import json
import math
import sys

import pytest

from conftest import write_lareqa
from hybridbatch.cli import main


def run_cli(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["hybridbatch", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def read_plan(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_done_criterion_on_mlqa(mlqa, tmp_path, monkeypatch, capsys):
    """The issue's command: X-X share in [0.47, 0.53], no repeated id, X-Y cross-lingual, reproducible."""
    common = ["--data", "mlqa-r", "--sampler", "hybrid", "--alpha", "0.5", "--steps", "2000"]
    common += ["--batch-size", "32"]
    first, again, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    assert run_cli(monkeypatch, "batches", *common, "--seed", "0", "--out", str(first)) == 0
    assert "X-X share" in capsys.readouterr().out
    assert run_cli(monkeypatch, "batches", *common, "--seed", "0", "--out", str(again)) == 0
    assert first.read_bytes() == again.read_bytes()
    short = ["--data", "mlqa-r", "--steps", "20", "--batch-size", "32", "--out", str(other)]
    assert run_cli(monkeypatch, "batches", *short, "--seed", "1") == 0
    assert read_plan(other) != read_plan(first)[:20]

    plan = read_plan(first)
    assert [r["step"] for r in plan] == list(range(2000))
    assert 0.47 <= sum(r["kind"] == "xx" for r in plan) / len(plan) <= 0.53
    for record in plan:
        assert len(record["pairs"]) == 32
        assert len({p["id"] for p in record["pairs"]}) == 32
        if record["kind"] == "xy":
            assert all(p["query_lang"] != p["passage_lang"] for p in record["pairs"])
        else:
            langs = {(p["query_lang"], p["passage_lang"]) for p in record["pairs"]}
            assert langs == {(record["language"],) * 2}


def test_options_and_json_summary(toy_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "plan.jsonl"
    other = write_lareqa(tmp_path / "toy2")  # a comma list, as train takes it
    args = ["batches", "--data", f"{toy_dir},{other}", "--sampler", "xy", "--batch-size", "2"]
    args += ["--steps", "40", "--languages", "en,de", "--hard-negatives", "1", "--out", str(out), "--json"]
    assert run_cli(monkeypatch, *args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 40 and summary["batches_by_kind"] == {"xy": 40}
    assert set(summary["query_languages"]) == {"en", "de"}
    assert sum(summary["batches_by_source"].values()) == 40 and len(summary["batches_by_source"]) == 2
    plan = read_plan(out)
    negatives = [len(p.get("negatives", [])) for r in plan for p in r["pairs"]]
    assert max(negatives) == 1 and sum(negatives) > len(negatives) / 2


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--sampler", "zigzag"], "unknown sampler 'zigzag'"),
        (["--alpha", "1.5"], "alpha must be in [0, 1]"),
        (["--batch-size", "9"], "batch size 9 exceeds the"),
        (["--languages-per-batch", "1"], "languages per batch must be >= 2"),
        (["--languages", "en,xx"], "languages xx not in the training data"),
    ],
)
def test_errors_are_one_line(toy_dir, tmp_path, monkeypatch, capsys, flags, message):
    out = tmp_path / "plan.jsonl"
    args = ["batches", "--data", str(toy_dir), "--batch-size", "2", *flags, "--out", str(out)]
    code = run_cli(monkeypatch, *args)
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_done_criterion_of_sources_mlqa_and_flores(mlqa, tmp_path, monkeypatch, capsys):
    """Issue 21's command: per-source and per-kind shares; no bitext X-X pair, no repeated id in a batch."""
    from hybridbatch.data.registry import data_home

    if not (data_home() / "flores200" / "devtest").is_dir():
        pytest.skip("no FLORES-200 copy in the data mirror")
    out = tmp_path / "plan.jsonl"
    args = ["batches", "--data", "mlqa-r", "--data", "flores200:train", "--steps", "2000"]
    args += ["--batch-size", "32", "--seed", "0", "--out", str(out)]
    assert run_cli(monkeypatch, *args) == 0
    printed = capsys.readouterr().out
    assert "Sources (share of batches)" in printed and "Source kinds" in printed
    assert run_cli(monkeypatch, *args, "--json", "--overwrite") == 0  # the same --out again
    summary = json.loads(capsys.readouterr().out)
    assert summary["source_kinds"] == {"mlqa-r": "qa", "flores200:train": "bitext"}
    assert set(summary["kind_shares"]) == {"qa", "bitext"} and math.isclose(
        sum(summary["kind_shares"].values()), 1
    )
    assert summary["bitext_xx_batches"] == 0 and summary["batches_with_duplicate_ids"] == 0
    plan = read_plan(out)
    assert {r["source"] for r in plan} == {"mlqa-r", "flores200:train"}
    for record in plan:
        assert len({p["id"] for p in record["pairs"]}) == 32
        if record["source"] == "flores200:train":
            assert record["kind"] == "xy"
            assert all(p["query_lang"] != p["passage_lang"] for p in record["pairs"])
