"""Every encoding path side by side: torch fp32 / bf16 / int8 and ONNX Runtime fp32 / int8, in one run.

``--precision`` selects the path (:mod:`hybridbatch.models.encoding`); ``auto`` picks bf16 or fp32 from
the CPU's native bf16 (:mod:`hybridbatch.models.capability`). This benchmark measures, in one process:

1. **first use** of each path: the bf16 / int8 copy, the ONNX export (+ int8 quantization), and the
   second use of an ONNX path (its files cached beside the model: fingerprint + session only);
2. **speed** on a fixed slice of candidates (the first ``--slice`` of every language), every path
   alternating ``--rounds`` times (best kept), ratio to torch fp32, cosine to torch fp32;
3. with ``--avx2``: the same slice in a child process whose PyTorch is held to AVX2
   (``ATEN_CPU_CAPABILITY=avx2`` for ATen kernels, ``MKL_ENABLE_INSTRUCTIONS=AVX2`` for MKL's GEMM,
   ``ONEDNN_MAX_CPU_ISA=AVX2`` for oneDNN), a stand-in for a CPU without AVX-512. ONNX Runtime has no
   such switch: its kernels (MLAS) still pick AVX-512 / VNNI on this machine, so its ratio there is an
   upper bound for a real AVX2 CPU;
4. with ``--full``: the whole collection (or ``--languages``, the first ``--ids``) evaluated
   at every path, encoded fresh (no embedding cache), every summary score and its delta to torch
   fp32, per-query agreement.

    nice -n 5 env HYBRIDBATCH_DATA=/work/shared/data .venv/bin/python benchmarks/precision.py \
        --languages ar,de,zh --ids 400 --slice 20 --full --avx2 --json benchmarks/precision_paths.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from hybridbatch.data import load_collection
from hybridbatch.evaluation import EncodeOptions, evaluate_model
from hybridbatch.evaluation.registry import scores
from hybridbatch.models import load_model
from hybridbatch.models.capability import detect
from hybridbatch.models.encoding import encode

#: Path name -> ``--precision`` value.
PATHS = {
    "torch-fp32": "fp32",
    "torch-bf16": "bf16",
    "torch-int8": "int8",
    "onnx-fp32": "onnx-fp32",
    "onnx-int8": "onnx-int8",
}
AVX2_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def first_use(model, paths: list[str]) -> dict:
    """Seconds to make each path's runner the first time (and an ONNX path's second time)."""
    from hybridbatch.models import onnx_backend
    from hybridbatch.models.quantize import reduced_precision

    out = {}
    for name in paths[1:]:
        precision = PATHS[name]
        make = onnx_backend.onnx_runner if precision.startswith("onnx-") else reduced_precision
        started = time.perf_counter()
        make(model, precision)
        out[name] = {"first": time.perf_counter() - started}
        if precision.startswith("onnx-"):
            onnx_backend._RUNNERS[precision].pop(model, None)  # as a new process would: files cached
            started = time.perf_counter()
            make(model, precision)
            out[name]["second"] = time.perf_counter() - started
    return out


def slice_speed(model, texts: list[str], batch_size: int, rounds: int, paths: list[str]) -> dict:
    """Best-of-``rounds`` seconds per path on ``texts`` (alternating), ratios and cosines to torch fp32."""
    for name in paths:  # warm up every path
        encode(model, texts[:16], "passage", batch_size, precision=PATHS[name])
    best = dict.fromkeys(paths, float("inf"))
    vectors = {}
    for _ in range(rounds):
        for name in paths:
            start = time.perf_counter()
            vectors[name] = encode(model, texts, "passage", batch_size, precision=PATHS[name])
            best[name] = min(best[name], time.perf_counter() - start)
    cosine = {p: (vectors["torch-fp32"] * vectors[p]).sum(axis=1) for p in paths}
    return {
        "texts": len(texts),
        "torch_capability": str(torch.backends.cpu.get_cpu_capability()),
        "seconds": best,
        "texts_per_second": {p: len(texts) / s for p, s in best.items()},
        "speedup": {p: best["torch-fp32"] / best[p] for p in paths},
        "cosine_to_fp32": {p: {"min": float(c.min()), "mean": float(c.mean())} for p, c in cosine.items()},
    }


def avx2_speed(args: argparse.Namespace, paths: list[str]) -> dict:
    """:func:`slice_speed` in a child process with PyTorch held to AVX2 (:data:`AVX2_ENV`)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "avx2.json"
        command = [sys.executable, __file__, "--speed-only", "--json", str(out), "--paths", ",".join(paths)]
        for flag in ("model", "data", "languages", "ids", "slice", "batch_size", "rounds", "threads"):
            command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        subprocess.run(command, env={**os.environ, **AVX2_ENV}, check=True, stdout=subprocess.DEVNULL)
        return {"env": AVX2_ENV, **json.loads(out.read_text(encoding="utf-8"))["slice"]}


