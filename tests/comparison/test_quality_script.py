"""`benchmarks/quality.py` (ends `make demo`): which comparison it reads, what it says of precision."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import load_benchmark
from hybridbatch.comparison.runs.config import ComparisonSettings
from hybridbatch.comparison.runs.results import ComparisonReport


def _quality():
    return load_benchmark("quality")


def test_a_demo_directory_resolves_to_its_newest_comparison(tmp_path: Path) -> None:
    quality = _quality()
    (tmp_path / "bf16").mkdir()
    fp32, bf16 = tmp_path / "comparison.json", tmp_path / "bf16" / "comparison.json"
    fp32.write_text("{}")
    bf16.write_text("{}")
    os.utime(fp32, (1, 1))  # the fp32 report is the older one
    assert quality.comparison_file(tmp_path) == bf16
    assert quality.comparison_file(fp32) == fp32
    assert quality.comparison_file(tmp_path / "none") == tmp_path / "none"


def test_the_report_names_the_precision_of_its_numbers(tmp_path: Path) -> None:
    config = ComparisonSettings(out=tmp_path, precision="bf16", train_precision="fp32")
    report = ComparisonReport(config=config, train_languages=[], primary_eval="xquad-r", strategies={})
    line = _quality().precision_line(report)
    assert "encoded in **bf16**" in line and "trained in **fp32**" in line


def test_the_recipe_section_quotes_the_studys_paired_tests(tmp_path: Path) -> None:
    import json

    test = {"difference": 0.012, "ci_low": 0.008, "ci_high": 0.016, "p_value": 0.0001, "mean_a": 0.798}
    rows = {"new": {"Multi mAP": {"label": "Multi mAP", "test": {**test, "mean_b": 0.786}}}}
    summary = {
        "study": "long-tail",
        "reference": "hybrid",
        "precision": "bf16",
        "seeds": [0],
        "trainer_dev": {"hybrid": {"mono_map": 0.843, "cross_map": 0.793}},
        "significance": [{"dataset": "xquad-r", "rows": {**rows, "hybrid": {}}}],
    }
    path = tmp_path / "long-tail.json"
    path.write_text(json.dumps(summary))
    lines = _quality().recipe_section(path, "new")
    assert lines[0] == "## Default recipe: `hybrid` (old) → `new` (new), issue 22"
    assert "| xquad-r | Multi mAP | 0.786 | 0.798 | +0.012 [+0.008, +0.016] | 0.0001 |" in lines
    assert "hybrid Mono 0.843 / Cross 0.793" in "\n".join(lines)
    three = {"scores": {"hybrid": {"mono_map": 0.843, "cross_map": 0.794, "multi_map": 0.718}}}
    (tmp_path / "long-tail-mlqa-dev.json").write_text(json.dumps(three))  # mlqa_dev_settings.py's output
    text = "\n".join(_quality().recipe_section(path, "new"))
    assert "(Mono / Cross / Multi): hybrid 0.843 / 0.794 / 0.718" in text


def test_an_unknown_recipe_is_one_error_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import json

    import pytest

    summary = tmp_path / "s.json"
    summary.write_text(json.dumps({"significance": [{"dataset": "x", "rows": {"hybrid": {}}}]}))
    (tmp_path / "comparison.json").write_text("{}")
    argv = ["quality.py", str(tmp_path), "--out", str(tmp_path / "q.md"), "--recipe-study", str(summary)]
    monkeypatch.setattr("sys.argv", [*argv, "--recipe", "nope"])
    with pytest.raises(SystemExit) as exit_:
        _quality().main()
    assert exit_.value.code == 2 and not (tmp_path / "q.md").exists()
    assert capsys.readouterr().err.strip() == f"error: --recipe: 'nope' is not a run of {summary}"
