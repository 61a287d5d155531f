"""Render :class:`~hybridbatch.comparison.significance.paired.SignificanceReport` as Markdown and
as a terminal table."""

from __future__ import annotations

from hybridbatch.comparison.significance.paired import MetricRow, SignificanceReport
from hybridbatch.comparison.significance.significance import format_delta
from hybridbatch.evaluation.registry import get_score, score_names

AFRIQA_COLUMNS = score_names(task="retrieval")  # ndcg10, mrr10, r100

LEGEND = (
    "Δ = strategy − reference over the same queries; [95% CI] from a paired percentile bootstrap, "
    "p from a two-sided paired randomization test ({n:,} resamples, seed {seed}); "
    "**(n.s.)** marks differences not significant at p < 0.05. Rank distance: lower is better."
)


def render_significance(sig: SignificanceReport) -> list[str]:
    """Markdown lines: the paired-test table, then (several seeds) the mean ± std across seeds."""
    labels = _labels(sig)
    lines = [
        f"### {sig.dataset}: against {sig.reference} (seed {sig.reference_seed})",
        "",
        _row(("strategy", *[f"Δ {label}" for label in labels])),
        _row(("---",) * (len(labels) + 1)),
    ]
    for name, rows in sig.rows.items():
        if name == sig.reference:
            lines.append(_row((f"{name} (reference)", *[_value(rows[label]) for label in labels])))
        else:
            lines.append(_row((name, *[_test_cell(rows[label]) for label in labels])))
    lines += ["", LEGEND.format(n=sig.n_resamples, seed=sig.reference_seed), ""]
    if len(sig.seeds) > 1:
        lines += _seed_table(sig, labels)
    lines += [line for note in sig.notes for line in (f"Note: {note}", "")]
    return lines


def _seed_table(sig: SignificanceReport, labels: list[str]) -> list[str]:
    seeds = ", ".join(str(s) for s in sig.seeds)
    lines = [
        f"Across seeds {seeds} (mean ± sample std; Δ against {sig.reference} per seed):",
        "",
        _row(("strategy", *[f"{label}" for label in labels], *[f"Δ {label}" for label in labels])),
        _row(("---",) * (2 * len(labels) + 1)),
    ]
    for name, rows in sig.rows.items():
        values = [_pm(rows[label].seed_mean, rows[label].seed_std, label) for label in labels]
        deltas = [_pm(rows[label].delta_mean, rows[label].delta_std, label, sign=True) for label in labels]
        lines.append(_row((name, *values, *deltas)))
    return [*lines, ""]


def significance_cells(sig: SignificanceReport) -> tuple[str, list[str], list[list[str]]]:
    """The terminal table's title, column headers and rows (paired test, and seed spread when there
    are several seeds); commands render them."""
    labels = _labels(sig)
    several = len(sig.seeds) > 1
    rows = []
    for name, by_label in sig.rows.items():
        cells = []
        for label in labels:
            row = by_label[label]
            cell = _value(row) if name == sig.reference else _test_cell(row)
            if several:
                cell += f"\n{_pm(row.seed_mean, row.seed_std, label)} ({len(sig.seeds)} seeds)"
            cells.append(cell)
        rows.append([name + (" (ref.)" if name == sig.reference else ""), *cells])
    title = f"{sig.dataset}: Δ vs {sig.reference} [95% CI] p (paired, per query)"
    return title, ["strategy", *labels], rows


def afriqa_tables(runs: dict[str, dict]) -> list[str]:
    """Markdown: AfriQA means per run (native, translate-test, gap), then nDCG@10 per language."""
    head = [f"{get_score(m).title} native" for m in AFRIQA_COLUMNS] + ["nDCG@10 translate-test", "gap"]
    lines = [_row(("run", *head)), _row(("---",) * (len(head) + 1))]
    for name, rep in runs.items():
        native, translated = rep["mean_native"], rep["mean_translated"]
        cells = [f"{native[m]:.3f}" for m in AFRIQA_COLUMNS]
        cells += [f"{translated['ndcg10']:.3f}", f"{translated['ndcg10'] - native['ndcg10']:+.3f}"]
        lines.append(_row((name, *cells)))
    languages = list(next(iter(runs.values()))["languages"])
    lines += ["", "nDCG@10 per question language (native question; translate-test in the second row):", ""]
    lines += [_row(("run", *languages)), _row(("---",) * (len(languages) + 1))]
    for name, rep in runs.items():
        for side, label in (("native", name), ("translated", f"{name}, translate-test")):
            values = [rep["languages"][lang][side]["ndcg10"] for lang in languages]
            lines.append(_row((label, *[f"{v:.3f}" for v in values])))
    return lines


def _labels(sig: SignificanceReport) -> list[str]:
    first = next(iter(sig.rows.values()), {})
    return list(first)


def _test_cell(row: MetricRow) -> str:
    if row.test is None:
        if row.delta_mean is None:
            return "–"
        return f"{_fmt(row.delta_mean, row.label, sign=True)} (no per-query scores)"
    digits = 0 if row.label.startswith("rank") else 3
    return format_delta(row.test, digits)


def _value(row: MetricRow) -> str:
    if row.test is not None:
        return _fmt(row.test.mean_b, row.label)
    return _fmt(row.seed_mean, row.label) if row.seed_mean is not None else "–"


def _pm(mean: float | None, std: float | None, label: str, sign: bool = False) -> str:
    if mean is None:
        return "–"
    return f"{_fmt(mean, label, sign)} ± {_fmt(std or 0.0, label)}"


def _fmt(value: float | None, label: str, sign: bool = False) -> str:
    if value is None:
        return "–"
    digits = 0 if label.startswith("rank") else 3
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
