"""``benchmarks/studies/<name>.md`` (+ plots in ``<name>/``) from a :class:`.study_run.StudyResult`."""

from __future__ import annotations

import statistics
from pathlib import Path

from hybridbatch.comparison.runs.paper import paper_rows
from hybridbatch.comparison.significance.significance_report import afriqa_tables, render_significance
from hybridbatch.comparison.studies.study import PlannedRun, comparison_config
from hybridbatch.comparison.studies.study_plots import write_plots
from hybridbatch.comparison.studies.study_run import (
    TRAINER_DEV_KEYS,
    StudyResult,
    afriqa_splits,
    step_seconds,
)
from hybridbatch.evaluation.registry import get_score
from hybridbatch.io import atomic_write_json, atomic_write_text

EXTRA = "multi_mrr10"  # the LAReQA table's column beside the headline scores

LAREQA_COLUMNS = (
    ("mono_map", "Mono"),
    ("cross_map", "Cross"),
    ("multi_map", "Multi"),
    ("rank_distance", "RD ↓"),
)


def write_study(result: StudyResult, path: Path | None = None) -> Path:
    """Write the study's Markdown, plots and typed summary (``<name>.json``); return the Markdown path."""
    study = result.study
    path = path or study.report_path
    plots = write_plots(result, path.parent / study.name)
    atomic_write_text(path, render_study(result, [p.relative_to(path.parent).as_posix() for p in plots]))
    atomic_write_json(path.with_suffix(".json"), study_summary(result))
    return path


def study_summary(result: StudyResult) -> dict:
    """What other reports quote (``benchmarks/quality.py``): every paired test against the reference,
    the trainer's dev scores, and the encoding precision — small, committed beside the Markdown."""
    study = result.study
    return {
        "study": study.name,
        "reference": study.reference,
        "precision": comparison_config(study, study.seeds[0]).precision,
        "seeds": study.seeds,
        "trainer_dev": result.dev.get(study.seeds[0], {}),
        "significance": [sig.model_dump(mode="json") for sig in result.significance],
    }


def render_study(result: StudyResult, plots: list[str]) -> str:
    """The study as Markdown (see module docstring)."""
    study = result.study
    lines = [f"# Study: {study.name}", "", f"**Question.** {study.question}", "", *_caveats(result)]
    if study.conclusion:
        lines += ["## Answer", "", study.conclusion.strip(), ""]
    lines += ["**What the numbers say** (generated; see the tables):", "", *findings(result), ""]
    lines += _runs_table(result)
    lines += [
        "## Validation (the only numbers any choice may use)",
        "",
        study.validation or "No choices made.",
        "",
        "The trainer's dev split is the held-out share of the training data's parallel ids (MLQA-R for "
        "the demo recipe), scored at the end of training (`metrics.jsonl`).",
        "",
    ]
    lines += _validation_table(result)
    lines += _test_tables(result)
    if study.checkpoints and study.seeds[0] in result.lareqa:
        lines += _learning_curve_table(result)
    if result.significance:
        lines += ["## Significance", ""]
        for sig in result.significance:
            lines += render_significance(sig)
    if plots:
        lines += ["## Plots", "", *[f"![{Path(p).stem}]({p})" for p in plots], ""]
    lines += _reproduce(result)
    return "\n".join(lines)


def _caveats(result: StudyResult) -> list[str]:
    """What a reader must know before any number: a reduced precision, overlapping data."""
    config = comparison_config(result.study, result.study.seeds[0])
    lines = []
    if config.precision != "fp32":  # a sweep: say so before any number
        lines += [f"**Encoding precision: {config.precision}** (a fast sweep; confirm a winner in fp32).", ""]
    if config.allow_overlap:
        from hybridbatch.comparison.runs.report import OVERLAP_NOTE

        lines += [OVERLAP_NOTE, ""]
    return lines


