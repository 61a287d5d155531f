"""The dev scorer a training run is handed (:class:`hybridbatch.training.hooks.DevScorer`).

Training sits below evaluation, so the trainer does not import this module: ``train``,
``compare`` and ``study`` build the run with ``dev_scorer=lareqa_dev_scores``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.evaluation.encode import EncodeOptions
from hybridbatch.evaluation.evaluate import evaluate_model


def lareqa_dev_scores(
    model: Any, dev: Sequence[ParallelQACollection], train_languages: list[str]
) -> dict[str, float]:
    """Mono and Cross mAP on the dev splits, macro-averaged over the non-empty ones (NaN if none)."""
    mono, cross = [], []
    for collection in dev:
        if not collection.ids:
            continue
        quiet = EncodeOptions(show_progress=False)
        report = evaluate_model(model, collection, ("mono", "cross"), quiet, train_languages=train_languages)
        summary = report.summary
        if summary is None:
            continue
        if summary.mono_map is not None:
            mono.append(summary.mono_map)
        if summary.cross_map is not None:
            cross.append(summary.cross_map)
    return {
        "mono_map": sum(mono) / len(mono) if mono else math.nan,
        "cross_map": sum(cross) / len(cross) if cross else math.nan,
    }
