"""Write an evaluation report: ``report.json``, ``report.md``, PNG plots per dataset and the per-query
scores (``per_query.json``), atomically. Table columns come from :mod:`.registry`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hybridbatch.evaluation.plots import pair_matrix, plot_heatmap, plot_rank_distance
from hybridbatch.evaluation.registry import SCORES, Score, scores
from hybridbatch.evaluation.results import DatasetReport, EvaluationReport, LanguageRow, Summary
from hybridbatch.io import atomic_write_text

PER_QUERY_FILE = "per_query.json"


def summary_columns() -> list[Score]:
    """The headline columns (registered with ``table="main"``)."""
    return scores(table="main")


def extra_columns() -> list[Score]:
    """The second table's columns (registered with ``table="extra"``)."""
    return scores(table="extra")


def row_columns() -> list[Score]:
    """Per-language columns: the main scores."""
    return scores(table="main")


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
    per_query = {name: d.per_query.table() for name, d in report.datasets.items() if d.per_query is not None}
    if per_query:
        written.append(atomic_write_text(out / PER_QUERY_FILE, json.dumps(per_query, separators=(",", ":"))))
    written.append(atomic_write_text(out / "report.md", render_markdown(report, [p.name for p in written])))
    written.append(atomic_write_text(out / "report.json", report.model_dump_json(indent=2) + "\n"))
    return written


def fmt(value: float | None, field: str = "") -> str:
    """A score with 3 decimals, one in ranks (e.g. rank distance) with thousands separators, ``–`` when
    missing."""
    if field in SCORES:
        return SCORES[field].format(value)
    return "–" if value is None else f"{value:.3f}"


def render_markdown(report: EvaluationReport, plots: list[str] | None = None) -> str:
    """The Markdown report: summary table, then per dataset the language rows and the X→Y matrix."""
    lines = [f"# Evaluation of `{report.model}`", "", f"Created {report.created_at}.", ""]
    lines += ["## Summary (macro averages)", ""]
    lines += _summary_table([(name, d.summary) for name, d in report.datasets.items()], summary_columns())
    lines += ["", *_summary_table([(n, d.summary) for n, d in report.datasets.items()], extra_columns())]
    for name, dataset in report.datasets.items():
        lines += ["", *_dataset_section(name, dataset, plots or [])]
    return "\n".join(lines) + "\n"


def _summary_table(rows: list[tuple[str, Summary]], columns: list[Score]) -> list[str]:
    header = "| dataset | " + " | ".join(c.header for c in columns) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for name, summary in rows:
        values = [c.format(summary.get(c.name)) for c in columns]
        lines.append(f"| {name} | " + " | ".join(values) + " |")
    return lines


def _dataset_section(name: str, dataset: DatasetReport, plots: list[str]) -> list[str]:
    lines = [
        f"## {name}",
        "",
        f"{dataset.num_queries:,} queries, {dataset.num_candidates:,} candidates, "
        f"{len(dataset.languages)} query languages; settings: {', '.join(dataset.settings)}; "
        f"{dataset.seconds:.1f} s ({dataset.encode_seconds:.1f} s encoding, {precision_note(dataset)}).",
        "",
    ]
    if dataset.train_languages is not None:
        lines += [f"Training languages: {', '.join(dataset.train_languages) or 'none'}.", ""]
        groups = [("seen", dataset.summary_seen), ("unseen", dataset.summary_unseen)]
        lines += _summary_table([(g, s) for g, s in groups if s is not None], summary_columns())
        lines += ["", "(Cross pairs count as seen only when both languages were seen.)", ""]
    lines += ["### Per query language", "", *_language_table(dataset.languages)]
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


def _language_table(rows: list[LanguageRow]) -> list[str]:
    columns = row_columns()
    titles = [c.header + (" (X→·)" if c.setting == "cross" else "") for c in columns]
    lines = ["| lang | seen | queries | candidates | " + " | ".join(titles) + " |"]
    lines.append("|---" * (len(columns) + 4) + "|")
    for row in rows:
        seen = {True: "yes", False: "no", None: "?"}[row.seen_in_training]
        values = " | ".join(c.format(row.get(c.name)) for c in columns)
        lines.append(f"| {row.lang} | {seen} | {row.num_queries:,} | {row.num_candidates:,} | {values} |")
    return lines


def render_summary(report: EvaluationReport):
    """A rich table of the summaries (one row per dataset) for the terminal."""
    from rich.table import Table

    table = Table(title=f"{report.model}", title_justify="left")
    table.add_column("dataset", no_wrap=True)
    columns = summary_columns()
    for column in columns:
        table.add_column(column.header, justify="right", no_wrap=True)
    for name, dataset in report.datasets.items():
        table.add_row(name, *(c.format(dataset.summary.get(c.name)) for c in columns))
        for group, summary in (("  seen", dataset.summary_seen), ("  unseen", dataset.summary_unseen)):
            if summary is not None:
                table.add_row(group, *(c.format(summary.get(c.name)) for c in columns), style="dim")
    return table


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-60:] or "dataset"


def precision_note(dataset: DatasetReport) -> str:
    """``bf16``, or ``bf16 by auto on a CPU with native bf16 (avx512_bf16)`` when ``auto`` chose it."""
    if not dataset.precision_requested:
        return dataset.precision
    cpu = dataset.cpu or {}
    flags = ", ".join(cpu.get("bf16_flags", []))
    why = f"a CPU with native bf16 ({flags})" if flags else "a CPU without native bf16"
    return f"{dataset.precision} by {dataset.precision_requested} on {why}"
