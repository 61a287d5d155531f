"""``hybridbatch train`` under ``torchrun --nproc_per_node 2`` (gloo, CPU) on the tiny model.

Checks issue 6's contract end to end: each step's global batch is drawn once from (seed, step) and
sliced per rank (same kind and X-X language on every rank, disjoint ids, slices concatenating to the
single-process plan), GradCache and cross-device negatives run, rank 0 writes a loadable model, and a
run that lost its final model resumes from the last checkpoint to the same weights and batches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hybridbatch.training.jsonl import read_jsonl

from .test_distributed import free_port

pytestmark = pytest.mark.slow

TINY, WORLD, BATCH, STEPS = "builtin:tiny", 2, 8, 4


def plan(data: Path, seed: int) -> list:
    """The global batches a single-process run with these settings trains on."""
    from hybridbatch.sampling import build_sampler
    from hybridbatch.training import TrainConfig
    from hybridbatch.training.data import prepare_data

    config = TrainConfig(
        model=TINY, data=[str(data)], batch_size=BATCH, steps=STEPS, seed=seed, hard_negatives=1, out="unused"
    )
    sampler = build_sampler(config.sampler_config(STEPS), prepare_data(config).train)
    return list(sampler.batches(0, STEPS))


def _mixed(batches: list) -> bool:
    return {b.kind for b in batches} == {"xx", "xy"}


def torchrun(data: Path, out: Path, seed: int, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        str(WORLD),
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        "-m",
        "hybridbatch.cli",
        "train",
        "--model",
        TINY,
        "--data",
        str(data),
        "--batch-size",
        str(BATCH),
        "--steps",
        str(STEPS),
        "--seed",
        str(seed),
        "--hard-negatives",
        "1",
        "--mini-batch-size",
        "2",
        "--checkpoint-every",
        "2",
        "--lr",
        "1e-3",
        "--threads",
        "1",
        "--log-batches",
        str(out / "batches.jsonl"),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done


def test_torchrun_two_ranks_train_slices_of_one_global_batch(mlqa_small: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    # A seed whose first steps hold both batch kinds, so both are checked.
    seed, planned = next((s, p) for s, p in ((s, plan(mlqa_small, s)) for s in range(20)) if _mixed(p))
    out = tmp_path / "run"
    torchrun(mlqa_small, out, seed)

    by_step: dict[int, dict[int, dict]] = defaultdict(dict)
    for record in read_jsonl(out / "batches.jsonl"):
        assert record["world_size"] == WORLD
        by_step[record["step"]][record["rank"]] = record
    assert sorted(by_step) == list(range(STEPS))
    for step, ranks in by_step.items():
        assert sorted(ranks) == list(range(WORLD))
        kinds = {r["kind"] for r in ranks.values()}
        assert len(kinds) == 1, f"step {step}: ranks disagree on the batch kind {kinds}"
        assert len({r["language"] for r in ranks.values()}) == 1
        ids = [{p["id"] for p in r["pairs"]} for r in ranks.values()]
        assert not set.intersection(*ids), f"step {step}: an id is on two ranks"
        pairs = [p for rank in range(WORLD) for p in ranks[rank]["pairs"]]
        assert any(p.get("negatives") for p in pairs)  # hard negatives (a 1-sentence paragraph has none)
        if kinds == {"xx"}:
            assert {(p["query_lang"], p["passage_lang"]) for p in pairs} == {(ranks[0]["language"],) * 2}
        else:
            assert all(p["query_lang"] != p["passage_lang"] for p in pairs)
        # The slices, in rank order, are the single-process global batch of this step.
        want = planned[step]
        assert ranks[0]["kind"] == want.kind
        assert [(p["id"], p["query_lang"], p["passage_lang"], p.get("negatives", [])) for p in pairs] == [
            (p.id, p.query_lang, p.passage_lang, list(p.negatives)) for p in want.pairs
        ]

    model_dir = out / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    assert model.encode(["query: wo ist der Turm?"]).shape[0] == 1
    metrics = read_jsonl(out / "metrics.jsonl")
    assert [r["step"] for r in metrics if "loss" in r] == list(range(1, STEPS + 1))  # rank 0 only

    # Lose the final model (a crash after the last step): the rerun resumes from step 2.
    weights = load_file(str(model_dir / "model.safetensors"))
    batches = (out / "batches.jsonl").read_text()
    shutil.rmtree(model_dir)
    resumed = torchrun(mlqa_small, out, seed)
    assert "resumed from step 2" in resumed.stdout
    again = load_file(str(model_dir / "model.safetensors"))
    assert weights.keys() == again.keys()
    assert all(torch.allclose(weights[k], again[k], atol=1e-6) for k in weights)
    assert (out / "batches.jsonl").read_text() == batches


@pytest.mark.parametrize("stream", [False, True], ids=["distill-batch", "distill-stream+lora"])
def test_torchrun_with_distillation_and_lora(mlqa_small: Path, tmp_path: Path, stream: bool) -> None:
    """Issue 22 under DDP: distillation on the batch's texts (a rank-local term in the GradCache objective)
    or on a stream (its own pass under no_sync) with LoRA adapters trains on two ranks, rank 0 writes the
    model (merged, and the adapter beside it), and a lost final model resumes to the same weights."""
    from sentence_transformers import SentenceTransformer

    extra = ["--distill-weight", "1"]
    if stream:
        bitext = tmp_path / "bitext"
        bitext.mkdir()
        pairs = {"en": ["One cat.", "Two dogs.", "Red house."], "de": ["Eine Katze.", "Zwei Hunde.", "Rot."]}
        for lang, lines in pairs.items():
            (bitext / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        extra += ["--distill-mode", "english", "--distill-data", str(bitext), "--lora-rank", "2"]
    out = tmp_path / "run"
    done = torchrun(mlqa_small, out, 0, *extra)
    assert "teacher" in done.stdout
    metrics = [r for r in read_jsonl(out / "metrics.jsonl") if "loss" in r]
    assert len(metrics) == STEPS and all(r["distill"] > 0 and r["teacher_seconds"] > 0 for r in metrics)
    assert (out / "adapter" / "adapter_config.json").is_file() == stream
    assert SentenceTransformer(str(out / "model"), device="cpu").encode(["query: wo?"]).shape[0] == 1
    weights = load_file(str(out / "model" / "model.safetensors"))
    shutil.rmtree(out / "model")
    resumed = torchrun(mlqa_small, out, 0, *extra)
    assert "resumed from step 2" in resumed.stdout
    again = load_file(str(out / "model" / "model.safetensors"))
    assert all(torch.allclose(weights[k], again[k], atol=1e-6) for k in weights)
