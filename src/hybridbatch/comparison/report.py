"""``comparison.md`` and ``comparison.json``: the strategies side by side, seen vs unseen languages."""

from __future__ import annotations

from pathlib import Path

from hybridbatch.comparison.paper import paper_rows
from hybridbatch.comparison.results import ComparisonReport, StrategyResult
from hybridbatch.evaluation import Summary
from hybridbatch.io import atomic_write_text

MAIN_COLUMNS = ("mono_map", "cross_map", "multi_map", "mono_r1", "cross_r1", "multi_r10", "rank_distance")
HEADERS = ("Mono mAP", "Cross mAP", "Multi mAP", "Mono R@1", "Cross R@1", "Multi R@10", "rank dist. ↓")


def write_comparison(report: ComparisonReport, out: Path) -> None:
    """Write ``comparison.json``, ``comparison.md`` and the plots into ``out``."""
    from hybridbatch.comparison.plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "comparison.json", report.model_dump_json(indent=2) + "\n")
    plots = write_plots(report, out)
    atomic_write_text(out / "comparison.md", render_markdown(report, [p.name for p in plots]))


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
    datasets = list(next(iter(report.strategies.values())).datasets) if report.strategies else []
    for dataset in datasets:
        lines += [f"## {dataset}", "", *_main_table(report, dataset), ""]
        lines += _paper_table(dataset)
    lines += ["## Seen vs unseen languages", "", *_seen_table(report), ""]
    lines += ["## Training cost", "", *_cost_table(report), ""]
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
    out += [_row(("model", "Mono mAP", "Cross mAP", "Multi mAP", "rank dist. ↓")), _row(("---",) * 5)]
    out += [_row((label, f"{m:.3f}", f"{c:.3f}", f"{u:.3f}", str(rd))) for label, m, c, u, rd in rows]
    return [*out, ""]


def _seen_table(report: ComparisonReport) -> list[str]:
    header = ("strategy", "seen Mono", "seen Cross", "seen Multi", "seen RD", "unseen Mono", "unseen Cross")
    header += ("unseen Multi", "unseen RD")
    rows = [_row(header), _row(("---",) * len(header))]
    for name, result in report.strategies.items():
        cells = [name]
        for summary in (result.summary_seen, result.summary_unseen):
            cells += _cells(summary, ("mono_map", "cross_map", "multi_map", "rank_distance"))
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
    out = []
    for column in columns:
        value = getattr(summary, column, None) if summary is not None else None
        if value is None:
            out.append("–")
        else:
            out.append(f"{value:.0f}" if column == "rank_distance" else f"{value:.3f}")
    return out


def _delta(summary: Summary, base: Summary | None) -> str:
    if base is None or summary.mono_map is None or base.mono_map is None:
        return "–"
    return f"{summary.mono_map - base.mono_map:+.3f}"


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
