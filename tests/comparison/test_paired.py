"""Significance tables of a comparison: paired tests on per-query files, spread across seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridbatch.comparison.runs.config import ComparisonSettings
from hybridbatch.comparison.runs.results import ComparisonReport, DatasetScores, StrategyResult
from hybridbatch.comparison.runs.seeds import (
    SeededComparison,
    choose_reference,
    parse_seeds,
    seed_config,
    split_afriqa,
    write_significance,
)
from hybridbatch.comparison.significance.paired import afriqa_significance, lareqa_significance
from hybridbatch.comparison.significance.significance_report import render_significance
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation import Summary

QUERIES = [f"{lang}:{i}" for lang in ("de", "en") for i in range(30)]


def _strategy(root: Path, name: str, multi: float, shift: float) -> StrategyResult:
    """A run whose Multi AP is ``multi`` on every query, Mono AP 0.8 + shift on half of them."""
    folder = root / "runs" / name / "eval"
    folder.mkdir(parents=True)
    per_query = {
        "mono_ap": {q: 0.8 + (shift if i % 2 else 0.0) for i, q in enumerate(QUERIES)},
        "cross_ap": {q: 0.6 for q in QUERIES},
        "multi_ap": {q: multi for q in QUERIES},
        "rank_distance": {q: 100.0 for q in QUERIES},
    }
    (folder / "per_query.json").write_text(json.dumps({"xquad-r": per_query}))
    summary = Summary(mono_map=0.8 + shift / 2, cross_map=0.6, multi_map=multi, rank_distance=100.0)
    return StrategyResult(
        name=name,
        strategy=name,
        model=f"m-{name}",
        summary=summary,
        datasets={"xquad-r": DatasetScores(summary=summary)},
        report=str(folder / "report.json"),
    )


def _report(root: Path, seed: int, multi_xy: float) -> ComparisonReport:
    config = ComparisonSettings(out=root, strategies=["xy", "hybrid"], seed=seed)
    strategies = {"xy": _strategy(root, "xy", multi_xy, 0.0), "hybrid": _strategy(root, "hybrid", 0.5, 0.01)}
    return ComparisonReport(
        config=config, train_languages=["de", "en"], primary_eval="xquad-r", strategies=strategies
    )


def test_lareqa_table_tests_and_seed_spread(tmp_path: Path) -> None:
    reports = {0: _report(tmp_path / "s0", 0, 0.6), 1: _report(tmp_path / "s1", 1, 0.7)}
    sig = lareqa_significance(reports, "hybrid", "xquad-r", n_resamples=999)
    xy = sig.rows["xy"]
    assert xy["Multi mAP"].test.difference == pytest.approx(0.1)  # seed 0: 0.6 - 0.5 on every query
    assert xy["Multi mAP"].test.p_value == pytest.approx(1 / 1000)
    assert xy["Multi mAP"].test.significant
    assert xy["Mono mAP"].test.difference == pytest.approx(-0.005)
    assert xy["Cross mAP"].test.p_value == pytest.approx(1.0) and not xy["Cross mAP"].test.significant
    assert xy["Multi mAP"].seed_mean == pytest.approx(0.65)
    assert xy["Multi mAP"].seed_std == pytest.approx(0.0707107, abs=1e-6)
    assert xy["Multi mAP"].delta_mean == pytest.approx(0.15)
    assert sig.rows["hybrid"]["Multi mAP"].test is None  # the reference itself
    lines = "\n".join(render_significance(sig))
    assert "Δ Multi mAP" in lines and "+0.100 [+0.100, +0.100] p=0.001" in lines
    assert "(n.s.)" in lines and "Across seeds 0, 1" in lines and "0.650 ± 0.071" in lines


def test_missing_per_query_scores_are_noted(tmp_path: Path) -> None:
    report = _report(tmp_path, 0, 0.6)
    (Path(report.strategies["hybrid"].report).parent / "per_query.json").unlink()
    sig = lareqa_significance({0: report}, "hybrid", "xquad-r", n_resamples=99)
    assert sig.rows["xy"]["Multi mAP"].test is None
    assert "no per-query scores" in sig.notes[0]
    assert "+0.100 (no per-query scores)" in "\n".join(render_significance(sig))


def test_afriqa_table() -> None:
    def report(value: float) -> dict:
        per = {f"hau:{i}": {"ndcg10": value, "mrr10": value, "r100": 1.0} for i in range(20)}
        means = {"ndcg10": value, "mrr10": value, "r100": 1.0}
        return {"per_query": {"native": per}, "mean_native": means}

    sig = afriqa_significance({0: {"base": report(0.4), "hybrid": report(0.3)}}, "hybrid", "test", 500)
    assert sig.rows["base"]["nDCG@10"].test.difference == pytest.approx(0.1)
    assert sig.rows["base"]["R@100"].test.p_value == pytest.approx(1.0)
    assert sig.dataset == "afriqa test"


def test_write_significance_replaces_its_section(tmp_path: Path) -> None:
    report = _report(tmp_path, 0, 0.6)
    (tmp_path / "comparison.md").write_text("# Strategy comparison\n\ntable\n")
    sig = lareqa_significance({0: report}, "hybrid", "xquad-r", n_resamples=99)
    result = SeededComparison(seeds=[0], reference="hybrid", reports={0: report}, significance=[sig])
    write_significance(result, tmp_path)
    write_significance(result, tmp_path)
    text = (tmp_path / "comparison.md").read_text()
    assert text.startswith("# Strategy comparison\n\ntable\n\n## Significance")
    assert text.count("## Significance") == 1
    assert json.loads((tmp_path / "significance.json").read_text())["reference"] == "hybrid"


def test_seed_flags_and_reference(tmp_path: Path) -> None:
    assert parse_seeds(None, 3) == [3] and parse_seeds("0, 1,2", 0) == [0, 1, 2]
    for bad, message in (("0,x", "not a non-negative integer"), ("1,1", "listed twice"), ("-1", "not a")):
        with pytest.raises(ConfigError, match=message):
            parse_seeds(bad, 0)
    config = ComparisonSettings(
        out=tmp_path, strategies=["base", "xy", "hybrid"], eval=["xquad-r", "afriqa:dev"]
    )
    assert seed_config(config, 0) is config
    assert seed_config(config, 2).out == tmp_path / "seeds" / "seed-2" and seed_config(config, 2).seed == 2
    rest, splits = split_afriqa(config)
    assert rest.eval == ["xquad-r"] and splits == ["dev"]
    assert choose_reference(config, None) == "hybrid" and choose_reference(config, "xy") == "xy"
    with pytest.raises(ConfigError, match=r"--reference: 'xx' is not one of the runs \(base, xy, hybrid\)"):
        choose_reference(config, "xx")
    with pytest.raises(ConfigError, match="no split 'val'"):
        split_afriqa(config.model_copy(update={"eval": ["xquad-r", "afriqa:val"]}))
    with pytest.raises(ConfigError, match="extra evaluation"):
        split_afriqa(config.model_copy(update={"eval": ["afriqa"]}))


def test_seen_and_unseen_query_languages_apart(tmp_path: Path) -> None:
    report = _report(tmp_path, 0, 0.6).model_copy(update={"train_languages": ["en"]})
    seen = lareqa_significance({0: report}, "hybrid", "xquad-r", n_resamples=99, subset="seen")
    unseen = lareqa_significance({0: report}, "hybrid", "xquad-r", n_resamples=99, subset="unseen")
    assert seen.dataset == "xquad-r (seen languages)" and unseen.dataset == "xquad-r (unseen languages)"
    assert seen.rows["xy"]["Multi mAP"].test.n == 30 and unseen.rows["xy"]["Multi mAP"].test.n == 30
    assert seen.rows["xy"]["Multi mAP"].seed_mean is None  # no seen/unseen summaries in this fake
