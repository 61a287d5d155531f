"""CLI wiring of the report-writing commands: outputs are marked, rerun in place, never clobbered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridbatch.io import MARKER


@pytest.fixture(autouse=True)
def _reuse_tiny_model(monkeypatch, tiny_model) -> None:
    import hybridbatch.models

    real = hybridbatch.models.load_model
    monkeypatch.setattr(
        hybridbatch.models,
        "load_model",
        lambda spec, *a, **kw: tiny_model if spec == "builtin:tiny" else real(spec, *a, **kw),
    )


def test_evaluate_marks_its_output_and_reruns_in_place(cli, toy_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    args = ["evaluate", "--model", "builtin:tiny", "--data", str(toy_dir), "--no-cache", "--out", str(out)]
    for _ in range(2):  # the second run finds its own report and replaces it without --overwrite
        code, _, err = cli(*args)
        assert code == 0, err
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["kind"] == "evaluation" and {"report.json", "report.md"} <= set(marker["files"])
    code, _, err = cli("index", "--model", "builtin:tiny", "--corpus", str(toy_dir), "--out", str(out))
    assert code == 2 and "holds a hybridbatch evaluation, not a hybridbatch index" in err


def test_evaluate_overwrite_keeps_what_was_there(cli, toy_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    args = ["evaluate", "--model", "builtin:tiny", "--data", str(toy_dir), "--no-cache", "--out", str(out)]
    code, _, err = cli(*args)
    assert code == 2 and "pass --overwrite" in err and not (out / "report.json").exists()
    code, _, err = cli(*args, "--overwrite")
    assert code == 0, err
    assert (out / "mine.txt").read_text(encoding="utf-8") == "keep" and (out / "report.json").is_file()
    assert "mine.txt" not in json.loads((out / MARKER).read_text(encoding="utf-8"))["files"]
