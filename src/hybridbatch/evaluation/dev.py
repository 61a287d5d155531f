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

SETTINGS = ("mono", "cross", "multi")


def lareqa_dev_scores(
    model: Any, dev: Sequence[ParallelQACollection], train_languages: list[str]
) -> dict[str, float]:
    """Mono, Cross and Multi mAP on the dev splits, macro-averaged over the non-empty ones (NaN if none).

    Multi pools every dev language's candidates (the setting language bias shows in); it costs no extra
    encoding, the same embeddings are ranked once more.
    """
    found: dict[str, list[float]] = {f"{setting}_map": [] for setting in SETTINGS}
    quiet = EncodeOptions(show_progress=False)
    for collection in dev:
        if not collection.ids:
            continue
        summary = evaluate_model(model, collection, SETTINGS, quiet, train_languages=train_languages).summary
        for key, values in found.items():
            value = getattr(summary, key, None) if summary is not None else None
            if value is not None:
                values.append(value)
    return {key: sum(values) / len(values) if values else math.nan for key, values in found.items()}
