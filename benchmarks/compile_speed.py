"""Does ``torch.compile`` speed up fp32 encoding on this CPU? (compile time included, exactness checked)

The transformer of a copy of the model is wrapped in ``torch.compile(dynamic=True)`` (inductor, CPU
C++ codegen; dynamic shapes, because every batch has another length). Measured in one process on
the same slice of XQuAD-R candidates as ``benchmarks/precision.py``:

1. the first encode of the slice with the compiled copy (compilation + run) against eager;
2. steady state: best of ``--rounds`` alternating eager / compiled passes;
3. the largest absolute difference of the unit embeddings (fp32 tolerance: 1e-5).

The verdict (keep it only where it wins and stays exact) is in ``benchmarks/precision.md``.

    nice -n 5 env HYBRIDBATCH_DATA=/work/shared/data .venv/bin/python benchmarks/compile_speed.py \
        --languages ar,de,zh --slice 40 --json benchmarks/compile_speed.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from hybridbatch.data import load_collection
from hybridbatch.models import load_model
from hybridbatch.models.capability import detect
from hybridbatch.models.encoding import encode
from hybridbatch.models.quantize import copy_sharing


def compiled_copy(model):
    """A copy of ``model`` (sharing its weights) whose transformer runs through ``torch.compile``."""
    runner = copy_sharing(model, keep=lambda module: True).eval()
    runner[0].model = torch.compile(runner[0].model, dynamic=True)
    return runner


def timed(model, texts: list[str], batch_size: int) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = encode(model, texts, "passage", batch_size)
    return time.perf_counter() - started, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:multilingual-e5-small")
    parser.add_argument("--data", default="xquad-r")
    parser.add_argument("--languages", default="ar,de,zh")
    parser.add_argument("--slice", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    collection = load_collection(args.data, [x for x in args.languages.split(",") if x] or None)
    texts = [c.text for lang in collection.languages for c in collection.candidates[lang][: args.slice]]
    eager_first, reference = timed(model, texts, args.batch_size)
    compiled = compiled_copy(model)
    compile_first, first = timed(compiled, texts, args.batch_size)
    best = {"eager": float("inf"), "compiled": float("inf")}
    diffs = [float(np.abs(first - reference).max())]
    for _ in range(args.rounds):
        for name, runner in (("eager", model), ("compiled", compiled)):
            seconds, vectors = timed(runner, texts, args.batch_size)
            best[name] = min(best[name], seconds)
            diffs.append(float(np.abs(vectors - reference).max()))
    result = {
        "cpu": detect().as_dict(),
        "torch": torch.__version__,
        "texts": len(texts),
        "languages": collection.languages,
        "first_pass_seconds": {"eager": eager_first, "compiled_including_compile": compile_first},
        "best_seconds": best,
        "steady_speedup": best["eager"] / best["compiled"],
        "break_even_texts": _break_even(len(texts), best, compile_first),
        "max_abs_diff": max(diffs),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _break_even(count: int, best: dict[str, float], compile_first: float) -> float | None:
    """Texts to encode before compiling pays for itself (``None`` when it never does)."""
    saved_per_text = (best["eager"] - best["compiled"]) / count
    overhead = compile_first - best["compiled"]
    return overhead / saved_per_text if saved_per_text > 0 else None


if __name__ == "__main__":
    main()
