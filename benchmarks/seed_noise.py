"""Training noise: the same recipe trained with two seeds, tested per query like two different recipes.

The studies (benchmarks/studies/) train one seed per recipe and test recipes against each other with a
paired randomization test over the same queries. That test says whether a difference is larger than
the query sampling noise, not whether it is larger than what another seed of the *same* recipe gives.
This script measures the latter: the per-query paired test between two seeds of one recipe.

    python benchmarks/seed_noise.py RUN_A RUN_B [--precision bf16] [--json OUT.json]

RUN_A / RUN_B are trained run directories evaluated by ``hybridbatch compare`` (they hold
``eval[-<precision>]/per_query.json`` and, optionally, ``afriqa-test[-<precision>]/report.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hybridbatch.comparison.runs.config import afriqa_dir_name, eval_dir_name
from hybridbatch.comparison.significance.paired import AFRIQA_METRICS, LAREQA_METRICS, lareqa_per_query
from hybridbatch.comparison.significance.significance import compare_paired, format_delta
from hybridbatch.evaluation.beir import renamed_legacy_keys  # AfriQA reports of older runs: ndcg@10 …


def fail(message: str) -> None:
    """One ``error:`` line on stderr, exit 2 (a bad argument, not a crash)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def lareqa_rows(a: Path, b: Path, precision: str) -> list[tuple[str, str, object]]:
    """(dataset, metric, PairedComparison) of B − A on every LAReQA dataset both evaluated."""
    reports = [run / eval_dir_name(precision) / "report.json" for run in (a, b)]
    for report in reports:
        if not (report.parent / "per_query.json").is_file():
            fail(f"{report.parent / 'per_query.json'}: not found (evaluate the run with hybridbatch compare)")
    datasets = json.loads(reports[0].read_text("utf-8"))["datasets"]
    rows = []
    for dataset in datasets:
        scores_a, scores_b = (lareqa_per_query(r, dataset) for r in reports)
        if not scores_a or not scores_b:
            continue
        for key, label, _ in LAREQA_METRICS[:3]:  # the three mAP settings
            rows.append((dataset, label, compare_paired(label, scores_b[key], scores_a[key])))
    return rows


def afriqa_rows(a: Path, b: Path, precision: str) -> list[tuple[str, str, object]]:
    """The same for AfriQA test (native questions), when both runs were evaluated on it."""
    name = afriqa_dir_name("test", precision)
    files = [run / name / "report.json" for run in (a, b)]
    if not all(f.is_file() for f in files):
        return []
    native = [renamed_legacy_keys(json.loads(f.read_text("utf-8")))["per_query"]["native"] for f in files]
    rows = []
    for key, label in AFRIQA_METRICS[:2]:  # nDCG@10, MRR@10
        per_a = {q: s[key] for q, s in native[0].items()}
        per_b = {q: s[key] for q, s in native[1].items()}
        rows.append(("afriqa test", label, compare_paired(label, per_b, per_a)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = lareqa_rows(args.run_a, args.run_b, args.precision)
    rows += afriqa_rows(args.run_a, args.run_b, args.precision)
    print(f"B = {args.run_b}\nA = {args.run_a}\n")
    print("| dataset | metric | A | B | Δ = B − A [95% CI] p |\n|---|---|---|---|---|")
    for dataset, label, test in rows:
        print(f"| {dataset} | {label} | {test.mean_b:.3f} | {test.mean_a:.3f} | {format_delta(test)} |")
    print("\nMeans over the queries both runs scored (AfriQA: pooled over all questions, not macro).")
    if args.json:
        payload = [{"dataset": d, **json.loads(t.model_dump_json())} for d, _, t in rows]
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
