"""Score models on the trainer's MLQA-R dev split in all three settings (Mono, Cross, Multi).

The trainer's dev scorer logs Mono and Cross only; the long-tail study's default-recipe decision needed
Multi on validation too. Usage (what produced ``benchmarks/studies/long-tail-mlqa-dev.json``)::

    python benchmarks/mlqa_dev_settings.py --out benchmarks/studies/long-tail-mlqa-dev.json \\
        base=builtin:multilingual-e5-small hybrid=runs/studies/data-sources/runs/hybrid/model ...

The split is the trainer's default (``dev_fraction`` 0.05, ``split_seed`` 0, by parallel id); encoding
in bf16 unless ``--precision`` says otherwise. ``--pool dev`` (default) ranks the dev questions against
their own paragraphs' sentences (as the trainer's dev scorer does: ~1,900 candidates); ``--pool full``
against every MLQA-R candidate sentence (20,534, as many as XQuAD-R's pool and more), so that Multi
meets as many same-language distractors as on the test set.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.data.registry import load_source
from hybridbatch.evaluation.encode import EncodeOptions
from hybridbatch.evaluation.evaluate import evaluate_model
from hybridbatch.io import atomic_write_json

KEYS = ("mono_map", "cross_map", "multi_map", "rank_distance")


def _problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments (checked before any model loads), or None."""
    bad = [m for m in args.models if not all(m.partition("=")[::2])]
    if bad:
        return f"models: give NAME=MODEL, got {bad[0]!r}"
    if args.out.exists() and not args.overwrite:
        return f"--out {args.out}: exists; pass --overwrite to replace it"
    if not 0 < args.dev_fraction < 1:
        return f"--dev-fraction: must be in (0, 1), got {args.dev_fraction}"
    return None


def dev_questions_full_pool(full: ParallelQACollection, dev: ParallelQACollection) -> ParallelQACollection:
    """The dev split's questions against every candidate of ``full`` (answer indices stay valid)."""
    keep = set(dev.ids)
    questions = {
        lang: {qid: q for qid, q in by_id.items() if qid in keep} for lang, by_id in full.questions.items()
    }
    return ParallelQACollection(
        f"{full.name}:dev-full-pool", questions, full.candidates, full.report, full.kind
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="NAME=MODEL (a builtin, a directory or a Hub id)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--dev-fraction", type=float, default=0.05)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument(
        "--pool", choices=("dev", "full"), default="dev", help="candidates ranked (see above)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = parser.parse_args()
    problem = _problem(args)
    if problem:
        parser.exit(2, f"error: {problem}\n")
    full = load_source("mlqa-r")
    _, dev = full.split(args.dev_fraction, args.split_seed)
    if args.pool == "full":
        dev = dev_questions_full_pool(full, dev)
    encoding = EncodeOptions(precision=args.precision, show_progress=False)
    scores = {}
    for item in args.models:
        name, _, model = item.partition("=")
        summary = evaluate_model(model, dev, ("mono", "cross", "multi"), encoding, dev.languages).summary
        scores[name] = {"model": model, **{k: getattr(summary, k) for k in KEYS}}
        print(name, " ".join(f"{k} {scores[name][k]:.4f}" for k in KEYS), flush=True)
    split = {"dataset": "mlqa-r", "dev_fraction": args.dev_fraction, "split_seed": args.split_seed}
    split["pool"] = args.pool
    atomic_write_json(
        args.out, {"split": {**split, "ids": len(dev.ids)}, "precision": args.precision, "scores": scores}
    )


if __name__ == "__main__":
    main()
