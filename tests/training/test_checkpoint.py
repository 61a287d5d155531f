"""Checkpoint files and resumable JSONL logs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from hybridbatch.errors import ConfigError
from hybridbatch.training.checkpoint import (
    list_checkpoints,
    load_checkpoint,
    restore_weights,
    save_checkpoint,
)
from hybridbatch.training.jsonl import StepLog, read_jsonl


def _model() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    return model


def test_save_load_prune(tmp_path: Path):
    model = _model()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    model[1](torch.ones(1, 4)).sum().backward()
    opt.step()
    for step in (2, 4, 6):
        save_checkpoint(tmp_path, step, model, opt, sched, {"note": step}, keep=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [4, 6]
    ckpt = load_checkpoint(list_checkpoints(tmp_path)[-1][1])
    assert ckpt.step == 6 and ckpt.state["note"] == 6
    assert set(ckpt.weights) == {"1.weight", "1.bias"}  # the frozen embedding is not stored
    fresh = _model()
    assert not torch.equal(fresh[1].weight, model[1].weight)
    restore_weights(fresh, ckpt.weights, ckpt.path)
    assert torch.equal(fresh[1].weight, model[1].weight)
    fresh[0].weight.requires_grad_(True)
    with pytest.raises(ConfigError, match="freeze_embeddings"):
        restore_weights(fresh, ckpt.weights, ckpt.path)


def test_incomplete_checkpoint_is_ignored(tmp_path: Path):
    (tmp_path / "checkpoints" / "step-000009").mkdir(parents=True)  # no state.json: a crash mid-write
    assert list_checkpoints(tmp_path) == []


def test_step_log_truncates_on_resume(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    with StepLog(path, keep_upto=-1) as log:
        for step in range(6):
            log.write({"step": step})
    with path.open("a") as handle:
        handle.write('{"step": 6, "cut')  # a line cut by SIGKILL
    with StepLog(path, keep_upto=3) as log:
        log.write({"step": 4, "again": True})
    records = read_jsonl(path)
    assert [r["step"] for r in records] == [0, 1, 2, 3, 4]
    assert records[-1]["again"] is True
    with StepLog(path, keep_upto=-1):
        pass
    assert path.read_text() == ""


def test_leftovers_of_interrupted_writes_are_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from hybridbatch.training import TrainConfig
    from hybridbatch.training.checkpoint import Checkpointer
    from hybridbatch.training.distributed import DistributedContext

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    out = tmp_path / "run"
    (out / "checkpoints" / "step-000004").mkdir(parents=True)
    (out / "checkpoints" / "step-000004" / "state.json").write_text("{}")
    leftovers = [
        out / "checkpoints" / f".step-000006.hb{pid}-abc.tmp",  # killed inside a checkpoint write
        out / f".model.hb{pid}-xyz.tmp",  # killed while saving the final model
        out / "checkpoints" / ".step-000002.k3j_x.tmp",  # written by an older version
    ]
    for path in leftovers:
        path.mkdir()
        (path / "weights").write_bytes(b"0" * 100)
    removed = Checkpointer(TrainConfig(out=out), DistributedContext()).clean_leftovers()
    assert sorted(removed) == sorted(leftovers)
    assert not any(p.exists() for p in leftovers)
    assert (out / "checkpoints" / "step-000004" / "state.json").is_file()


def test_run_dir_guard(tmp_path: Path) -> None:
    from hybridbatch.errors import OutputError
    from hybridbatch.training.checkpoint import prepare_run_dir

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("x")
    with pytest.raises(OutputError, match="--overwrite"):
        prepare_run_dir(notes)
    assert prepare_run_dir(notes, overwrite=True) == notes
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "metrics.jsonl").write_text("")
    assert prepare_run_dir(run) == run  # a run (of any version) resumes
    assert prepare_run_dir(tmp_path / "new") == tmp_path / "new"


def test_batch_log_guard(tmp_path: Path) -> None:
    """--log-batches: an existing log is continued by a resumed run, else replaced only with --overwrite."""
    from hybridbatch.errors import OutputError
    from hybridbatch.training.checkpoint import prepare_batch_log

    log, fresh, run = tmp_path / "batches.jsonl", tmp_path / "new", tmp_path / "run"
    prepare_batch_log(None, fresh)
    prepare_batch_log(log, fresh)
    log.write_text('{"step": 0}\n', encoding="utf-8")
    with pytest.raises(OutputError, match=r"--log-batches .*batches\.jsonl: file exists; pass --overwrite"):
        prepare_batch_log(log, fresh)
    prepare_batch_log(log, fresh, overwrite=True)
    run.mkdir()
    (run / "metrics.jsonl").write_text("", encoding="utf-8")
    prepare_batch_log(log, run)  # the run resumes and continues its log
    with pytest.raises(OutputError, match="is a directory"):
        prepare_batch_log(run, run)
    assert log.read_text(encoding="utf-8") == '{"step": 0}\n'


def test_metrics_log_has_no_bare_nan(tmp_path: Path) -> None:
    import json

    from hybridbatch.training.jsonl import StepLog

    with StepLog(tmp_path / "m.jsonl", -1) as log:
        log.write(
            {"step": 1, "loss": float("nan"), "dev": {"mono_map": float("inf")}, "list": [float("-inf")]}
        )
    text = (tmp_path / "m.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"step": 1, "loss": None, "dev": {"mono_map": None}, "list": [None]}
