"""Write ``benchmarks/quality.md`` from a comparison run: our table next to the paper's Table 1.

Usage: ``python benchmarks/quality.py runs/demo/comparison.json [--out benchmarks/quality.md]
[--recipe-study benchmarks/studies/long-tail.json --recipe NAME]`` (``make demo`` runs it). With
``--recipe``, the default recipe's change is shown first: the study's reference (the old recipe) and
NAME (the new) on every evaluation, with the study's paired tests.
The quality bar of the demo (issue 5) is checked against the hybrid strategy
and printed as PASS/MISS with the measured numbers; the hand-written log of what was tried
(``benchmarks/quality_experiments.md``) is appended.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from hybridbatch.comparison.runs.paper import paper_rows
from hybridbatch.comparison.runs.report import render_markdown
from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.io import atomic_write_text

HERE = Path(__file__).resolve().parent

# (label, summary key, comparison, threshold; "delta" compares with base)
QUALITY_BAR = (
    ("Multi mAP ≥ 0.55", "multi_map", ">=", 0.55),
    ("Cross mAP ≥ 0.68", "cross_map", ">=", 0.68),
    ("rank distance ≤ 400", "rank_distance", "<=", 400.0),
    ("Mono mAP loss vs base ≤ 0.02", "mono_map", "delta>=", -0.02),
)


def quality_bar(report: ComparisonReport, strategy: str = "hybrid") -> list[str]:
    """Markdown rows checking the issue's quality bar on ``strategy`` (vs ``base``)."""
    result, base = report.strategies.get(strategy), report.strategies.get("base")
    if result is None:
        return [f"(no `{strategy}` strategy in this comparison)"]
    rows = ["| criterion | measured | verdict |", "| --- | --- | --- |"]
    for label, key, op, threshold in QUALITY_BAR:
        value = getattr(result.summary, key)
        if op == "delta>=":
            if base is None:
                rows.append(f"| {label} | (no base) | – |")
                continue
            value = value - getattr(base.summary, key)
            ok = value >= threshold
            shown = f"{value:+.3f} ({getattr(result.summary, key):.3f} vs {getattr(base.summary, key):.3f})"
        else:
            ok = value >= threshold if op == ">=" else value <= threshold
            shown = f"{value:.0f}" if key == "rank_distance" else f"{value:.3f}"
        rows.append(f"| {label} | {shown} | {'PASS' if ok else 'MISS'} |")
    return rows


def side_by_side(report: ComparisonReport) -> list[str]:
    """Our strategies and the paper's rows in one table (primary dataset)."""
    dataset = report.primary_eval
    rows = ["| run | Mono mAP | Cross mAP | Multi mAP | rank distance ↓ |", "| --- | --- | --- | --- | --- |"]
    for name, result in report.strategies.items():
        s = result.summary
        rows.append(
            f"| ours: {report.config.model} {name} | {s.mono_map:.3f} | {s.cross_map:.3f} | "
            f"{s.multi_map:.3f} | {s.rank_distance:.0f} |"
        )
    for label, mono, cross, multi, rd in paper_rows(dataset):
        rows.append(f"| {label} | {mono:.3f} | {cross:.3f} | {multi:.3f} | {rd} |")
    return rows


def significance_section(comparison_md: Path) -> list[str]:
    """The paired tests ``compare`` appended to ``comparison.md`` (its Significance section), if any."""
    marker = "\n## Significance\n"
    text = comparison_md.read_text(encoding="utf-8") if comparison_md.is_file() else ""
    if marker not in text:
        return []
    section = "## Significance\n" + text.split(marker, 1)[1]
    return [
        "",
        section.rstrip("\n").replace("\n### ", "\n#### ").replace("## Significance", "### Significance"),
    ]


