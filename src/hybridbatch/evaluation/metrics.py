"""Ranking metrics computed from the ranks of each query's relevant candidates.

Every metric takes ``ranks``: a ``Q × R`` float array whose row holds the (1-based) ranks of one
query's relevant candidates in the full ranking, padded with ``inf`` (see
:func:`hybridbatch.evaluation.ranking.relevant_ranks`). The number of relevant candidates of a query,
``R_q``, is the number of finite entries of its row (every query needs at least one). Rows need not
be sorted. Each metric returns one value per query; settings average them.

With ``r_1 <= r_2 <= ... <= r_R`` the sorted ranks of a query:

- ``AP``   (average precision over the full ranking): ``(1/R) Σ_i i / r_i``.
- ``AP@k`` (XTREME-R's mAP@20): ``(1/min(R, k)) Σ_{i: r_i <= k} i / r_i``. Note: trec_eval's
  ``map_cut.k`` divides by ``R`` instead; the two agree when ``R <= k``.
- ``R@k``  (recall at k): fraction of the relevant candidates ranked in the top k,
  ``#{i : r_i <= k} / R``. With one relevant candidate (Mono, Cross) it is hit@k (Recall@1 = P@1).
- ``RR@k`` (reciprocal rank, MRR@k when averaged): ``1 / r_1`` if ``r_1 <= k`` else 0.

Metrics are registered by name (ir_measures style: ``AP``, ``AP@20``, ``R@10``, ``RR@10``); use
:func:`get_metric` to parse a name and :data:`METRICS` to list the families.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MetricFn = Callable[[np.ndarray, int | None], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """A named per-query metric with an optional cutoff ``k``."""

    family: str
    k: int | None
    fn: MetricFn

    @property
    def name(self) -> str:
        """The metric's name, e.g. ``AP@20``."""
        return self.family if self.k is None else f"{self.family}@{self.k}"

    def __call__(self, ranks: np.ndarray) -> np.ndarray:
        """Per-query values for ``ranks`` (``Q × R``, ``inf``-padded)."""
        return self.fn(ranks, self.k)

    def mean(self, ranks: np.ndarray) -> float:
        """Mean over queries (``nan`` when there are none)."""
        values = self(ranks)
        return float(values.mean()) if len(values) else float("nan")


def _sorted(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row ascending; return the sorted ranks and the number of relevant per row."""
    ranks = np.sort(np.atleast_2d(np.asarray(ranks, dtype=np.float64)), axis=1)
    num_relevant = np.isfinite(ranks).sum(axis=1)
    if (num_relevant == 0).any():
        raise ValueError("every query needs at least one relevant candidate (a finite rank)")
    if (ranks[np.isfinite(ranks)] < 1).any():
        raise ValueError("ranks are 1-based: found a rank below 1")
    return ranks, num_relevant


def average_precision(ranks: np.ndarray, k: int | None = None) -> np.ndarray:
    """AP over the full ranking, or XTREME-R's AP@k (normalised by ``min(R, k)``) when ``k`` is set."""
    ranks, num_relevant = _sorted(ranks)
    position = np.arange(1, ranks.shape[1] + 1, dtype=np.float64)
    precision = position / ranks  # inf padding -> 0
    if k is None:
        return precision.sum(axis=1) / num_relevant
    precision = np.where(ranks <= k, precision, 0.0)
    return precision.sum(axis=1) / np.minimum(num_relevant, k)


def recall(ranks: np.ndarray, k: int | None) -> np.ndarray:
    """Fraction of the relevant candidates ranked within the top ``k``."""
    if k is None:
        raise ValueError("recall needs a cutoff k")
    ranks, num_relevant = _sorted(ranks)
    return (ranks <= k).sum(axis=1) / num_relevant


def reciprocal_rank(ranks: np.ndarray, k: int | None = None) -> np.ndarray:
    """``1 / (rank of the first relevant)``, 0 when that rank exceeds ``k``."""
    ranks, _ = _sorted(ranks)
    first = ranks[:, 0]
    value = 1.0 / first
    return value if k is None else np.where(first <= k, value, 0.0)


#: Metric families by name: ``AP`` (cutoff optional), ``R`` (cutoff required), ``RR`` (optional).
METRICS: dict[str, MetricFn] = {"AP": average_precision, "R": recall, "RR": reciprocal_rank}
_NAME = re.compile(r"^(?P<family>[A-Za-z]+)(@(?P<k>[1-9][0-9]*))?$")


def get_metric(name: str) -> Metric:
    """Parse a metric name like ``AP``, ``AP@20``, ``R@10`` or ``RR@10``."""
    match = _NAME.match(name.strip())
    if not match or match["family"] not in METRICS:
        known = ", ".join(METRICS)
        raise ValueError(f"unknown metric {name!r} (families: {known}; e.g. AP@20, R@10)")
    k = int(match["k"]) if match["k"] else None
    if match["family"] == "R" and k is None:
        raise ValueError(f"metric {name!r} needs a cutoff, e.g. R@10")
    return Metric(match["family"], k, METRICS[match["family"]])
