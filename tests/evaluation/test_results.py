"""Score maps: flat JSON keys as before, old files load, typed headline accessors."""

from __future__ import annotations

import json

import pytest

from hybridbatch.evaluation import DatasetReport, EvaluationReport, LanguageRow, PairCell, Summary
from hybridbatch.evaluation.registry import score_names

# the summary of a report.json written before the registry (13 fields + main_score)
OLD_SUMMARY = {
    "mono_map": 0.8,
    "cross_map": 0.6,
    "multi_map": 0.3,
    "mono_r1": 0.7,
    "cross_r1": 0.5,
    "multi_r10": 0.4,
    "rank_distance": 1232.5,
    "mono_map20": 0.79,
    "cross_map20": 0.59,
    "multi_map20": 0.29,
    "mono_mrr10": 0.78,
    "cross_mrr10": 0.58,
    "multi_mrr10": 0.28,
    "main_score": 0.3,
}
OLD_ROW = {
    "lang": "en",
    "seen_in_training": True,
    "num_queries": 3,
    "num_candidates": 8,
    "mono_map": 0.8,
    "mono_r1": 0.7,
    "mono_map20": 0.79,
    "mono_mrr10": 0.78,
    "cross_map": 0.6,
    "cross_r1": 0.5,
    "multi_map": 0.3,
    "multi_r10": 0.4,
    "multi_map20": 0.29,
    "multi_mrr10": 0.28,
    "rank_distance": 12.0,
}
OLD_CELL = {
    "query_lang": "en",
    "candidate_lang": "de",
    "num_queries": 3,
    "map": 0.5,
    "r1": 0.4,
    "map20": 0.5,
    "mrr10": 0.45,
}


def test_old_summary_loads_and_writes_the_same_keys():
    summary = Summary.model_validate(OLD_SUMMARY)
    assert (summary.mono_map, summary.cross_map, summary.multi_map) == (0.8, 0.6, 0.3)
    assert summary.rank_distance == 1232.5 and summary.main_score == 0.3
    assert summary.multi_r10 == summary["multi_r10"] == summary.get("multi_r10") == 0.4
    assert summary.get("lpr") is None and summary.get("tlr10") is None  # newer scores: absent, not 0
    dumped = json.loads(summary.model_dump_json())
    assert {k: dumped[k] for k in OLD_SUMMARY} == OLD_SUMMARY
    assert set(dumped) == set(score_names()) | {"main_score"}
    assert Summary.model_validate(dumped) == summary


def test_main_score_without_multi():
    summary = Summary(mono_map=0.8, cross_map=0.6)
    assert summary.multi_map is None and summary.main_score == pytest.approx(0.7)
    assert Summary().main_score is None
    with pytest.raises(AttributeError):
        _ = summary.no_such_score


def test_old_dataset_report_round_trip():
    data = {
        "dataset": "toy",
        "settings": ["mono", "cross", "multi"],
        "num_queries": 3,
        "num_candidates": 8,
        "summary": OLD_SUMMARY,
        "languages": [OLD_ROW],
        "matrix": [OLD_CELL],
    }
    report = EvaluationReport(model="m", datasets={"toy": DatasetReport.model_validate(data)})
    loaded = EvaluationReport.model_validate(
        {k: v for k, v in json.loads(report.model_dump_json()).items() if k != "summary"}
    )
    dataset = loaded.datasets["toy"]
    assert dataset.precision == "fp32" and dataset.per_query is None
    row, cell = dataset.languages[0], dataset.cell("en", "de")
    assert isinstance(row, LanguageRow) and row.multi_map == 0.3 and row.rank_distance == 12.0
    assert isinstance(cell, PairCell) and cell.map == 0.5 and cell.mrr10 == 0.45
    flat_row = json.loads(row.model_dump_json())
    assert {k: flat_row[k] for k in OLD_ROW} == OLD_ROW
    assert json.loads(cell.model_dump_json()) == OLD_CELL