def _test_tables(result: StudyResult) -> list[str]:
    """The first seed's test tables: LAReQA datasets, AfriQA splits, FLORES-200 bitext."""
    study, lines = result.study, []
    seed = study.seeds[0]
    for dataset in result.lareqa_datasets:
        lines += [f"## {dataset} (test; seed {seed})", "", *_lareqa_table(result, dataset), ""]
    for split in afriqa_splits(study):
        if seed in result.afriqa.get(split, {}):
            lines += [f"## AfriQA {split} (seed {seed})", "", *afriqa_tables(result.afriqa[split][seed]), ""]
    for split, by_seed in result.flores.items():
        if seed in by_seed:
            from hybridbatch.comparison.runs.flores import flores_language_rows, flores_tables

            lines += [f"## FLORES-200 {split} bitext (seed {seed})", "", *flores_tables(by_seed[seed]), ""]
            lines += flores_language_rows(by_seed[seed], study.flores_languages)
    return lines


def findings(result: StudyResult) -> list[str]:
    """One bullet per significance table: the best run on its first metric, how many Δ are significant."""
    out = []
    for sig in result.significance:
        labels = list(next(iter(sig.rows.values())))
        label = "Multi mAP" if "Multi mAP" in labels else labels[0]
        lower = label.startswith("rank")
        values = {n: r[label].seed_mean for n, r in sig.rows.items() if r[label].seed_mean is not None}
        if not values:
            continue
        tests = [r[label].test for n, r in sig.rows.items() if r[label].test is not None]
        if not tests:
            out.append(
                f"- {sig.dataset}, {label}: only {sig.reference} evaluated so far "
                f"({values[sig.reference]:.3f})."
            )
            continue
        best = (min if lower else max)(values, key=values.__getitem__)
        significant = sum(t.significant for t in tests)
        out.append(
            f"- {sig.dataset}, {label}: best **{best}** ({values[best]:.3f}); "
            f"{significant} of {len(tests)} differences to {sig.reference} significant (p < 0.05)."
        )
    for split, by_seed in result.afriqa.items():
        first = by_seed.get(result.study.seeds[0], {})
        gaps = ", ".join(f"{n} {_gap(r):+.3f}" for n, r in first.items())
        if gaps:
            out.append(
                f"- AfriQA {split}, translate-test gap (nDCG@10, translated − native question): {gaps}."
            )
    if result.missing:
        out.append(f"- Not yet run: {', '.join(sorted({r.label for r in result.missing}))} (see Reproduce).")
    return out or ["- Not yet run: no finished run of this study exists (see Reproduce)."]


def _derived(run: PlannedRun) -> str:
    """The overrides cell of a training-free row."""
    if run.merge:
        return f"none (WiSE-FT merge {run.merge} with base)"
    if run.soup:
        return "none (uniform soup of " + ", ".join(f"{name} seed {seed}" for name, seed in run.soup) + ")"
    return "–"


def _runs_table(result: StudyResult) -> list[str]:
    lines = [
        "## Runs",
        "",
        "| run | seed | training overrides | found in | steps | training minutes | median s/step "
        "| of it teacher |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in result.runs:
        over = ", ".join(f"{k}={v}" for k, v in (run.overrides or {}).items())
        over = over or _derived(run)
        t = run.training or {}
        steps = str(run.step or t.get("steps", "–"))
        minutes = f"{t['seconds'] / 60:.1f}" if t else "–"
        per_step = [_median(step_seconds(run, key)) for key in ("seconds", "teacher_seconds")]
        found = run.found_in or "**missing**"
        cells = [run.label, str(run.seed), over, found, steps, minutes, *per_step]
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        "Training minutes: the whole run (a checkpoint row shows the run's total), as recorded, so a run "
        "trained while other jobs shared the CPU reads slower. Median s/step: of the step times in the "
        "run's `metrics.jsonl`, which contention spikes and warm-up move least — the cost to compare; "
        "of it teacher: the median time the distillation teacher's forward pass took within a step."
    )
    return [*lines, "", note, ""]


