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
