"""Plots of a study (:mod:`.study_report`): mAP by run, AfriQA by language, the learning curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hybridbatch.comparison.studies.study_run import StudyResult, afriqa_splits
from hybridbatch.figures import pyplot, save_png

plt = pyplot()

LAREQA_COLUMNS = (("mono_map", "Mono"), ("cross_map", "Cross"), ("multi_map", "Multi"))


def write_plots(result: StudyResult, folder: Path) -> list[Path]:
    """Write the study's PNG plots into ``folder``; return their paths."""
    paths = []
    seed = result.study.seeds[0]
    if seed in result.lareqa:
        paths.append(save_png(folder / "lareqa_map.png", _lareqa_bars(result), dpi=110))
    for split in afriqa_splits(result.study):
        if seed in result.afriqa.get(split, {}):
            paths.append(
                save_png(
                    folder / f"afriqa_{split}.png", _afriqa_bars(result.afriqa[split][seed], split), dpi=110
                )
            )
    if result.study.checkpoints and (seed in result.lareqa or result.afriqa):
        paths.append(save_png(folder / "learning_curve.png", _learning_curve(result), dpi=110))
    return paths


def _learning_curve(result: StudyResult) -> plt.Figure:
    """Scores against training steps (checkpoints of one run)."""
    seed = result.study.seeds[0]
    runs = [r for r in result.runs if r.seed == seed and r.step is not None]
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    report = result.lareqa.get(seed)
    for key, label in LAREQA_COLUMNS[:3] if report else ():
        points = [
            (r.step, getattr(report.strategies[r.label].summary, key))
            for r in runs
            if r.label in report.strategies
        ]
        ax.plot(*zip(*points, strict=True), marker="o", label=f"{report.primary_eval} {label} mAP")
    for split, by_seed in result.afriqa.items():
        done = by_seed.get(seed, {})
        points = [(r.step, done[r.label]["mean_native"]["ndcg10"]) for r in runs if r.label in done]
        ax.plot(*zip(*points, strict=True), marker="s", linestyle="--", label=f"AfriQA {split} nDCG@10")
    ax.set_xlabel("training steps (checkpoints of one run)")
    ax.set_ylabel("score")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(f"{result.study.name}: learning curve of {result.study.reference}", fontsize=9)
    return fig


def _lareqa_bars(result: StudyResult) -> plt.Figure:
    report = result.lareqa[result.study.seeds[0]]
    names = list(report.strategies)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(names) + 2), 4.0))
    for i, (key, label) in enumerate(LAREQA_COLUMNS[:3]):
        values = [getattr(report.strategies[n].summary, key, None) or 0.0 for n in names]
        ax.bar(x + (i - 1) * 0.27, values, 0.27, label=label)
    ax.set_xticks(x, names, rotation=15)
    ax.set_ylabel("mAP")
    ax.set_ylim(0, 1)
    ax.legend(ncols=3, loc="upper center", fontsize=8)
    ax.set_title(f"{result.study.name}: {report.primary_eval} mAP by run", fontsize=9)
    return fig


def _afriqa_bars(runs: dict[str, dict], split: str) -> plt.Figure:
    names = list(runs)
    languages = list(next(iter(runs.values()))["languages"])
    x = np.arange(len(languages) + 1)
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * len(x) + 2), 4.0))
    for i, name in enumerate(names):
        rep = runs[name]
        values = [rep["languages"][lang]["native"]["ndcg10"] for lang in languages]
        centres = x + (i - (len(names) - 1) / 2) * width
        ax.bar(centres, [*values, rep["mean_native"]["ndcg10"]], width, label=name)
        upper = [rep["languages"][lang]["translated"]["ndcg10"] for lang in languages]
        ax.scatter(
            centres,
            [*upper, rep["mean_translated"]["ndcg10"]],
            marker="_",
            s=160,
            color="black",
            label="translate-test" if i == 0 else None,
            zorder=3,
        )
    ax.set_xticks(x, [*languages, "mean"])
    ax.set_ylabel("nDCG@10 (bars: African-language question)")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"AfriQA {split}: cross-lingual retrieval by question language", fontsize=9)
    ax.legend(fontsize=8, ncols=len(names) + 1, loc="lower center")
    return fig
