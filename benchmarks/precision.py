"""bf16 / int8 vs fp32 evaluation: encode speed on a fixed XQuAD-R slice and every metric's deviation.

``--precision bf16|int8`` encodes with a reduced-precision copy of the model
(:mod:`hybridbatch.models.quantize`). This benchmark measures, in one process on this machine:

1. encode throughput (texts/s) of fp32 and each of ``--precisions`` on a fixed slice of XQuAD-R
   candidates (the first ``--slice`` of every language), alternating ``--rounds`` times (best kept);
2. with ``--full``: the whole XQuAD-R evaluation at every precision (fp32 normally from the embedding
   cache, the others encoded and cached), every summary metric side by side with its deviation, and the
   per-query agreement (Pearson r of per-query AP in Mono and Multi, rank distance).
   ``--fp32-from DIR`` reuses fp32 vectors of the same weights cached under another fingerprint
   directory (e.g. by a process running older code): each side's file is copied to this code's cache
   key after checking 64 random rows against a fresh fp32 encode (cosine > 0.9999).

Run it through the heavy-job lock (real model, minutes of CPU):

    flock /work/coord/heavy.lock .venv/bin/python benchmarks/precision.py --full \
        --json benchmarks/precision.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from hybridbatch.data import load_collection
from hybridbatch.evaluation import evaluate_model
from hybridbatch.evaluation.registry import scores
from hybridbatch.models import load_model
from hybridbatch.models.encoding import encode
from hybridbatch.models.quantize import reduced_precision
from hybridbatch.paths import embeddings_home


def slice_speed(model, texts: list[str], batch_size: int, rounds: int, precisions: list[str]) -> dict:
    """Best-of-``rounds`` seconds per precision on ``texts`` (alternating), and each speed-up over fp32."""
    copy_seconds = {}
    for precision in precisions:
        started = time.perf_counter()
        reduced_precision(model, precision)
        copy_seconds[precision] = time.perf_counter() - started
    every = ["fp32", *precisions]
    for precision in every:  # warm up every path
        encode(model, texts[:16], "passage", batch_size, precision=precision)
    best = dict.fromkeys(every, float("inf"))
    vectors = {}
    for _ in range(rounds):
        for precision in every:
            start = time.perf_counter()
            vectors[precision] = encode(model, texts, "passage", batch_size, precision=precision)
            best[precision] = min(best[precision], time.perf_counter() - start)
    cosine = {p: (vectors["fp32"] * vectors[p]).sum(axis=1) for p in precisions}
    return {
        "texts": len(texts),
        "seconds": best,
        "texts_per_second": {p: len(texts) / s for p, s in best.items()},
        "speedup": {p: best["fp32"] / best[p] for p in precisions},
        "copy_seconds": copy_seconds,
        "cosine_to_fp32": {p: {"min": float(c.min()), "mean": float(c.mean())} for p, c in cosine.items()},
    }


def seed_fp32_cache(model, collection, source: Path, batch_size: int) -> list[str]:
    """Copy ``source``'s fp32 vectors of ``collection`` to this code's cache key, once verified."""
    from hybridbatch.evaluation.encode import candidate_text
    from hybridbatch.models.embedding_cache import SIDES, cache_file, model_fingerprint
    from hybridbatch.models.encoding import prompt_text

    texts = {
        "query": [
            collection.questions[x][q].text for x in collection.languages for q in collection.ids_in(x)
        ],
        "passage": [
            candidate_text(c.text, c.context, False)
            for x in collection.languages
            for c in collection.candidates.get(x, [])
        ],
    }
    fingerprint, seeded = model_fingerprint(model), []
    rng = np.random.default_rng(0)
    for kind, side_texts in texts.items():
        target = cache_file(
            embeddings_home(),
            fingerprint,
            collection.name,
            kind,
            prompt_text(model, kind),
            side_texts,
            "fp32",
        )
        found = [f for f in source.glob(f"{collection.name}-{SIDES[kind]}-*.npy") if "-int8-" not in f.name]
        arrays = [a for a in (np.load(f) for f in found) if a.shape[0] == len(side_texts)]
        if target.is_file() or len(arrays) != 1:
            continue
        rows = rng.choice(len(side_texts), size=64, replace=False)
        fresh = encode(model, [side_texts[i] for i in rows], kind, batch_size)
        if (fresh * arrays[0][rows]).sum(axis=1).min() > 0.9999:
            target.parent.mkdir(parents=True, exist_ok=True)
            np.save(target, arrays[0])
            seeded.append(kind)
    return seeded


def full_comparison(model, collection, batch_size: int, precisions: list[str]) -> dict:
    """Every precision on the whole collection: summaries, deviations from fp32, per-query agreement."""
    reports = {
        p: evaluate_model(model, collection, batch_size=batch_size, cache_dir=embeddings_home(), precision=p)
        for p in ("fp32", *precisions)
    }
    out = {"encode_seconds": {p: r.encode_seconds for p, r in reports.items()}}
    for p in precisions:
        deviations = {}
        for score in scores():
            a, b = reports["fp32"].summary.get(score.name), reports[p].summary.get(score.name)
            deviations[score.name] = {"fp32": a, p: b, "delta": None if a is None or b is None else b - a}
        agreement = {}
        for setting, key in (("mono", "map"), ("multi", "multi_map"), ("multi", "rank_distance")):
            a, b = reports["fp32"].per_query.paired(reports[p].per_query, setting, key)
            agreement[f"{setting}:{key}"] = {
                "n": len(a),
                "pearson_r": float(np.corrcoef(a, b)[0, 1]),
                "mean_abs_diff": float(np.abs(a - b).mean()),
            }
        out[p] = {
            "summary": deviations,
            "per_query": agreement,
            "max_abs_delta_0_1_scores": max(
                abs(d["delta"])
                for n, d in deviations.items()
                if d["delta"] is not None and n != "rank_distance"
            ),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:multilingual-e5-small")
    parser.add_argument("--data", default="xquad-r")
    parser.add_argument("--slice", type=int, default=50, help="Candidates per language in the speed slice.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precisions", default="bf16,int8", help="Reduced precisions to compare with fp32.")
    parser.add_argument(
        "--full", action="store_true", help="Also evaluate the whole dataset at both precisions."
    )
    parser.add_argument("--fp32-from", type=Path, default=None, help="Cache dir of fp32 vectors to reuse.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    collection = load_collection(args.data)
    texts = [c.text for lang in collection.languages for c in collection.candidates[lang][: args.slice]]
    result = {"args": {k: str(v) for k, v in vars(args).items()}, "torch": torch.__version__}
    precisions = [p for p in args.precisions.split(",") if p]
    result["slice"] = slice_speed(model, texts, args.batch_size, args.rounds, precisions)
    s = result["slice"]
    print(f"slice of {s['texts']} XQuAD-R candidates: fp32 {s['texts_per_second']['fp32']:.1f} texts/s")
    for p in precisions:
        print(
            f"  {p}: {s['texts_per_second'][p]:.1f} texts/s -> {s['speedup'][p]:.2f}x fp32 "
            f"(copy {s['copy_seconds'][p]:.2f} s; cosine to fp32 min {s['cosine_to_fp32'][p]['min']:.4f}, "
            f"mean {s['cosine_to_fp32'][p]['mean']:.4f})"
        )
    if args.full and args.fp32_from is not None:
        result["fp32_seeded"] = seed_fp32_cache(model, collection, args.fp32_from, args.batch_size)
        print(f"fp32 vectors reused from {args.fp32_from}: {result['fp32_seeded'] or 'none'}")
    if args.full:
        result["full"] = full = full_comparison(model, collection, args.batch_size, precisions)
        print(f"{'score':<14} {'fp32':>10} " + " ".join(f"{p:>10} {'Δ':>8}" for p in precisions))
        for name, d in full[precisions[0]]["summary"].items():
            if d["delta"] is None:
                continue
            cells = " ".join(f"{full[p]['summary'][name][p]:10.4f} {full[p]['summary'][name]['delta']:+8.4f}"
                             for p in precisions)  # fmt: skip
            print(f"{name:<14} {d['fp32']:10.4f} {cells}")
        for p in precisions:
            for key, d in full[p]["per_query"].items():
                print(
                    f"{p} per-query {key}: Pearson r {d['pearson_r']:.4f}, mean |Δ| {d['mean_abs_diff']:.4f}"
                )
        print(f"encode seconds: {full['encode_seconds']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
