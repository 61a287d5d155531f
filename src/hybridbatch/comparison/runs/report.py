"""``comparison.md`` and ``comparison.json``: the strategies side by side, seen vs unseen languages.

Columns come from the score registry (:mod:`hybridbatch.evaluation.registry`): the main table shows
the ``main`` scores, the seen/unseen table the ``headline`` ones (mAP, rank distance, LPR, TLR@10).
"""

from __future__ import annotations

from pathlib import Path

from hybridbatch.comparison.runs.paper import paper_rows
from hybridbatch.comparison.runs.phases import phase_rows
from hybridbatch.comparison.runs.results import ComparisonReport, StrategyResult
from hybridbatch.evaluation import Summary
from hybridbatch.evaluation.registry import get_score, scores
from hybridbatch.io import atomic_write_text

MAIN_COLUMNS = tuple(s.name for s in scores(table="main"))
HEADERS = tuple(s.header for s in scores(table="main"))


def write_comparison(report: ComparisonReport, out: Path) -> None:
    """Write ``comparison.json``, ``comparison.md`` and the plots into ``out``."""
    from hybridbatch.comparison.runs.plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "comparison.json", report.model_dump_json(indent=2) + "\n")
    plots = write_plots(report, out)
    atomic_write_text(out / "comparison.md", render_markdown(report, [p.name for p in plots]))


OVERLAP_NOTE = (
    "**Trained with --allow-overlap**: the leakage guard was overridden, so training sources may share "
    "question or answer texts with the evaluation sets, and those scores may be inflated."
)


def render_markdown(report: ComparisonReport, plots: list[str] | None = None) -> str:
    """The comparison as Markdown tables."""
    cfg = report.config
    lines = [
        f"# Strategy comparison: {cfg.model}",
        "",
        f"Trained on {', '.join(cfg.train)} ({', '.join(report.train_languages)}), "
        f"{cfg.budget} steps per strategy, seed {cfg.seed}; evaluated on {', '.join(cfg.eval)} "
        f"(held out). Created {report.created_at}.",
        "",
    ]
    if cfg.allow_overlap:
        lines += [OVERLAP_NOTE, ""]
    datasets = list(next(iter(report.strategies.values())).datasets) if report.strategies else []
    for dataset in datasets:
        lines += [f"## {dataset}", "", *_main_table(report, dataset), ""]
        lines += _paper_table(dataset)
    lines += ["## Seen vs unseen languages", "", *_seen_table(report), ""]
    lines += ["## Training cost", "", *_cost_table(report), ""]
    if report.phases:
        lines += ["## Wall time per phase", "", _row(("phase", "wall time")), _row(("---",) * 2)]
        lines += [*(_row(cells) for cells in phase_rows(report.phases)), ""]
    if plots:
        lines += ["## Plots", "", *[f"![{p}]({p})" for p in plots], ""]
    return "\n".join(lines)


def strategy_table(report: ComparisonReport) -> list[list[str]]:
    """Rows (strategy + main columns) of the primary dataset, for the terminal."""
    return [[name, *_cells(r.summary)] for name, r in report.strategies.items()]


def _main_table(report: ComparisonReport, dataset: str) -> list[str]:
    base = report.strategies.get("base")
    rows = [_row(("strategy", *HEADERS, "Δ Mono vs base"))]
    rows.append(_row(("---",) * (len(HEADERS) + 2)))
    for name, result in report.strategies.items():
        summary = result.datasets[dataset].summary
        delta = _delta(summary, base.datasets[dataset].summary if base else None)
        rows.append(_row((name, *_cells(summary), delta)))
    return rows


def _paper_table(dataset: str) -> list[str]:
    rows = paper_rows(dataset)
    if not rows:
        return []
    out = ["Paper, Table 1 (arXiv 2408.10536; XLM-R / LaBSE, trained on much more data):", ""]
    head = [get_score(name).header for name in ("mono_map", "cross_map", "multi_map", "rank_distance")]
    out += [_row(("model", *head)), _row(("---",) * 5)]
    out += [_row((label, f"{m:.3f}", f"{c:.3f}", f"{u:.3f}", str(rd))) for label, m, c, u, rd in rows]
    return [*out, ""]


def _seen_table(report: ComparisonReport) -> list[str]:
    columns = scores(headline=True)
    header = ("strategy", *(f"{group} {c.header}" for group in ("seen", "unseen") for c in columns))
    rows = [_row(header), _row(("---",) * len(header))]
    for name, result in report.strategies.items():
        cells = [name]
        for summary in (result.summary_seen, result.summary_unseen):
            cells += _cells(summary, tuple(c.name for c in columns))
        rows.append(_row(cells))
    return rows


def _cost_table(report: ComparisonReport) -> list[str]:
    rows = [_row(("strategy", "steps", "minutes", "pairs/s", "α")), _row(("---",) * 5)]
    for name, result in report.strategies.items():
        rows.append(_row((name, *_cost_cells(result))))
    return rows


def _cost_cells(result: StrategyResult) -> list[str]:
    t = result.training
    if t is None:
        return ["0", "0", "–", "–"]
    alpha = f"{t.alpha:g}" if t.alpha is not None else "–"
    return [str(t.steps), f"{t.seconds / 60:.1f}", f"{t.pairs_per_second:.1f}", alpha]


def _cells(summary: Summary | None, columns: tuple[str, ...] = MAIN_COLUMNS) -> list[str]:
    return [
        get_score(c).format(summary.get(c) if summary is not None else None, compact=True) for c in columns
    ]


def _delta(summary: Summary, base: Summary | None) -> str:
    if base is None or summary.mono_map is None or base.mono_map is None:
        return "–"
    return f"{summary.mono_map - base.mono_map:+.3f}"


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
