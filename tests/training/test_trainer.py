"""The trainer on the tiny model: it learns, writes a loadable model, resumes exactly, refuses changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hybridbatch.errors import ConfigError
from hybridbatch.evaluation.dev import lareqa_dev_scores
from hybridbatch.models.capability import detect
from hybridbatch.training import TrainConfig, train
from hybridbatch.training.jsonl import read_jsonl

TINY = "builtin:tiny"


@pytest.fixture
def threads_one():
    """Train with one torch thread (deterministic, polite on shared CPUs); restore afterwards."""
    before = torch.get_num_threads()
    yield 1
    torch.set_num_threads(before)


def _losses(out: Path) -> list[float]:
    return [r["loss"] for r in read_jsonl(out / "metrics.jsonl") if "loss" in r]


def test_overfits_toy_and_saves_a_loadable_model(toy_dir: Path, tmp_path: Path, threads_one: int):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "run"
    config = TrainConfig(
        model=TINY,
        data=[str(toy_dir)],
        sampler="xx",
        batch_size=3,
        steps=20,
        lr=3e-3,
        warmup_steps=0,
        dev_fraction=0.0,
        checkpoint_every=0,
        out=out,
        show_progress=False,
        num_threads=threads_one,
    )
    result = train(config)
    losses = _losses(out)
    assert len(losses) == 20
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5, losses
    assert result.steps == 20 and result.pairs_per_second > 0 and result.dev_metrics == {}
    assert result.train_languages == ["de", "en", "es"]

    model = SentenceTransformer(str(result.model_dir))
    assert model.prompts["query"] == "query: "
    q = model.encode(["Wer schrieb das Buch?"], prompt_name="query", convert_to_tensor=True)
    docs = ["Anna schrieb das Buch.", "Er ist hoch."]
    d = model.encode(docs, prompt_name="passage", convert_to_tensor=True)
    assert (q @ d.T).argmax().item() == 0  # the trained pair wins
    meta = json.loads((result.model_dir / "hybridbatch_training.json").read_text())
    assert meta["train_languages"] == ["de", "en", "es"] and meta["sampler"]["strategy"] == "xx"
    assert meta["result"]["steps"] == 20
    assert meta["cpu"]["bf16_flags"] == list(detect().bf16_flags)  # the CPU it trained on
    card = (result.model_dir / "README.md").read_text()
    assert "| strategy | xx |" in card and "toy" in card
    assert "| hard negatives of X-Y pairs from | passage |" in card


def test_mlqa_adaptive_alpha_eval_log_and_rerun(mlqa_small: Path, tmp_path: Path, threads_one: int):
    out, log = tmp_path / "run", tmp_path / "batches.jsonl"
    config = TrainConfig(
        model=TINY,
        data=[str(mlqa_small)],
        batch_size=8,
        steps=6,
        schedule="adaptive",
        adaptive_every=2,
        adaptive_lr=0.5,
        dev_fraction=0.1,
        checkpoint_every=3,
        out=out,
        log_batches=log,
        mini_batch_size=4,
        show_progress=False,
        num_threads=threads_one,
    )
    with pytest.raises(ConfigError, match=r"adaptive.*dev_scorer"):
        train(config)  # the adaptive α needs dev scores: training does not import evaluation
    result = train(config, lareqa_dev_scores)
    assert set(result.dev_metrics) == {"mono_map", "cross_map", "multi_map"}
    assert 0 < result.dev_metrics["mono_map"] <= 1 and 0 < result.dev_metrics["multi_map"] <= 1
    records = read_jsonl(out / "metrics.jsonl")
    dev = [r for r in records if r.get("event") == "dev"]
    assert [r["step"] for r in dev] == [2, 4, 6]
    observed = {r["step"]: r["alpha"] for r in dev if "alpha" in r}
    assert set(observed) == {2, 4}
    batches = read_jsonl(log)
    assert [b["step"] for b in batches] == list(range(6))
    assert all(b["rank"] == 0 and len(b["pairs"]) == 8 for b in batches)
    # α of a batch is the value set by the last observation at or before its step
    assert batches[2]["alpha"] == observed[2] and batches[5]["alpha"] == observed[4]
    assert batches[0]["alpha"] == 0.5
    meta = json.loads((out / "model" / "hybridbatch_training.json").read_text())
    assert len(meta["alpha_history"]) == 2

    again = train(config, lareqa_dev_scores)  # finished: returns the stored result without training
    assert again.steps == 6 and again.dev_metrics == result.dev_metrics
    with pytest.raises(ConfigError, match=r"lr: 3e-05 -> 0\.001"):
        train(config.model_copy(update={"lr": 1e-3}), lareqa_dev_scores)


def test_dev_scorer_is_handed_in(mlqa_small: Path, tmp_path: Path, threads_one: int):
    """The trainer scores the dev split with the scorer it is given (training imports no evaluation)."""
    calls: list[tuple[int, list[str]]] = []

    def scorer(model, dev, train_languages):
        calls.append((sum(len(c.ids) for c in dev), train_languages))
        return {"mono_map": 0.25, "cross_map": 0.5}

    config = TrainConfig(
        model=TINY,
        data=[str(mlqa_small)],
        batch_size=4,
        steps=2,
        eval_every=1,
        dev_fraction=0.1,
        checkpoint_every=0,
        out=tmp_path / "run",
        show_progress=False,
        num_threads=threads_one,
    )
    result = train(config, scorer)
    assert len(calls) == 2 and calls[0][0] > 0 and calls[0][1] == result.train_languages
    assert result.dev_metrics == {"mono_map": 0.25, "cross_map": 0.5}
    dev = [r for r in read_jsonl(tmp_path / "run" / "metrics.jsonl") if r.get("event") == "dev"]
    assert [(r["step"], r["mono_map"]) for r in dev] == [(1, 0.25), (2, 0.25)]
    assert train(config.model_copy(update={"out": tmp_path / "plain"})).dev_metrics == {}  # no scorer


def test_gradcache_gradients_match_plain(tiny_model, mlqa_small: Path):
    """GradCache chunks (length-sorted, trimmed, labels permuted) give the plain full-batch gradient."""
    from hybridbatch.data import load_collection
    from hybridbatch.sampling import SamplerConfig, build_sampler
    from hybridbatch.training.features import batch_texts, tokenize
    from hybridbatch.training.losses import SymmetricInfoNCELoss
    from hybridbatch.training.step import contrastive_backward

    collection = load_collection(str(mlqa_small))
    sampler = build_sampler(SamplerConfig(batch_size=8, hard_negatives=1, seed=1), collection)
    texts = batch_texts(sampler.batch_at(0), sampler.sources)
    queries = tokenize(tiny_model, texts.queries, "query: ", 64)
    docs = tokenize(tiny_model, texts.docs, "passage: ", 128)
    assert len(texts.docs) > len(texts.queries)  # hard negatives present
    was_training = tiny_model.training
    tiny_model.eval()  # no dropout: both paths must see the same function
    grads, losses = [], []
    for mini in (None, 3):
        tiny_model.zero_grad(set_to_none=True)
        loss = contrastive_backward(tiny_model, SymmetricInfoNCELoss(0.05), queries, docs, texts.labels, mini)
        losses.append(loss.item())
        grads.append({n: p.grad.clone() for n, p in tiny_model.named_parameters() if p.grad is not None})
    tiny_model.zero_grad(set_to_none=True)
    tiny_model.train(was_training)  # the model is a shared session fixture
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 10
    for name, grad in grads[0].items():
        assert torch.allclose(grad, grads[1][name], atol=1e-5, rtol=1e-4), name


def _train_cmd(data: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hybridbatch.cli",
        "train",
        "--model",
        TINY,
        "--data",
        str(data),
        "--batch-size",
        "8",
        "--steps",
        "12",
        "--checkpoint-every",
        "4",
        "--seed",
        "3",
        "--threads",
        "1",
        "--no-freeze-embeddings",
        "--lr",
        "1e-3",
        "--log-batches",
        str(out / "batches.jsonl"),
        "--out",
        str(out),
        "--quiet",
    ]


def test_sigkill_resume_reproduces_uninterrupted_run(mlqa_small: Path, tmp_path: Path, threads_one: int):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    out = tmp_path / "killed"
    console = (tmp_path / "killed.log").open("wb")
    proc = subprocess.Popen(_train_cmd(mlqa_small, out), env=env, stdout=console, stderr=subprocess.STDOUT)
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        ready = (out / "checkpoints" / "step-000004" / "state.json").exists() and metrics.exists()
        if ready and any(r.get("step", 0) >= 6 and "loss" in r for r in read_jsonl(metrics)):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=60)
    console.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-2000:]
    assert not (out / "model").exists()
    logged = [b["step"] for b in read_jsonl(out / "batches.jsonl")]
    assert max(logged) >= 5  # steps past the checkpoint were logged and must not be duplicated

    changed = TrainConfig(model=TINY, data=[str(mlqa_small)], batch_size=8, steps=12, seed=4, out=out)
    with pytest.raises(ConfigError, match=r"cannot resume .*seed: 3 -> 4"):
        train(changed)

    cmd = _train_cmd(mlqa_small, out)
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from step" in resumed.stdout

    # the uninterrupted reference run, in-process with the same settings
    reference = TrainConfig(
        model=TINY,
        data=[str(mlqa_small)],
        batch_size=8,
        steps=12,
        checkpoint_every=0,
        seed=3,
        lr=1e-3,
        freeze_embeddings=False,
        out=tmp_path / "straight",
        show_progress=False,
        num_threads=threads_one,
    )
    train(reference)
    got = load_file(str(out / "model" / "model.safetensors"))
    want = load_file(str(tmp_path / "straight" / "model" / "model.safetensors"))
    assert got.keys() == want.keys()
    different = [k for k in want if not torch.equal(got[k], want[k])]
    assert not different, different[:5]
    steps = [b["step"] for b in read_jsonl(out / "batches.jsonl")]
    assert steps == list(range(12))