def recipe_section(summary_path: Path, new: str) -> list[str]:
    """Old recipe (the study's reference) vs ``new`` on every paired test of the study's summary."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    old = summary["reference"]
    rows = [
        "| evaluation | metric | old | new | Δ new − old [95% CI] | p |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for sig in summary["significance"]:
        for label, row in sig["rows"].get(new, {}).items():
            test = row.get("test")
            if test is None:
                continue
            d = 1 if label.lower().startswith("rank") else 3  # rank distance in positions, scores to 3
            diff = f"{test['difference']:+.{d}f} [{test['ci_low']:+.{d}f}, {test['ci_high']:+.{d}f}]"
            rows.append(
                f"| {sig['dataset']} | {label} | {test['mean_b']:.{d}f} | {test['mean_a']:.{d}f} | {diff} "
                f"| {test['p_value']:.3g} |"
            )
    dev = summary.get("trainer_dev", {})
    dev_line = ", ".join(
        f"{name} Mono {dev[name]['mono_map']:.3f} / Cross {dev[name]['cross_map']:.3f}"
        for name in (old, new)
        if name in dev
    )
    three = summary_path.with_name(f"{summary_path.stem}-mlqa-dev.json")  # benchmarks/mlqa_dev_settings.py
    if three.is_file():
        scores = json.loads(three.read_text(encoding="utf-8"))["scores"]
        dev_line += "; MLQA-R dev split alone, all three settings (Mono / Cross / Multi): " + ", ".join(
            f"{n} {scores[n]['mono_map']:.3f} / {scores[n]['cross_map']:.3f} / {scores[n]['multi_map']:.3f}"
            for n in (old, new)
            if n in scores
        )
    study = summary_path.with_suffix(".md").name
    return [
        f"## Default recipe: `{old}` (old) → `{new}` (new), issue 22",
        "",
        f"From the {summary['study']} study ([{study}](studies/{study}); {summary['precision']} encoding, "
        f"seed {summary['seeds'][0]}; paired randomization test and bootstrap CI over the same queries). "
        f"Trainer's dev scores (no per-query test): {dev_line or '–'}.",
        "",
        *rows,
        "",
    ]


def precision_line(report: ComparisonReport) -> str:
    """Which precision every number came from: the evaluations' and the trainings'."""
    trained = "bf16 autocast" if _trained_in_bf16(report) else "fp32"  # what the runs recorded
    return (
        f"Precision: every score encoded in **{report.config.precision}**, every model trained in "
        f"**{trained}** (`--precision` / `--train-precision`; fp32 both reproduces the fp32 tables)."
    )


def _trained_in_bf16(report: ComparisonReport) -> bool:
    from hybridbatch.models.metadata import TrainingMetadata

    trained = [r.model for r in report.strategies.values() if r.training is not None]
    metas = [TrainingMetadata.read(m) for m in trained if Path(m).is_dir()]
    return any(m is not None and m.config.get("bf16") for m in metas)


def render(
    report: ComparisonReport,
    command: str,
    plots: list[str],
    comparison_md: Path | None = None,
    recipe: list[str] | None = None,
) -> str:
    """The whole ``quality.md``; ``plots`` are image paths relative to it; ``comparison_md`` supplies the
    significance tables; ``recipe`` the default recipe's old-vs-new section."""
    experiments = HERE / "quality_experiments.md"
    parts = [
        "# Quality benchmark: hybrid batch training on the builtin model",
        "",
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `python benchmarks/quality.py` "
        f"from the comparison written by:",
        "",
        f"```\n{command}\n```",
        "",
        f"The comparison itself was written at {report.created_at}.",
        "",
        f"Machine: {platform.machine()}, {_cpus()} CPU cores, Python {platform.python_version()}. "
        f"Evaluation data ({report.primary_eval}) is never trained on.",
        "",
        precision_line(report),
        "",
        *(recipe or []),
        "## Quality bar (issue 5), hybrid α = 0.5",
        "",
        *quality_bar(report),
        "",
        f"## Ours next to the paper's Table 1 ({report.primary_eval})",
        "",
        "The paper fine-tuned XLM-R / LaBSE on far more training data; ours is multilingual-e5-small on",
        "MLQA-R (about 4,200 questions) for a CPU budget: compare the shape, not the level.",
        "",
        *side_by_side(report),
        "",
        "## The full comparison",
        "",
        render_markdown(report).split("\n", 1)[1].replace("\n## ", "\n### "),
        *(significance_section(comparison_md) if comparison_md else []),
        "",
        "### Plots",
        "",
        *[f"![{Path(p).stem}]({p})" for p in plots],
    ]
    if experiments.is_file():
        parts += ["", experiments.read_text(encoding="utf-8")]
    return "\n".join(parts) + "\n"


def copy_plots(source: Path, target: Path) -> list[Path]:
    """Copy the comparison's PNG plots next to ``quality.md`` (the run directory is not committed)."""
    from hybridbatch.io import atomic_write_bytes

    return [atomic_write_bytes(target / png.name, png.read_bytes()) for png in sorted(source.glob("*.png"))]


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def comparison_file(path: Path) -> Path:
    """``path``, or for a comparison directory its newest ``comparison.json`` — its own (fp32) or a
    precision subfolder's (``bf16/``: ``compare --precision auto`` on a CPU with native bf16)."""
    if not path.is_dir():
        return path
    found = [*path.glob("comparison.json"), *path.glob("*/comparison.json")]
    return max(found, key=lambda p: p.stat().st_mtime) if found else path / "comparison.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "comparison", type=Path, help="comparison.json of a `hybridbatch compare` run, or its directory"
    )
    parser.add_argument("--out", type=Path, default=HERE / "quality.md")
    parser.add_argument("--command", default="make demo", help="the command that produced the comparison")
    parser.add_argument("--recipe-study", type=Path, help="a study's summary JSON (old = its reference)")
    parser.add_argument("--recipe", help="the study's run that is the new default recipe")
    args = parser.parse_args()
    recipe = None
    if args.recipe:
        if args.recipe_study is None or not args.recipe_study.is_file():
            print(f"error: --recipe-study: {args.recipe_study}: no such file", file=sys.stderr)
            sys.exit(2)
        tested = json.loads(args.recipe_study.read_text(encoding="utf-8"))["significance"]
        if not any(args.recipe in sig["rows"] for sig in tested):
            print(f"error: --recipe: {args.recipe!r} is not a run of {args.recipe_study}", file=sys.stderr)
            sys.exit(2)
        recipe = recipe_section(args.recipe_study, args.recipe)
    args.comparison = comparison_file(args.comparison)
    if not args.comparison.is_file():
        print(f"error: {args.comparison}: no such file (run `make demo` first)", file=sys.stderr)
        sys.exit(2)
    report = ComparisonReport.model_validate_json(args.comparison.read_text(encoding="utf-8"))
    plots = copy_plots(args.comparison.parent, args.out.parent / "quality_plots")
    atomic_write_text(
        args.out,
        render(
            report,
            args.command,
            [str(p.relative_to(args.out.parent)) for p in plots],
            args.comparison.with_suffix(".md"),
            recipe,
        ),
    )
    print("\n".join(quality_bar(report)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
