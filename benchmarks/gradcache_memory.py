"""GradCache vs plain backprop: peak memory and time of one contrastive training step.

Both variants run our trainer's step (:func:`hybridbatch.training.step.contrastive_backward` +
AdamW) on the same batch: B MLQA-R questions (``query: ``) and their answer sentences
(``passage: ``), every text padded/truncated to exactly ``--seq-len`` tokens, word embeddings frozen
(the trainer's default), dropout on. ``plain`` embeds the whole batch with one autograd graph;
``gradcache`` (``--mini-batch-size``) holds the graph of one chunk at a time (Gao et al. 2021,
arXiv 2101.06983) and gives the same gradient (``tests/training/test_gradcache.py``).

Each variant runs in a fresh subprocess. Memory: on CUDA ``torch.cuda.max_memory_allocated`` minus
the allocation before the first step; on CPU the peak resident-set growth over the steps (Linux
``VmHWM`` after resetting it through ``/proc/self/clear_refs``, minus ``VmRSS`` before the first
step). Time: median over the steps after the first (warm-up). A "budget" (``--budget-mb``) marks which
variants would fit. Usage::

    python benchmarks/gradcache_memory.py [--model builtin:multilingual-e5-small] [--batch-size 64]
        [--mini-batch-size 8] [--seq-len 128] [--steps 3] [--threads 2] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "HYBRIDBATCH_DATA" not in os.environ and (SHARED_DATA / "mlqa-r").is_dir():
    os.environ["HYBRIDBATCH_DATA"] = str(SHARED_DATA)


# --- memory probes ---------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


# --- one variant, in this process ------------------------------------------------------------
def worker(args: argparse.Namespace) -> dict:
    import torch

    from hybridbatch.models import load_model
    from hybridbatch.training.losses import InfoNCELoss
    from hybridbatch.training.state import freeze_word_embeddings
    from hybridbatch.training.step import contrastive_backward

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = load_model(args.model, device=str(device))
    freeze_word_embeddings(model)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    q, d, labels = _batch(model, args, device)
    loss_fn = InfoNCELoss()
    mini = args.mini_batch_size if args.variant == "gradcache" else None

    def step() -> float:
        loss = contrastive_backward(model, loss_fn, q, d, labels, mini_batch_size=mini, trim=False)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss)

    times, losses, peak = _measure(step, args.steps, device.type == "cuda")
    return {
        "variant": args.variant,
        "peak_mb": peak / 2**20,
        "seconds_per_step": statistics.median(times[1:] if len(times) > 1 else times),
        "first_step_seconds": times[0],
        "loss": losses[0],
        "texts": 2 * len(labels),
    }


def _batch(model, args: argparse.Namespace, device) -> tuple:
    """The first ``--batch-size`` English MLQA-R questions and answers, tokenized; the labels."""
    import torch

    from hybridbatch.data import load_collection
    from hybridbatch.training.features import model_prompts, tokenize

    collection = load_collection("mlqa-r")
    ids = list(collection.ids_in("en"))[: args.batch_size]
    queries = [collection.question(i, "en").text for i in ids]
    docs = [collection.answer(i, "en").text for i in ids]
    q_prompt, d_prompt = model_prompts(model)
    q = tokenize(model, queries, q_prompt, args.seq_len, "max_length", device)
    d = tokenize(model, docs, d_prompt, args.seq_len, "max_length", device)
    return q, d, torch.arange(len(ids), device=device)


def _measure(step, steps: int, cuda: bool) -> tuple[list[float], list[float], int]:
    """Run ``step`` ``steps`` times: the seconds and losses of each, and the peak memory above the start."""
    import torch

    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _status_kb("VmRSS") * 1024
        _reset_peak_rss()
    times, losses = [], []
    for _ in range(steps):
        tick = time.perf_counter()
        losses.append(step())
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - tick)
    peak = torch.cuda.max_memory_allocated() if cuda else _status_kb("VmHWM") * 1024
    return times, losses, peak - base


def run_variant(args: argparse.Namespace, variant: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", variant, *sys.argv[1:]]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="builtin:multilingual-e5-small")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mini-batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--budget-mb", type=float, default=None, help="Memory budget for the step.")
    parser.add_argument("--worker", choices=["plain", "gradcache"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.variant = args.worker
        print(json.dumps(worker(args)))
        return

    plain = run_variant(args, "plain")
    cached = run_variant(args, "gradcache")
    unit = "CUDA allocated" if args.device.startswith("cuda") else "peak RSS growth"
    print(
        f"{args.model}: batch {args.batch_size} pairs ({plain['texts']} texts) x {args.seq_len} tokens, "
        f"GradCache mini-batch {args.mini_batch_size}, {args.device}, {args.threads} threads, "
        f"{args.steps} steps"
    )
    print(f"{'':36}{'plain':>12}{'gradcache':>12}{'ratio gc/plain':>16}")
    rows = [
        (f"step memory, MiB ({unit})", "peak_mb", "{:12.0f}"),
        ("seconds / step (median)", "seconds_per_step", "{:12.2f}"),
        ("first step, s", "first_step_seconds", "{:12.2f}"),
    ]
    for label, key, fmt in rows:
        ratio = cached[key] / plain[key] if plain[key] else float("nan")
        print(f"{label:36}{fmt.format(plain[key])}{fmt.format(cached[key])}{ratio:16.2f}")
    print(f"{'loss (first step)':36}{plain['loss']:12.4f}{cached['loss']:12.4f}")
    if args.budget_mb:
        fits = {v["variant"]: v["peak_mb"] <= args.budget_mb for v in (plain, cached)}
        print(f"fits a {args.budget_mb:.0f} MiB budget: plain {fits['plain']}, gradcache {fits['gradcache']}")


if __name__ == "__main__":
    main()