def full_comparison(model, collection, batch_size: int, paths: list[str]) -> dict:
    """Every path on the whole collection, encoded fresh: summaries, deltas to torch fp32, agreement."""
    reports = {
        name: evaluate_model(
            model, collection, encoding=EncodeOptions(batch_size=batch_size, precision=PATHS[name])
        )
        for name in paths
    }
    base = reports["torch-fp32"]
    out = {"encode_seconds": {p: r.encode_seconds for p, r in reports.items()}}
    out["encode_speedup"] = {p: base.encode_seconds / r.encode_seconds for p, r in reports.items()}
    for name in paths[1:]:
        summary = {}
        for score in scores():
            a, b = base.summary.get(score.name), reports[name].summary.get(score.name)
            summary[score.name] = {"fp32": a, name: b, "delta": None if a is None or b is None else b - a}
        agreement = {}
        for setting, key in (("mono", "map"), ("multi", "multi_map")):
            a, b = base.per_query.paired(reports[name].per_query, setting, key)
            agreement[f"{setting}:{key}"] = {"n": len(a), "pearson_r": float(np.corrcoef(a, b)[0, 1])}
        bounded = [
            abs(d["delta"]) for n, d in summary.items() if d["delta"] is not None and n != "rank_distance"
        ]
        out[name] = {"summary": summary, "per_query": agreement, "max_abs_delta_0_1_scores": max(bounded)}
    return out


def print_results(result: dict, paths: list[str]) -> None:
    """The run's tables on stdout (the numbers ``benchmarks/precision.md`` quotes)."""
    print(f"CPU: {result['cpu']['model_name']}; auto -> {result['auto']}; torch {result['torch']}")
    for label, s in (("slice", result["slice"]), ("slice, torch held to AVX2", result.get("avx2"))):
        if s is None:
            continue
        print(f"{label} ({s['texts']} texts, torch kernels {s['torch_capability']}):")
        for p in paths:
            cos = s["cosine_to_fp32"][p]
            speed = f"{s['texts_per_second'][p]:7.1f} texts/s  {s['speedup'][p]:5.2f}x"
            print(f"  {p:<11} {speed}  cosine to fp32 min {cos['min']:.5f} mean {cos['mean']:.5f}")
    print(
        "first use (s):", {p: {k: round(v, 2) for k, v in d.items()} for p, d in result["first_use"].items()}
    )
    full = result.get("full")
    if full:
        print(f"{'score':<14} {'fp32':>8} " + " ".join(f"{p:>11}" for p in paths[1:]))
        for name, d in full[paths[1]]["summary"].items():
            if d["fp32"] is not None:
                deltas = " ".join(f"{full[p]['summary'][name]['delta']:+11.4f}" for p in paths[1:])
                print(f"{name:<14} {d['fp32']:8.4f} {deltas}")
        print("encode seconds:", {p: round(s, 1) for p, s in full["encode_seconds"].items()})
        print(
            "max |delta| of 0-1 scores:",
            {p: round(full[p]["max_abs_delta_0_1_scores"], 4) for p in paths[1:]},
        )


