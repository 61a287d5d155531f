"""An end-to-end comparison on the tiny model and toy data: outputs, resume, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import TOY, write_lareqa

from hybridbatch.comparison import ComparisonSettings, compare

SUMMARY_KEYS = {"mono_map", "cross_map", "multi_map", "mono_r1", "cross_r1", "multi_r10", "rank_distance"}


@pytest.fixture
def toy_config(tmp_path: Path, tiny_model) -> ComparisonSettings:
    train = write_lareqa(tmp_path / "train")
    held_out = {k: {lang: v for lang, v in langs.items()} for k, langs in TOY.items()}
    held_out["q1"]["fr"] = ("Où est la tour ?", ["La tour est à Paris.", "Elle est haute."], 0)
    evaluation = write_lareqa(tmp_path / "heldout", held_out)
    return ComparisonSettings(
        model="builtin:tiny",
        train=[str(train)],
        eval=[str(evaluation)],
        strategies=["base", "xx", "xy", "hybrid"],
        alphas=[0.5, 0.8],
        budget=2,
        out=tmp_path / "cmp",
        train_settings={"batch_size": 2, "dev_fraction": 0.0, "checkpoint_every": 0, "show_progress": False},
    )


def test_compare_writes_report_and_resumes(toy_config: ComparisonSettings, monkeypatch) -> None:
    report = compare(toy_config)
    out = toy_config.out
    data = json.loads((out / "comparison.json").read_text())
    assert list(data["strategies"]) == ["base", "xx", "xy", "hybrid", "hybrid-a0.8"]
    for name, result in data["strategies"].items():
        assert set(result["summary"]) >= SUMMARY_KEYS, name
        assert result["summary"]["mono_map"] is not None
    assert data["strategies"]["base"]["training"] is None
    assert data["strategies"]["hybrid"]["training"]["steps"] == 2
    # fr is held out: the seen/unseen split is reported separately
    assert data["strategies"]["hybrid"]["summary_unseen"]["mono_map"] is not None
    for plot in (
        "map_by_strategy.png",
        "rank_distance_by_strategy.png",
        "seen_vs_unseen.png",
        "alpha_sweep.png",
    ):
        assert (out / plot).stat().st_size > 1000, plot
    markdown = (out / "comparison.md").read_text()
    assert "| hybrid-a0.8 |" in markdown and "Seen vs unseen" in markdown
    phases = [(p["name"], p["reused"]) for p in data["phases"]]  # make demo prints each phase's wall time
    assert phases[0] == ("model builtin:tiny (build or find)", False) and ("train xy", False) in phases
    assert [n for n, _ in phases if n.startswith("evaluate")] == [f"evaluate {n}" for n in data["strategies"]]
    assert "| total |" in markdown.split("## Wall time per phase")[1]
    # trained models differ from the base model's scores somewhere
    assert report.strategies["xy"].model != report.strategies["base"].model

    # a rerun trains and evaluates nothing: finished strategies are reused
    import hybridbatch.evaluation as evaluation

    def fail(*args, **kwargs):
        raise AssertionError("re-evaluated a finished strategy")

    monkeypatch.setattr(evaluation, "evaluate", fail)
    again = compare(toy_config)
    assert again.strategies["hybrid"].summary == report.strategies["hybrid"].summary
    assert all(p.reused for p in again.phases[1:])  # every training and evaluation found finished

    # an evaluation from before per-query scores were kept is redone, and only that one
    monkeypatch.undo()
    redone: list[str] = []
    real_evaluate = evaluation.evaluate

    def counting(model, *args, **kwargs):
        redone.append(str(kwargs["out"]))
        return real_evaluate(model, *args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate", counting)
    (out / "runs" / "base" / "eval" / "per_query.json").unlink()
    compare(toy_config)
    assert [Path(p).parent.name for p in redone] == ["base"]
    assert (out / "runs" / "base" / "eval" / "per_query.json").is_file()


def test_cli_rejects_unknown_strategy(tmp_path: Path, cli) -> None:
    code, _, err = cli("compare", "--out", str(tmp_path / "x"), "--strategies", "base,magic")
    assert code == 2
    assert err.strip().startswith("error:") and "magic" in err
    assert len(err.strip().splitlines()) == 1


def test_reduced_precision_reuses_the_runs_and_keeps_the_fp32_report(toy_config: ComparisonSettings) -> None:
    toy_config = toy_config.model_copy(update={"strategies": ["base", "hybrid"], "alphas": [0.5]})
    compare(toy_config)
    out = toy_config.out
    fp32_json = (out / "comparison.json").read_text()
    trained = {p: p.stat().st_mtime_ns for p in (out / "runs" / "hybrid" / "model").rglob("*") if p.is_file()}
    int8 = compare(toy_config.model_copy(update={"precision": "int8"}))
    assert (out / "comparison.json").read_text() == fp32_json  # the fp32 report is untouched
    assert {p: p.stat().st_mtime_ns for p in trained} == trained  # the trained model is reused
    data = json.loads((out / "int8" / "comparison.json").read_text())
    assert data["config"]["precision"] == "int8"
    report = json.loads((out / "runs" / "hybrid" / "eval-int8" / "report.json").read_text())
    assert {d["precision"] for d in report["datasets"].values()} == {"int8"}
    assert int8.strategies["hybrid"].model == json.loads(fp32_json)["strategies"]["hybrid"]["model"]
    assert int8.strategies["hybrid"].summary != json.loads(fp32_json)["strategies"]["hybrid"]["summary"]


def test_config_rejects_an_unknown_precision(tmp_path: Path, cli) -> None:
    code, _, err = cli("compare", "--out", str(tmp_path / "x"), "--precision", "fp16")
    assert code == 2 and err.strip().startswith("error:") and "--precision" in err and "fp16" in err
