"""``flores.png``: per language, the model's bitext accuracy against the reference's, and Δ."""

from __future__ import annotations

from pathlib import Path

from hybridbatch.evaluation.flores import HEADLINE
from hybridbatch.evaluation.flores_report import FloresReport, sorted_rows
from hybridbatch.evaluation.plots import short_model_name
from hybridbatch.figures import pyplot, save_png

COLORS = {"trained": "#1f77b4", "held-out": "#ff7f0e"}


def plot_flores(report: FloresReport, path: Path) -> Path:
    """Two panels over the languages in the report table's order (by Δ): accuracy (bars: model,
    dots: reference) and Δ = model − reference, coloured by group (trained / held-out)."""
    rows = sorted_rows(report)
    plt = pyplot()
    width = max(6.0, 0.075 * len(rows) + 2.0)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(width, 6.5), sharex=True)
    x = range(len(rows))
    colors = [COLORS.get(r.group, "#7f7f7f") for r in rows]
    top.bar(x, [r.scores[HEADLINE] for r in rows], color=colors, width=0.8)
    top.plot(x, [r.reference[HEADLINE] for r in rows], "k.", markersize=3, label="reference")
    top.set_ylim(0.0, 1.0)
    top.set_ylabel("bitext top-1 accuracy")
    top.set_title(
        f"FLORES-200 {report.split}: {short_model_name(str(report.model))} "
        f"vs {short_model_name(str(report.reference_model))}"
    )
    from matplotlib.patches import Patch

    handles = [Patch(color=color, label=group) for group, color in COLORS.items()]
    top.legend(handles=[*handles, *top.get_legend_handles_labels()[0]], loc="lower right", fontsize=7)
    bottom.bar(x, [r.delta for r in rows], color=colors, width=0.8)
    bottom.axhline(-report.below_threshold, color="red", linewidth=0.6, linestyle="--")
    bottom.axhline(0.0, color="black", linewidth=0.6)
    bottom.set_ylabel("Δ vs reference")
    bottom.set_xticks(list(x))
    bottom.set_xticklabels([r.lang for r in rows], rotation=90, fontsize=4 if len(rows) > 40 else 7)
    return save_png(path, fig)
