"""Efficiency against this machine's own limit: GEMM peak, training, encoding; ours vs sentence-transformers.

Everything below is measured in ONE run, on the machine it runs on (machines differ several-fold):

1. Peak: fp32 ``torch.mm`` at 2048² and at the model's shapes (T×384 @ 384×384, T×384 @ 384×1536,
   T×1536 @ 1536×384 with T = the real tokens of a demo step), best of ``--gemm-reps``.
2. Training step with the demo settings (``comparison/runs/config.py`` DEMO_TRAIN_SETTINGS: 32 queries +
   32 positives + 32 hard negatives from the hybrid sampler on MLQA-R, seed 0, max length 64, frozen
   word embeddings, AdamW lr 5e-5, clipping 1.0), on the same batches for every variant:
   - ``ours (improved)``: what the trainer runs since issue 13 — one packed forward for both sides
     (:func:`hybridbatch.training.speed.embed_packed`), ``make_adamw`` (multi-tensor AdamW on CPU,
     fused on CUDA), multi-tensor clipping;
   - ``ours (today)`` (``--baseline``): the path before issue 13 — each side in 16-row length buckets
     (``embed_bucketed``), the default (for-loop) AdamW, plain clipping;
   - ``sentence-transformers``: a plain loop — ``model.preprocess`` of the anchor/positive/negative
     columns (padded to the longest), ``MultipleNegativesRankingLoss`` (scale 20 = τ 0.05), backward,
     clip, AdamW; the word embeddings frozen as in ours, so both train the same parameters.
   A step's time covers tokenizing, forward, backward, clipping and the optimizer step.
3. Encoding a fixed XQuAD-R slice (the first ``--encode-per-lang`` candidates of every language, with
   the ``passage: `` prompt): ours (:func:`hybridbatch.models.encoding.encode_texts`, token-length
   batches), ours ``precision="int8"`` (dynamic int8 Linear layers) and ``SentenceTransformer.encode``;
   batch size 64.

Useful FLOPs (the standard dense-transformer count, Kaplan et al. 2020, arXiv 2001.08361): training
step = 6 × N × T, encoding = 2 × N × T, where N = non-embedding parameters (the encoder's matrices,
biases and norms: 21.3M for multilingual-e5-small) and T = real (non-padding) tokens. Padding, dropout
and the attention score/value products (4·L²·d per layer and text, forward) are NOT counted as useful;
the attention share is printed separately. Share of peak = useful FLOP/s ÷ the 2048² GEMM rate.

Timing: the CPU is shared (other jobs, a background training run), so each variant is timed both in
wall-clock seconds and in process CPU seconds. CPU seconds barely move when other processes take
turns on the cores; with ``--threads 1`` (default) no OpenMP thread spins either, so FLOP per CPU
second is the robust measure of the work each path needs, and the share of peak uses it (wall-clock
figures are printed beside it). Variants run in ABBA order over ``--repeats`` and keep the median of
their timed steps per repeat, then the best repeat. ``--baseline`` also checks that today's and the
improved path give the same gradients (dropout off, one batch). Usage::

    python benchmarks/efficiency.py [--baseline] [--steps 3] [--warmup 1] [--repeats 2] [--threads 1]
        [--encode-per-lang 24] [--no-int8] [--out benchmarks/efficiency.md] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from efficiency_parts import (
    StepTimes,
    demo_texts,
    encode_variants,
    gradient_check,
    ours_stepper,
    st_stepper,
    step_useful_flops,
)
from hybridbatch.io import atomic_write_text
from hybridbatch.models import load_model


def gemm(m: int, k: int, n: int, reps: int, dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Best-of-``reps`` GFLOP/s of an m×k @ k×n product in ``dtype`` (wall clock and CPU time)."""
    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    torch.mm(a, b)
    best_wall = best_cpu = float("inf")
    inner = max(1, int(2e9 // (2 * m * k * n)))  # ~2 GFLOP per timing
    for _ in range(reps):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(inner):
            torch.mm(a, b)
        best_wall = min(best_wall, (time.perf_counter() - wall) / inner)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / inner)
    flop = 2 * m * k * n
    return {"gflops_wall": flop / best_wall / 1e9, "gflops_cpu": flop / max(best_cpu, 1e-9) / 1e9}


def gemm_table(tokens: int, reps: int) -> dict[str, dict[str, float]]:
    shapes = {
        "2048x2048 @ 2048x2048": (2048, 2048, 2048),
        f"{tokens}x384 @ 384x384 (q/k/v/out)": (tokens, 384, 384),
        f"{tokens}x384 @ 384x1536 (FFN up)": (tokens, 384, 1536),
        f"{tokens}x1536 @ 1536x384 (FFN down)": (tokens, 1536, 384),
    }
    table = {name: gemm(*shape, reps) for name, shape in shapes.items()}
    # bf16 for reference (fast only on CPUs with AMX / AVX512-BF16): the ceiling of --precision bf16
    table["2048x2048 @ 2048x2048 bf16"] = gemm(2048, 2048, 2048, reps, torch.bfloat16)
    return table


def run_abba(variants: dict[str, Callable[[], StepTimes]], repeats: int) -> dict[str, StepTimes]:
    """Run every variant ``repeats`` times in ABBA order; keep each one's fastest (CPU) repeat."""
    best: dict[str, StepTimes] = {}
    for repeat in range(repeats):
        names = list(variants) if repeat % 2 == 0 else list(reversed(variants))
        for name in names:
            print(f"  {name} (repeat {repeat + 1}/{repeats}) ...", file=sys.stderr, flush=True)
            measured = variants[name]()
            if name not in best or measured.cpu < best[name].cpu:
                best[name] = measured
    return {name: best[name] for name in variants}


def training(args: argparse.Namespace, model, texts) -> dict[str, StepTimes]:
    variants: dict[str, Callable[[], StepTimes]] = {
        "ours (improved)": lambda: ours_stepper(model, texts, improved=True, warmup=args.warmup),
    }
    if args.baseline:
        variants["ours (today)"] = lambda: ours_stepper(model, texts, improved=False, warmup=args.warmup)
    variants["sentence-transformers MNRL loop"] = lambda: st_stepper(model, texts, warmup=args.warmup)
    if not args.no_bf16:  # opt-in `train --bf16`: not exact, so never part of the default path
        variants["ours (improved) + bf16 autocast, not exact"] = lambda: ours_stepper(
            model, texts, improved=True, warmup=args.warmup, bf16=True
        )
    return run_abba(variants, args.repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:multilingual-e5-small")
    parser.add_argument(
        "--baseline", action="store_true", help="also run today's (pre-issue-13) training path"
    )
    parser.add_argument("--steps", type=int, default=3, help="timed training steps per variant")
    parser.add_argument("--warmup", type=int, default=1, help="untimed training steps per variant")
    parser.add_argument("--repeats", type=int, default=2, help="ABBA repeats of all variants")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--gemm-reps", type=int, default=5)
    parser.add_argument("--encode-per-lang", type=int, default=24, help="XQuAD-R candidates per language")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 encoding variant")
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 autocast training variant")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("efficiency.md"))
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON")
    args = parser.parse_args()
    for flag in ("steps", "warmup", "repeats", "threads", "gemm_reps", "encode_per_lang"):
        if getattr(args, flag) < (0 if flag == "warmup" else 1):
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load_start = os.getloadavg()
    print("loading model and demo batches ...", file=sys.stderr, flush=True)
    model = load_model(args.model)
    texts = demo_texts(model, args.warmup + args.steps)
    n_params, per_step = step_useful_flops(model, texts)
    print("GEMM peak ...", file=sys.stderr, flush=True)
    peak = gemm_table(int(statistics.median(s["tokens"] for s in per_step)), args.gemm_reps)
    print("training steps ...", file=sys.stderr, flush=True)
    trained = training(args, model, texts)
    grads = gradient_check(model, texts[0]) if args.baseline else None
    print("encoding ...", file=sys.stderr, flush=True)
    encoded = encode_variants(model, args.encode_per_lang, args.repeats, int8=not args.no_int8)
    results = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(load_start),
        "non_embedding_params": n_params,
        "per_step": per_step,
        "peak": peak,
        "training": {k: v.as_dict() for k, v in trained.items()},
        "gradient_check": grads,
        "encoding": encoded,
    }
    from efficiency_report import render

    text = render(results, command="python benchmarks/efficiency.py " + " ".join(sys.argv[1:]))
    print(text)
    atomic_write_text(args.out, text)
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=1))


def machine(load_start: tuple[float, float, float]) -> dict[str, object]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


if __name__ == "__main__":
    main()
