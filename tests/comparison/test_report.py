"""comparison.json written before the score registry still loads (``compare`` resumes from it); the
tables and plots show every registered headline score, the language-bias ones included."""

from __future__ import annotations

import json
from pathlib import Path

from tests.evaluation.test_results import OLD_SUMMARY

from hybridbatch.comparison.runs.report import render_markdown, write_comparison
from hybridbatch.comparison.runs.results import ComparisonReport


def old_comparison(out: Path) -> dict:
    """A comparison.json as the code before the registry wrote it (13 summary fields + main_score)."""

    def strategy(name: str, shift: float) -> dict:
        summary = {k: (v + shift if k != "rank_distance" else v) for k, v in OLD_SUMMARY.items()}
        return {
            "name": name,
            "strategy": name,
            "model": f"runs/{name}/model",
            "summary": summary,
            "summary_seen": summary,
            "summary_unseen": summary,
            "datasets": {"xquad-r": {"summary": summary, "summary_seen": summary, "summary_unseen": summary}},
            "training": None if name == "base" else {"steps": 4, "seconds": 60.0, "pairs_per_second": 2.0},
            "report": f"runs/{name}/eval/report.json",
        }

    return {
        "config": {
            "model": "builtin:tiny",
            "train": ["mlqa-r"],
            "eval": ["xquad-r"],
            "out": str(out),
            "strategies": ["base", "hybrid"],
            "budget": 4,
        },
        "train_languages": ["de", "en"],
        "primary_eval": "xquad-r",
        "strategies": {"base": strategy("base", 0.0), "hybrid": strategy("hybrid", 0.01)},
        "created_at": "2026-11-30T09:00:00+00:00",
    }


def test_old_comparison_loads_and_renders(tmp_path):
    data = old_comparison(tmp_path)
    report = ComparisonReport.model_validate(data)
    hybrid = report.strategies["hybrid"].summary
    assert hybrid.multi_map == OLD_SUMMARY["multi_map"] + 0.01 and hybrid.get("lpr") is None
    dumped = json.loads(report.model_dump_json())["strategies"]["base"]["summary"]
    assert {k: dumped[k] for k in OLD_SUMMARY} == OLD_SUMMARY  # readers keep their keys
    md = render_markdown(report)
    assert "| strategy | Mono mAP | Cross mAP | Multi mAP |" in md and "LPR ↓" in md and "TLR@10" in md
    assert (
        "seen LPR ↓" in md
        and "| base | 0.800 | 0.600 | 0.300 | 0.700 | 0.500 | 0.400 | 1,232 | – | – |" in md
    )


def test_write_with_bias_scores(tmp_path):
    data = old_comparison(tmp_path)
    for result in data["strategies"].values():
        result["summary"] |= {"lpr": 0.9, "tlr10": 0.35}
    report = ComparisonReport.model_validate(data)
    write_comparison(report, tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "comparison.json",
        "comparison.md",
        "map_by_strategy.png",
        "rank_distance_by_strategy.png",
        "seen_vs_unseen.png",
    ]
    md = (tmp_path / "out" / "comparison.md").read_text(encoding="utf-8")
    assert "| 1,232 | 0.900 | 0.350 |" in md
    again = ComparisonReport.model_validate_json((tmp_path / "out" / "comparison.json").read_text("utf-8"))
    assert again.strategies["hybrid"].summary == report.strategies["hybrid"].summary
