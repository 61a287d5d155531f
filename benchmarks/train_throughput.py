"""Training throughput: our trainer vs a plain sentence-transformers MultipleNegativesRankingLoss loop.

All variants train on the *same* texts — the first ``warmup + steps`` hybrid batches (α = 0.5) of
MLQA-R drawn by our sampler with one seed — with the same model, global batch size, maximum length
(queries and passages alike), AdamW (lr 3e-5, weight decay 0.01) and gradient clipping at 1.0:

1. ``sentence-transformers``: a hand-written loop as ``SentenceTransformerTrainer`` runs it —
   ``model.preprocess`` of anchors/positives with the ``query``/``passage`` prompts (padding to the
   longest text), ``MultipleNegativesRankingLoss`` (scale 20 = τ 0.05), backward, clip, AdamW step.
   The whole model is trained (ST's default).
2. ``hybridbatch``: :func:`hybridbatch.training.train` with the same settings (embeddings trainable).
3. ``hybridbatch + freeze_embeddings``: the word-embedding matrix frozen (our default).
4. ``hybridbatch, padding=max_length``: as 2 but every text padded to the maximum length, to show what
   dynamic padding saves.

A step's time covers building texts, tokenizing, forward, backward and the optimizer step; the first
``--warmup`` steps of each variant are not timed. pairs/s = batch size / median timed step (the mean
is in ``--json``; the median resists bursts of other processes on a shared machine). Usage::

    python benchmarks/train_throughput.py [--model builtin:multilingual-e5-small] [--batch-size 32]
        [--steps 10] [--warmup 2] [--max-length 128] [--threads N] [--repeats R] [--json out.json]

On a CPU shared with other jobs, ``--threads 1`` avoids OpenMP threads waiting on each other, and
``--repeats 2`` runs the variants again in reverse order and keeps each one's fastest repeat, so that
load drifting over the run does not favour whichever variant ran first or last.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from hybridbatch.models import load_model
from hybridbatch.sampling import build_sampler
from hybridbatch.training import TrainConfig, train
from hybridbatch.training.data import prepare_data
from hybridbatch.training.features import BatchTexts, batch_texts
from hybridbatch.training.jsonl import read_jsonl


def planned_texts(config: TrainConfig, steps: int) -> list[BatchTexts]:
    """The texts of the first ``steps`` batches our trainer trains on with ``config``."""
    data = prepare_data(config)
    sampler = build_sampler(config.sampler_config(config.total_steps(data.num_pairs)), data.train)
    return [batch_texts(sampler.batch_at(step), sampler.sources) for step in range(steps)]


def st_loop(model_spec: str, texts: list[BatchTexts], max_length: int, lr: float) -> list[float]:
    """Seconds per step of a plain sentence-transformers MNRL training loop."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.manual_seed(0)
    model = load_model(model_spec)
    model.max_seq_length = max_length
    loss_fn = MultipleNegativesRankingLoss(model, scale=20.0)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    device = model.device
    model.train()
    seconds = []
    for batch in texts:
        start = time.perf_counter()
        features = [
            model.preprocess(batch.queries, prompt=model.prompts["query"]),
            model.preprocess(batch.docs, prompt=model.prompts["passage"]),
        ]
        features = [{k: v.to(device) if torch.is_tensor(v) else v for k, v in f.items()} for f in features]
        loss = loss_fn(features, None)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def ours(config: TrainConfig) -> list[float]:
    """Seconds per step of our trainer (from its ``metrics.jsonl``)."""
    train(config)
    return [r["seconds"] for r in read_jsonl(Path(config.out) / "metrics.jsonl") if "loss" in r]


def rate(seconds: list[float], warmup: int, batch_size: int) -> dict[str, float]:
    """pairs/s from the median timed step (robust to other processes' bursts) and from the mean."""
    timed = seconds[warmup:]
    return {
        "pairs_per_second": batch_size / statistics.median(timed),
        "mean_pairs_per_second": batch_size * len(timed) / sum(timed),
        "median_step_seconds": statistics.median(timed),
        "timed_steps": len(timed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:multilingual-e5-small")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per variant")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="repeat all variants in ABBA order")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    total = args.warmup + args.steps
    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        base = TrainConfig(
            model=args.model,
            data=["mlqa-r"],
            batch_size=args.batch_size,
            steps=total,
            lr=args.lr,
            warmup_steps=0,
            max_query_length=args.max_length,
            max_passage_length=args.max_length,
            freeze_embeddings=False,
            dev_fraction=0.0,
            checkpoint_every=0,
            seed=args.seed,
            num_threads=args.threads,
            out=Path(tmp) / "ours",
            show_progress=False,
        )
        texts = planned_texts(base, total)
        variants = {
            "sentence-transformers MNRL loop": lambda: st_loop(args.model, texts, args.max_length, args.lr),
            "hybridbatch": lambda: ours(base),
            "hybridbatch + freeze_embeddings": lambda: ours(
                base.model_copy(update={"freeze_embeddings": True, "out": Path(tmp) / "frozen"})
            ),
            "hybridbatch, padding=max_length": lambda: ours(
                base.model_copy(update={"padding": "max_length", "out": Path(tmp) / "maxpad"})
            ),
        }
        results: dict[str, dict[str, float]] = {}
        for repeat in range(args.repeats):  # ABBA order; keep each variant's fastest repeat
            names = list(variants) if repeat % 2 == 0 else list(reversed(variants))
            for name in names:
                print(f"running {name} (repeat {repeat + 1}/{args.repeats}) ...", flush=True)
                measured = rate(variants[name](), args.warmup, args.batch_size)
                best = results.get(name)
                if best is None or measured["pairs_per_second"] > best["pairs_per_second"]:
                    results[name] = measured
        results = {name: results[name] for name in variants}

    st = results["sentence-transformers MNRL loop"]["pairs_per_second"]
    plain = results["hybridbatch"]["pairs_per_second"]
    print(
        f"\nmodel {args.model}, batch {args.batch_size}, max length {args.max_length}, "
        f"{args.steps} timed steps after {args.warmup} warmup, torch threads {torch.get_num_threads()}"
    )
    print(f"{'variant':36s} {'pairs/s':>9s} {'s/step':>8s} {'vs ST':>7s} {'vs ours':>8s}")
    for name, r in results.items():
        pps = r["pairs_per_second"]
        print(f"{name:36s} {pps:9.2f} {r['median_step_seconds']:8.2f} {pps / st:7.2f} {pps / plain:8.2f}")
    frozen = results["hybridbatch + freeze_embeddings"]["pairs_per_second"]
    maxpad = results["hybridbatch, padding=max_length"]["pairs_per_second"]
    summary = {
        "ratio_ours_vs_st": plain / st,
        "gain_freeze_embeddings": frozen / plain,
        "gain_dynamic_padding": plain / maxpad,
    }
    print(
        f"\nours / sentence-transformers = {summary['ratio_ours_vs_st']:.2f} (target >= 1.0); "
        f"freeze_embeddings x{summary['gain_freeze_embeddings']:.2f}; "
        f"dynamic padding x{summary['gain_dynamic_padding']:.2f} vs padding to {args.max_length}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, **summary, "variants": results})
        )


if __name__ == "__main__":
    main()
