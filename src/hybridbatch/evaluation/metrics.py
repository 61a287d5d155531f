"""Ranking metrics computed from the ranks of each query's relevant candidates.

Every metric takes ``ranks``: a ``Q × R`` float array whose row holds the (1-based) ranks of one
query's relevant candidates in the full ranking, padded with ``inf`` (see
:func:`hybridbatch.evaluation.ranking.relevant_ranks`). The number of relevant candidates of a query,
``R_q``, is the number of finite entries of its row (every query needs at least one). Rows need not
be sorted. Each metric returns one value per query; settings average them.

With ``r_1 <= r_2 <= ... <= r_R`` the sorted ranks of a query:

- ``map``   (average precision over the full ranking): ``(1/R) Σ_i i / r_i``.
- ``mapK`` (XTREME-R's mAP@20 is ``map20``): ``(1/min(R, k)) Σ_{i: r_i <= k} i / r_i``. Note:
  trec_eval's ``map_cut.k`` divides by ``R`` instead; the two agree when ``R <= k``.
- ``rK``  (recall at k): fraction of the relevant candidates ranked in the top k,
  ``#{i : r_i <= k} / R``. With one relevant candidate (Mono, Cross) it is hit@k (Recall@1 = P@1).
- ``mrrK`` (reciprocal rank, MRR@k when averaged): ``1 / r_1`` if ``r_1 <= k`` else 0.

One namespace names every metric of the package, in one style: the family then the cutoff, lower
case, no separator (``map``, ``map20``, ``r10``, ``mrr10``, ``ndcg10``; the keys of every report,
table and significance test, registered in :mod:`.registry`); :func:`metric_title` gives the shown
title (``mAP@20``). ``ndcg`` is scored by ``pytrec_eval`` (graded relevance, :mod:`.beir`), the
others from ranks here: :func:`get_metric` parses a name, :data:`METRICS` lists the families.
:func:`legacy_name` reads the ``ndcg@10`` / ``recall@100`` / ``mrr@10`` keys of older reports.
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
        """The metric's name, e.g. ``map20``."""
        return metric_name(self.family, self.k)

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


#: Ranking metric families by name: ``map`` (cutoff optional), ``r`` (cutoff required), ``mrr``.
METRICS: dict[str, MetricFn] = {"map": average_precision, "r": recall, "mrr": reciprocal_rank}
#: Every family's title; ``ndcg`` has no rank-based function (pytrec_eval scores it).
TITLES = {"map": "mAP", "r": "R", "mrr": "MRR", "ndcg": "nDCG"}
_NAME = re.compile(r"^(?P<family>[a-z]+?)(?P<k>[1-9][0-9]*)?$")
_LEGACY = re.compile(r"^(?P<family>ndcg|recall|mrr)@(?P<k>[1-9][0-9]*)$")


def metric_name(family: str, k: int | None = None) -> str:
    """The one name of ``family`` at cutoff ``k``: ``("mrr", 10)`` -> ``mrr10``."""
    return family if k is None else f"{family}{k}"


def parse_name(name: str) -> tuple[str, int | None]:
    """``mrr10`` -> ``("mrr", 10)``; ValueError for a name outside the namespace."""
    match = _NAME.match(name.strip())
    if not match or match["family"] not in TITLES:
        raise ValueError(f"unknown metric {name!r} (families: {', '.join(TITLES)}; e.g. map20, r10, mrr10)")
    return match["family"], int(match["k"]) if match["k"] else None


def metric_title(name: str) -> str:
    """The shown title of ``name``: ``map20`` -> ``mAP@20``, ``map`` -> ``mAP``."""
    family, k = parse_name(name)
    return TITLES[family] if k is None else f"{TITLES[family]}@{k}"


def legacy_name(key: str) -> str:
    """The name of a key older reports wrote (``ndcg@10``, ``recall@100``, ``mrr@10``); other keys
    unchanged."""
    match = _LEGACY.match(key)
    if match is None:
        return key
    return metric_name("r" if match["family"] == "recall" else match["family"], int(match["k"]))


def get_metric(name: str) -> Metric:
    """Parse a ranking metric name like ``map``, ``map20``, ``r10`` or ``mrr10``."""
    family, k = parse_name(name)
    if family not in METRICS:
        raise ValueError(f"metric {name!r} is not computed from ranks (families: {', '.join(METRICS)})")
    if family == "r" and k is None:
        raise ValueError(f"metric {name!r} needs a cutoff, e.g. r10")
    return Metric(family, k, METRICS[family])
