"""Paired tests between any two rows of a study, not only against its reference.

A study tests every row against one reference run; a decision rule may compare two other rows (the
long-tail study's fourth and fifth passes: a candidate against ``hybrid-flores60``). This reads the
per-query scores the study already wrote (``<study out>/evals/seed-<s>/<run>/``) and runs the same
paired randomization test and bootstrap CI (:func:`hybridbatch.comparison.significance.compare_paired`)
on every evaluation both rows have. Usage::

    python benchmarks/study_pairs.py runs/studies/long-tail flores60-qboth:hybrid-flores60 \\
        flores60-b100-soup2:flores60-b100
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

from hybridbatch.comparison.significance.significance import compare_paired, format_delta

LAREQA = {"mono_ap": "Mono mAP", "cross_ap": "Cross mAP", "multi_ap": "Multi mAP"}
FLORES = {"x2en_r1": "xx→eng acc.", "bitext_r1": "bitext acc."}


def per_query(folder: Path) -> Iterator[tuple[str, str, dict[str, float]]]:
    """``(evaluation, metric label, query -> score)`` of every evaluation in one run's eval folder."""
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name.startswith("afriqa-"):
            native = json.loads((sub / "report.json").read_text("utf-8"))["per_query"]["native"]
            yield sub.name, "nDCG@10", {q: s["ndcg10"] for q, s in native.items()}
            continue
        file = sub / "per_query.json"
        if not file.is_file():
            continue
        for dataset, metrics in json.loads(file.read_text("utf-8")).items():
            for key, label in {**LAREQA, **FLORES}.items():
                if key in metrics:
                    yield dataset, label, metrics[key]


def compare(evals: Path, a: str, b: str, n_resamples: int) -> list[str]:
    """Markdown rows: A − B on every evaluation both have."""
    theirs = {(ev, label): scores for ev, label, scores in per_query(evals / b)}
    rows = []
    for ev, label, scores in per_query(evals / a):
        if (ev, label) in theirs:
            result = compare_paired(label, scores, theirs[(ev, label)], n_resamples)
            rows.append(
                f"| {a} − {b} | {ev} | {label} | {result.mean_a:.3f} | {result.mean_b:.3f} | "
                f"{format_delta(result)} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_out", type=Path, help="the study's run directory (runs/studies/<name>)")
    parser.add_argument("pairs", nargs="+", help="A:B (row names), tested as A − B")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-resamples", type=int, default=10_000)
    args = parser.parse_args()
    evals = args.study_out / "evals" / f"seed-{args.seed}"
    bad = [p for p in args.pairs if p.count(":") != 1 or not all((evals / n).is_dir() for n in p.split(":"))]
    if bad:
        parser.exit(2, f"error: pairs: {bad[0]!r} is not A:B with both rows evaluated in {evals}\n")
    print("| pair | evaluation | metric | A (per-query mean) | B | Δ [95% CI] p |")
    print("|---|---|---|---|---|---|")
    for pair in args.pairs:
        print("\n".join(compare(evals, *pair.split(":"), args.n_resamples)))


if __name__ == "__main__":
    main()
