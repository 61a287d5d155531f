"""A short run on the tiny model with one source of every kind: qa, bitext and pairs, with weights."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from tests.data.test_bitext import write_bitext, write_pairs

from hybridbatch.errors import ConfigError
from hybridbatch.training import TrainConfig, train
from hybridbatch.training.jsonl import read_jsonl


def _config(
    toy_dir: Path, tmp_path: Path, bitext_weight: float = 0.4, steps: int = 24, **extra
) -> TrainConfig:
    bitext = write_bitext(tmp_path / "bitext", documents=["d1", "d1", "d2", "d2"])
    pairs = write_pairs(tmp_path / "marco.jsonl")
    data = [f"{toy_dir}@0.3", f"{bitext}@{bitext_weight}", f"{pairs}@0.3"]
    settings = {
        "model": "builtin:tiny",
        "data": data,
        "batch_size": 2,
        "steps": steps,
        "lr": 1e-3,
        "warmup_steps": 0,
        "hard_negatives": 1,
        "dev_fraction": 0.0,
        "checkpoint_every": 0,
        "out": tmp_path / "run",
        "log_batches": tmp_path / "batches.jsonl",
        "show_progress": False,
        "num_threads": 1,
    }
    return TrainConfig(**{**settings, **extra})


def test_train_on_qa_bitext_and_pairs_sources(toy_dir: Path, tmp_path: Path) -> None:
    config = _config(toy_dir, tmp_path)
    assert [str(s) for s in config.data][1:] == [
        f"bitext:{tmp_path / 'bitext'}@0.4",
        f"pairs:{tmp_path / 'marco.jsonl'}@0.3",
    ]  # the kinds (detected from the layouts) and weights are part of the fingerprinted settings
    result = train(config)
    assert result.steps == 24
    batches = read_jsonl(tmp_path / "batches.jsonl")
    kinds = Counter((b["source"], b["kind"]) for b in batches)
    sources = {source for source, _ in kinds}
    assert sources == {"toy:train", "bitext", "marco:train"}, kinds
    assert not [b for b in batches if b["source"] == "bitext" and b["kind"] != "xy"]
    for batch in batches:
        assert len({p["id"] for p in batch["pairs"]}) == len(batch["pairs"])
    losses = [r["loss"] for r in read_jsonl(tmp_path / "run" / "metrics.jsonl") if "loss" in r]
    assert len(losses) == 24 and all(loss == loss and loss >= 0 for loss in losses)
    meta = json.loads((result.model_dir / "hybridbatch_training.json").read_text(encoding="utf-8"))
    assert {d["kind"] for d in meta["datasets"]} == {"qa", "bitext", "pairs"}


def test_a_resumed_run_refuses_other_weights(toy_dir: Path, tmp_path: Path) -> None:
    train(_config(toy_dir, tmp_path, steps=2, checkpoint_every=1))
    with pytest.raises(ConfigError, match=r"cannot resume .*data"):
        train(_config(toy_dir, tmp_path, bitext_weight=0.5, steps=2, checkpoint_every=1))
