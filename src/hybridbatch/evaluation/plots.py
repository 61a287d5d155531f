"""PNG plots of a dataset report (matplotlib, Agg backend): the X→Y mAP heatmap and rank-distance bars."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from hybridbatch.evaluation.results import DatasetReport
from hybridbatch.figures import pyplot, save_png

SEEN, UNSEEN, UNKNOWN = "#1f77b4", "#ff7f0e", "#7f7f7f"


def short_model_name(model: str) -> str:
    """The last two parts of a model path (``runs/x/model`` -> ``x/model``), a spec unchanged."""
    parts = Path(model).parts
    return model if len(parts) <= 2 else str(Path(*parts[-2:]))


def pair_matrix(report: DatasetReport) -> tuple[list[str], np.ndarray]:
    """Languages (sorted) and the ``L × L`` mAP matrix (rows: query language), ``nan`` where absent."""
    langs = sorted({c.query_lang for c in report.matrix} | {c.candidate_lang for c in report.matrix})
    index = {lang: i for i, lang in enumerate(langs)}
    values = np.full((len(langs), len(langs)), np.nan)
    for cell in report.matrix:
        values[index[cell.query_lang], index[cell.candidate_lang]] = cell.map
    return langs, values


def plot_heatmap(report: DatasetReport, model: str, path: Path) -> Path | None:
    """X→Y mAP heatmap with values in the cells; ``None`` when the report has no matrix."""
    langs, values = pair_matrix(report)
    if not langs:
        return None
    plt = pyplot()
    size = max(4.5, 0.62 * len(langs) + 2.2)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("query language")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    fontsize = 9 if len(langs) <= 8 else 7.5
    for i in range(len(langs)):
        for j in range(len(langs)):
            value = values[i, j]
            if math.isnan(value):
                ax.text(j, i, "–", ha="center", va="center", color="#444444", fontsize=fontsize)
                continue
            colour = "black" if value > 0.6 else "white"
            weight = "bold" if i == j else "normal"
            ax.text(
                j, i, f"{value:.2f}", ha="center", va="center", color=colour, fontsize=fontsize, weight=weight
            )
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("mAP")
    summary = report.summary
    subtitle = "diagonal: Mono (bold); off-diagonal: Cross"
    if summary.mono_map is not None and summary.cross_map is not None:
        subtitle += f"  |  Mono {summary.mono_map:.3f}, Cross {summary.cross_map:.3f}"
    ax.set_title(f"X→Y mAP: {short_model_name(model)} on {report.dataset}\n{subtitle}", fontsize=10, pad=12)
    return save_png(path, fig, dpi=130)


def plot_rank_distance(report: DatasetReport, model: str, path: Path) -> Path | None:
    """Bars of the mean rank distance per query language, seen/unseen in training coloured apart."""
    rows = [r for r in report.languages if r.rank_distance is not None]
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(rows) + 2.5), 4.6))
    colours = {True: SEEN, False: UNSEEN, None: UNKNOWN}
    labels = {True: "seen in training", False: "not seen in training", None: "training languages unknown"}
    x = np.arange(len(rows))
    bars = ax.bar(x, [r.rank_distance for r in rows], color=[colours[r.seen_in_training] for r in rows])
    for rect, row in zip(bars, rows, strict=True):
        label = _number(row.rank_distance)
        ax.annotate(
            label,
            (rect.get_x() + rect.get_width() / 2, rect.get_height()),
            ha="center",
            va="bottom",
            fontsize=7.5,
            xytext=(0, 2),
            textcoords="offset points",
        )
    mean = report.summary.rank_distance
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=colours[key], label=labels[key])
        for key in (True, False, None)
        if any(r.seen_in_training is key for r in rows)
    ]
    if mean is not None:
        handles.append(
            ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"macro mean {mean:,.0f}")
        )
    ax.set_xticks(x, [r.lang for r in rows])
    ax.set_xlabel("query language")
    ax.set_ylabel("mean rank distance (lower is better)")
    ax.set_ylim(0, max(r.rank_distance for r in rows) * 1.12 or 1)
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False
    )
    ax.set_title(f"Rank distance (Multi): {short_model_name(model)} on {report.dataset}", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return save_png(path, fig, dpi=130)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
