"""Report files and plots; the CLI's one-line errors."""

from __future__ import annotations

import json
import sys

import pytest
from tests.evaluation.test_evaluate import StubModel

from hybridbatch.cli import main
from hybridbatch.evaluation import EncodeOptions, EvaluationReport, evaluate

SUMMARY_KEYS = {"mono_map", "cross_map", "multi_map", "mono_r1", "cross_r1", "multi_r10", "rank_distance"}


def test_report_files_and_plots(toy_dir, tmp_path):
    out = tmp_path / "out"
    quiet = EncodeOptions(show_progress=False)
    report = evaluate(StubModel(), [str(toy_dir)], out=out, encoding=quiet, train_languages=["en", "de"])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["heatmap_toy.png", "per_query.json", "rank_distance_toy.png", "report.json", "report.md"]
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    data = json.loads((out / "report.json").read_text())
    assert SUMMARY_KEYS | {"main_score"} <= set(data["summary"])
    assert data["summary"]["multi_map"] == pytest.approx(report.summary.multi_map)
    loaded = EvaluationReport.model_validate(data)
    assert loaded.datasets["toy"].summary == report.summary
    assert loaded.datasets["toy"].summary_unseen.mono_map is not None
    per_query = json.loads((out / "per_query.json").read_text())["toy"]
    assert {"mono_ap", "cross_ap", "multi_ap", "rank_distance", "lpr", "tlr10"} <= set(per_query)
    assert len(per_query["multi_ap"]) == report.datasets["toy"].num_queries
    md = (out / "report.md").read_text()
    assert "LPR ↓" in md and "TLR@10" in md
    assert "| toy |" in md and "X→Y mAP" in md and "| es | no |" in md and "![heatmap_toy.png]" in md
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["hybridbatch", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


def test_cli_unknown_dataset(monkeypatch, capsys, tmp_path):
    code, err = run_cli(
        monkeypatch,
        capsys,
        "evaluate",
        "--model",
        "builtin:tiny",
        "--data",
        "xquad-x",
        "--out",
        str(tmp_path),
    )
    assert code == 2
    assert err.count("\n") == 1 and "xquad-x" in err


def test_cli_missing_model(monkeypatch, capsys, toy_dir, tmp_path):
    missing = str(tmp_path / "no-such-model")
    code, err = run_cli(
        monkeypatch, capsys, "evaluate", "--model", missing, "--data", str(toy_dir), "--out", "x"
    )
    assert code == 2
    assert err.count("\n") == 1 and "no-such-model" in err


def test_cli_bad_settings(monkeypatch, capsys, toy_dir, tmp_path):
    code, err = run_cli(
        monkeypatch,
        capsys,
        "evaluate",
        "--model",
        "builtin:tiny",
        "--data",
        str(toy_dir),
        "--out",
        "x",
        "--settings",
        "mono,multy",
    )
    assert code == 2 and "multy" in err and err.count("\n") == 1


def test_cli_bad_precision(monkeypatch, capsys, toy_dir, tmp_path):
    code, err = run_cli(
        monkeypatch,
        capsys,
        "evaluate",
        "--model",
        "builtin:tiny",
        "--data",
        str(toy_dir),
        "--out",
        str(tmp_path / "out"),
        "--precision",
        "fp16",
    )
    assert code == 2 and err.count("\n") == 1 and "--precision" in err and "fp16" in err
    assert not (tmp_path / "out").exists()
