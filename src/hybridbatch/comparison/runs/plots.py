"""Plots of a comparison: mAP per strategy and setting, rank distance per strategy, the α sweep."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hybridbatch.comparison.runs.config import alpha_of, plan_runs
from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.evaluation.registry import scores
from hybridbatch.figures import pyplot, save_png

plt = pyplot()

SETTINGS = (("mono_map", "Mono"), ("cross_map", "Cross"), ("multi_map", "Multi"))  # mAP per setting


def write_plots(report: ComparisonReport, out: Path) -> list[Path]:
    """Write the PNG plots into ``out``; return their paths."""
    paths = [
        save_png(out / "map_by_strategy.png", _map_bars(report)),
        save_png(out / "rank_distance_by_strategy.png", _rank_distance_bars(report)),
        save_png(out / "seen_vs_unseen.png", _seen_unseen_bars(report)),
    ]
    sweep = _alpha_sweep(report)
    if sweep is not None:
        paths.append(save_png(out / "alpha_sweep.png", sweep))
    return paths


def _title(report: ComparisonReport, what: str) -> str:
    cfg = report.config
    return f"{what} — {cfg.model}, trained on {'+'.join(cfg.train)}, on {report.primary_eval}"


def _map_bars(report: ComparisonReport) -> plt.Figure:
    names = list(report.strategies)
    x = np.arange(len(names))
    width = 0.8 / len(SETTINGS)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(names) + 2), 4.2))
    for i, (key, label) in enumerate(SETTINGS):
        values = [getattr(report.strategies[n].summary, key) or 0.0 for n in names]
        bars = ax.bar(x + (i - 1) * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(x, names)
    ax.set_ylabel("mAP (macro-averaged)")
    ax.set_xlabel("training strategy")
    ax.set_ylim(0, 1.15)
    ax.legend(title="setting", loc="upper center", ncols=3, fontsize=8)
    ax.set_title(_title(report, "mAP by setting"), fontsize=9)
    return fig


def _rank_distance_bars(report: ComparisonReport) -> plt.Figure:
    """Rank distance per strategy, and next to it the other registered language-bias scores in [0, 1]."""
    names = list(report.strategies)
    shares = [s for s in scores("multi", headline=True) if not s.in_ranks]
    fig, (ax, right) = plt.subplots(1, 2, figsize=(max(9.0, 2.0 * len(names) + 3), 3.8))
    values = [report.strategies[n].summary.rank_distance or 0.0 for n in names]
    bars = ax.bar(names, values, color="tab:red")
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_ylabel("mean rank distance (lower = less language bias)")
    ax.set_xlabel("training strategy")
    x = np.arange(len(names))
    width = 0.8 / max(1, len(shares))
    for i, score in enumerate(shares):
        heights = [report.strategies[n].summary.get(score.name) or 0.0 for n in names]
        drawn = right.bar(x + (i - (len(shares) - 1) / 2) * width, heights, width, label=score.header)
        right.bar_label(drawn, fmt="%.2f", fontsize=7, padding=1)
    right.set_xticks(x, names)
    right.set_ylim(0, 1.15)
    right.set_xlabel("training strategy")
    right.legend(fontsize=8, loc="upper center", ncols=max(1, len(shares)))
    fig.suptitle(_title(report, "Language bias"), fontsize=9)
    return fig


def _seen_unseen_bars(report: ComparisonReport) -> plt.Figure:
    names = list(report.strategies)
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(max(9.0, 2.0 * len(names) + 3), 4.0), sharey=True)
    for ax, attr, label in zip(axes, ("summary_seen", "summary_unseen"), ("seen", "unseen"), strict=True):
        for i, (key, setting) in enumerate(SETTINGS):
            values = [getattr(getattr(report.strategies[n], attr), key, None) or 0.0 for n in names]
            ax.bar(x + (i - 1) * 0.27, values, 0.27, label=setting)
        ax.set_xticks(x, names, rotation=20)
        ax.set_title(f"languages {label} in training", fontsize=9)
        ax.set_ylim(0, 1.15)
    axes[0].set_ylabel("mAP")
    axes[0].legend(title="setting", ncols=3, loc="upper center", fontsize=8)
    fig.suptitle(_title(report, "Seen vs unseen languages"), fontsize=9)
    return fig


def _alpha_sweep(report: ComparisonReport) -> plt.Figure | None:
    points = []
    for run in plan_runs(report.config):
        alpha = alpha_of(run, report.config)
        sweeps_k = run.overrides is not None and run.overrides.get("languages_per_batch") is not None
        if alpha is not None and run.name in report.strategies and not sweeps_k:
            points.append((alpha, report.strategies[run.name].summary))
    if len(points) < 2:
        return None
    points.sort(key=lambda p: p[0])
    alphas = [a for a, _ in points]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in SETTINGS:
        ax.plot(alphas, [getattr(s, key) for _, s in points], marker="o", label=f"{label} mAP")
    ax.set_xlabel("α (share of monolingual X-X batches)")
    ax.set_ylabel("mAP")
    ax.set_ylim(0, 1)
    rd_axis = ax.twinx()
    rd_axis.plot(alphas, [s.rank_distance for _, s in points], "k--", marker="s", label="rank distance")
    rd_axis.set_ylabel("rank distance (lower is better)")
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = rd_axis.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, loc="lower right", fontsize=8)
    ax.set_title(_title(report, "α sweep (hybrid)"), fontsize=9)
    return fig
