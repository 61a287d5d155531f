"""`benchmarks/study_pairs.py`: paired tests between two study rows, read from their eval folders."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import load_benchmark


def _script():
    return load_benchmark("study_pairs")


def _run(folder: Path, multi: list[float], ndcg: list[float]) -> None:
    (folder / "eval-bf16").mkdir(parents=True)
    scores = {"multi_ap": {f"de:{i}": v for i, v in enumerate(multi)}, "rank_distance": {"de:0": 3.0}}
    (folder / "eval-bf16" / "per_query.json").write_text(json.dumps({"xquad-r": scores}))
    (folder / "afriqa-dev-bf16").mkdir()
    native = {f"yor:{i}": {"ndcg10": v} for i, v in enumerate(ndcg)}
    (folder / "afriqa-dev-bf16" / "report.json").write_text(json.dumps({"per_query": {"native": native}}))


def test_pairs_are_tested_on_the_evaluations_both_rows_have(tmp_path: Path) -> None:
    _run(tmp_path / "a", multi=[0.9, 0.8, 0.7, 0.6] * 10, ndcg=[0.5] * 40)
    _run(tmp_path / "b", multi=[0.5, 0.4, 0.3, 0.2] * 10, ndcg=[0.5] * 40)
    rows = _script().compare(tmp_path, "a", "b", n_resamples=199)
    assert len(rows) == 2  # Multi mAP and nDCG@10; rank distance is not a tested metric here
    multi = next(r for r in rows if "Multi mAP" in r)
    assert "| 0.750 | 0.350 | +0.400" in multi and "p=0.005" in multi  # the least p of 199 resamples
    assert "n.s." in next(r for r in rows if "nDCG@10" in r)  # identical scores
