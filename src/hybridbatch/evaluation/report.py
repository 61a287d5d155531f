"""Write an evaluation report: ``report.json``, ``report.md`` and PNG plots per dataset (atomically)."""

from __future__ import annotations

import re
from pathlib import Path

from hybridbatch.evaluation.plots import pair_matrix, plot_heatmap, plot_rank_distance
from hybridbatch.evaluation.results import DatasetReport, EvaluationReport, Summary
from hybridbatch.io import atomic_write_text

#: (Summary field, column header) of the summary tables.
SUMMARY_COLUMNS = [
    ("mono_map", "Mono mAP"),
    ("cross_map", "Cross mAP"),
    ("multi_map", "Multi mAP"),
    ("mono_r1", "Mono R@1"),
    ("cross_r1", "Cross R@1"),
    ("multi_r10", "Multi R@10"),
    ("rank_distance", "Rank dist."),
]
EXTRA_COLUMNS = [
    ("mono_map20", "Mono mAP@20"),
    ("cross_map20", "Cross mAP@20"),
    ("multi_map20", "Multi mAP@20"),
    ("mono_mrr10", "Mono MRR@10"),
    ("cross_mrr10", "Cross MRR@10"),
    ("multi_mrr10", "Multi MRR@10"),
]


def write_report(report: EvaluationReport, out: Path) -> list[Path]:
    """Write ``report.json``, ``report.md`` and the plots into ``out``; return the written paths."""
    out = Path(out)
    written = []
    for name, dataset in report.datasets.items():
        slug = _slug(name)
        for plot, stem in ((plot_heatmap, "heatmap"), (plot_rank_distance, "rank_distance")):
            path = plot(dataset, report.model, out / f"{stem}_{slug}.png")
            if path is not None:
                written.append(path)
    written.append(atomic_write_text(out / "report.md", render_markdown(report, [p.name for p in written])))
    written.append(atomic_write_text(out / "report.json", report.model_dump_json(indent=2) + "\n"))
    return written


def fmt(value: float | None, field: str = "") -> str:
    """A score with 3 decimals, a rank distance with thousands separators, ``–`` when missing."""
    if value is None:
        return "–"
    return f"{value:,.1f}" if field == "rank_distance" else f"{value:.3f}"


def render_markdown(report: EvaluationReport, plots: list[str] | None = None) -> str:
    """The Markdown report: summary table, then per dataset the language rows and the X→Y matrix."""
    lines = [f"# Evaluation of `{report.model}`", "", f"Created {report.created_at}.", ""]
    lines += ["## Summary (macro averages)", ""]
    lines += _summary_table([(name, d.summary) for name, d in report.datasets.items()], SUMMARY_COLUMNS)
    lines += ["", *_summary_table([(n, d.summary) for n, d in report.datasets.items()], EXTRA_COLUMNS)]
    for name, dataset in report.datasets.items():
        lines += ["", *_dataset_section(name, dataset, plots or [])]
    return "\n".join(lines) + "\n"


def _summary_table(rows: list[tuple[str, Summary]], columns: list[tuple[str, str]]) -> list[str]:
    header = "| dataset | " + " | ".join(title for _, title in columns) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for name, summary in rows:
        values = [fmt(getattr(summary, field), field) for field, _ in columns]
        lines.append(f"| {name} | " + " | ".join(values) + " |")
    return lines


def _dataset_section(name: str, dataset: DatasetReport, plots: list[str]) -> list[str]:
    lines = [
        f"## {name}",
        "",
        f"{dataset.num_queries:,} queries, {dataset.num_candidates:,} candidates, "
        f"{len(dataset.languages)} query languages; settings: {', '.join(dataset.settings)}; "
        f"{dataset.seconds:.1f} s ({dataset.encode_seconds:.1f} s encoding).",
        "",
    ]
    if dataset.train_languages is not None:
        lines += [f"Training languages: {', '.join(dataset.train_languages) or 'none'}.", ""]
        groups = [("seen", dataset.summary_seen), ("unseen", dataset.summary_unseen)]
        lines += _summary_table([(g, s) for g, s in groups if s is not None], SUMMARY_COLUMNS)
        lines += ["", "(Cross pairs count as seen only when both languages were seen.)", ""]
    lines += ["### Per query language", ""]
    lines += [
        "| lang | seen | queries | candidates | Mono mAP | Mono R@1 | Cross mAP (X→·) | Multi mAP | "
        "Multi R@10 | Rank dist. |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in dataset.languages:
        seen = {True: "yes", False: "no", None: "?"}[row.seen_in_training]
        lines.append(
            f"| {row.lang} | {seen} | {row.num_queries:,} | {row.num_candidates:,} | {fmt(row.mono_map)} | "
            f"{fmt(row.mono_r1)} | {fmt(row.cross_map)} | {fmt(row.multi_map)} | {fmt(row.multi_r10)} | "
            f"{fmt(row.rank_distance, 'rank_distance')} |"
        )
    langs, values = pair_matrix(dataset)
    if langs:
        lines += ["", "### X→Y mAP (rows: query language, columns: candidate language)", ""]
        lines += ["| query \\ candidate | " + " | ".join(langs) + " |", "|---" * (len(langs) + 1) + "|"]
        for i, lang in enumerate(langs):
            cells = ["–" if value != value else f"{value:.3f}" for value in values[i]]
            lines.append(f"| **{lang}** | " + " | ".join(cells) + " |")
    slug = _slug(name)
    for file in plots:
        if file.endswith(f"_{slug}.png"):
            lines += ["", f"![{file}]({file})"]
    return lines


def render_summary(report: EvaluationReport):
    """A rich table of the summaries (one row per dataset) for the terminal."""
    from rich.table import Table

    table = Table(title=f"{report.model}", title_justify="left")
    table.add_column("dataset", no_wrap=True)
    for _, title in SUMMARY_COLUMNS:
        table.add_column(title, justify="right", no_wrap=True)
    for name, dataset in report.datasets.items():
        table.add_row(name, *(fmt(getattr(dataset.summary, f), f) for f, _ in SUMMARY_COLUMNS))
        for group, summary in (("  seen", dataset.summary_seen), ("  unseen", dataset.summary_unseen)):
            if summary is not None:
                table.add_row(group, *(fmt(getattr(summary, f), f) for f, _ in SUMMARY_COLUMNS), style="dim")
    return table


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-60:] or "dataset"