def _validation_table(result: StudyResult) -> list[str]:
    seed = result.study.seeds[0]
    dev = result.dev.get(seed, {})
    afriqa_dev = result.afriqa.get("dev", {}).get(seed, {})
    if not dev and not afriqa_dev:
        return ["No validation numbers yet.", ""]
    lines = [
        "| run | trainer dev Mono mAP | trainer dev Cross mAP | trainer dev Multi mAP | AfriQA dev nDCG@10 |",
        "|---|---|---|---|---|",
    ]
    for name in dict.fromkeys([*dev, *afriqa_dev]):
        d = dev.get(name, {})
        a = afriqa_dev.get(name, {}).get("mean_native", {})
        cells = [_f(d.get(key)) for key in TRAINER_DEV_KEYS] + [_f(a.get("ndcg10"))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _lareqa_table(result: StudyResult, dataset: str) -> list[str]:
    report = result.lareqa[result.study.seeds[0]]
    head = [label for _, label in LAREQA_COLUMNS]
    extra = get_score(EXTRA).header
    lines = [
        f"| run | {' | '.join(head)} | {extra} | seen Multi | unseen Multi | unseen Cross |",
        "|---|" + "---|" * (len(head) + 4),
    ]
    for name, strategy in report.strategies.items():
        scores = strategy.datasets[dataset]
        cells = [_f(getattr(scores.summary, k, None), k) for k, _ in LAREQA_COLUMNS]
        cells.append(_f(getattr(scores.summary, EXTRA, None)))
        cells += [
            _f(getattr(scores.summary_seen, "multi_map", None)),
            _f(getattr(scores.summary_unseen, "multi_map", None)),
        ]
        cells.append(_f(getattr(scores.summary_unseen, "cross_map", None)))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _learning_curve_table(result: StudyResult) -> list[str]:
    """Quality per training minute at each checkpoint, next to the paper's hybrid rows."""
    seed = result.study.seeds[0]
    report = result.lareqa[seed]
    dataset = result.lareqa_datasets[0]
    runs = sorted(
        (r for r in result.runs if r.seed == seed and r.step and r.label in report.strategies),
        key=lambda r: r.step or 0,
    )
    afriqa = result.afriqa.get("test", {}).get(seed, {})
    lines = [
        f"## Learning curve ({dataset}; quality per training minute)",
        "",
        "| steps | training minutes | Mono | Cross | Multi | RD ↓ | AfriQA test nDCG@10 "
        "| Δ Multi per 10 min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    previous: tuple[float, float] | None = None
    for run in runs:
        seconds = step_seconds(run)
        minutes = sum(s for step, s in seconds.items() if step <= (run.step or 0)) / 60
        summary = report.strategies[run.label].datasets[dataset].summary
        cells = [_f(getattr(summary, k, None), k) for k, _ in LAREQA_COLUMNS]
        native = afriqa.get(run.label, {}).get("mean_native", {}).get("ndcg10")
        rate = "–"
        if previous and minutes > previous[0]:
            rate = f"{(summary.multi_map - previous[1]) / (minutes - previous[0]) * 10:+.3f}"
        previous = (minutes, summary.multi_map)
        lines.append(f"| {run.step} | {minutes:.1f} | " + " | ".join(cells) + f" | {_f(native)} | {rate} |")
    for label, mono, cross, multi, rd in paper_rows(dataset):
        if label.endswith("hybrid"):
            lines.append(
                f"| {label} (other base model) | – | {mono:.3f} | {cross:.3f} | {multi:.3f} | {rd} | – | – |"
            )
    return [
        *lines,
        "",
        "Training minutes: the summed step times the trainer logged up to that step, on the machine that "
        "trained the run (dev scoring and checkpoint writes excluded). The paper fine-tuned XLM-R and "
        "LaBSE, not multilingual-e5-small, so its rows are a reference level, not a target for this model.",
        "",
    ]


def _gap(report: dict) -> float:
    return report["mean_translated"]["ndcg10"] - report["mean_native"]["ndcg10"]


def _reproduce(result: StudyResult) -> list[str]:
    study = result.study
    config = f"benchmarks/studies/{study.name}.yaml"
    return [
        "## Reproduce",
        "",
        "```",
        f"hybridbatch study {config}           # evaluate the runs that exist, write this file",
        f"hybridbatch study {config} --train   # first train the missing runs (resumable)",
        "```",
        "",
        f"Runs are matched by training recipe in {', '.join(str(p) for p in study.reuse) or '–'} and "
        f"{study.run_dir}; evaluations are cached in {study.run_dir}/evals. Significance: paired "
        "randomization test and paired bootstrap CI over the same queries "
        f"({study.n_resamples:,} resamples).",
        "",
    ]


def _median(seconds: dict[int, float]) -> str:
    return f"{statistics.median(seconds.values()):.2f}" if seconds else "–"


def _f(value: float | None, key: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if key == "rank_distance" else f"{value:.3f}"