def markdown(result: dict) -> str:
    """The run's tables in Markdown (``--render FILE``: what ``benchmarks/precision.md`` shows)."""
    slices = [("this CPU", result["slice"]), ("torch held to AVX2", result.get("avx2"))]
    paths = list(result["slice"]["seconds"])
    lines = [
        "| path | "
        + " | ".join(f"texts/s ({k}) | × torch fp32 ({k})" for k, s in slices if s)
        + " | cosine min / mean |"
    ]
    lines.append("|---" * (1 + 2 * sum(1 for _, s in slices if s) + 1) + "|")
    for p in paths:
        cells = [f"{s['texts_per_second'][p]:.1f} | {s['speedup'][p]:.2f}×" for _, s in slices if s]
        cos = result["slice"]["cosine_to_fp32"][p]
        lines.append(f"| {p} | " + " | ".join(cells) + f" | {cos['min']:.4f} / {cos['mean']:.4f} |")
    full = result.get("full")
    if full:
        lines += ["", "| score | torch fp32 | " + " | ".join(f"Δ {p}" for p in paths[1:]) + " |"]
        lines.append("|---" * (len(paths) + 1) + "|")
        for name, d in full[paths[1]]["summary"].items():
            if d["fp32"] is not None:
                digits = 1 if name == "rank_distance" else 4
                deltas = " | ".join(f"{full[p]['summary'][name]['delta']:+.{digits}f}" for p in paths[1:])
                lines.append(f"| `{name}` | {d['fp32']:.{digits}f} | {deltas} |")
        worst = " | ".join(f"{full[p]['max_abs_delta_0_1_scores']:.4f}" for p in paths[1:])
        lines.append(f"| max abs Δ (0–1 scores) | | {worst} |")
        seconds = " | ".join(
            f"{full['encode_seconds'][p]:.0f} s ({full['encode_speedup'][p]:.2f}×)" for p in paths[1:]
        )
        lines.append(f"| encoding, whole subset | {full['encode_seconds'][paths[0]]:.0f} s | {seconds} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:multilingual-e5-small")
    parser.add_argument("--data", default="xquad-r")
    parser.add_argument("--languages", default="", help="Comma list: evaluate only these (default: all).")
    parser.add_argument("--ids", type=int, default=0, help="Evaluate the first N parallel ids (0: all).")
    parser.add_argument("--slice", type=int, default=50, help="Candidates per language in the speed slice.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--paths", default=",".join(PATHS), help=f"Comma list of {', '.join(PATHS)}.")
    parser.add_argument("--full", action="store_true", help="Also evaluate the collection with every path.")
    parser.add_argument("--avx2", action="store_true", help="Also time the slice with torch held to AVX2.")
    parser.add_argument("--speed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--render", type=Path, default=None, help="Print a saved --json run as Markdown.")
    args = parser.parse_args()
    if args.render:
        print(markdown(json.loads(args.render.read_text(encoding="utf-8"))))
        return
    paths = ["torch-fp32", *[p for p in args.paths.split(",") if p and p != "torch-fp32"]]
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    collection = load_collection(args.data, [x for x in args.languages.split(",") if x] or None)
    if args.ids:  # the first ids (sorted), with the candidates of their paragraphs only
        collection = collection.subset(collection.ids[: args.ids], name=f"{collection.name}[:{args.ids}]")
    texts = [c.text for lang in collection.languages for c in collection.candidates[lang][: args.slice]]
    capability = detect()
    result = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "torch": torch.__version__,
        "cpu": capability.as_dict(),
        "auto": capability.auto_precision(),
        "languages": collection.languages,
        "subset": {
            "name": collection.name,
            "queries": collection.num_questions(),
            "candidates": collection.num_candidates(),
        },
        "first_use": first_use(model, paths),
    }
    result["slice"] = slice_speed(model, texts, args.batch_size, args.rounds, paths)
    if args.avx2 and not args.speed_only:
        result["avx2"] = avx2_speed(args, paths)
    if args.full and not args.speed_only:
        result["full"] = full_comparison(model, collection, args.batch_size, paths)
    print_results(result, paths)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
