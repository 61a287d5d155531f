"""Rank distance: how far apart a query's relevant candidates in different languages are ranked.

The language-bias measure of the paper (arXiv 2408.10536, after Huang et al., SIGIR 2023):
rank the whole multilingual pool for a query, then ``RD(q) = max rank - min rank`` over the query's
relevant candidates (one per language). A language-agnostic retriever ranks the translations of the
answer next to each other (small RD); a biased one ranks the same-language answer far above the
others. RD is averaged over the queries of a query language, then macro-averaged over languages.
Lower is better. Queries with fewer than two relevant candidates have no RD (``nan``) and are left
out of the means.
"""

from __future__ import annotations

import numpy as np


def rank_distance(ranks: np.ndarray) -> np.ndarray:
    """Per-query ``max - min`` of the finite ranks of ``ranks`` (``Q × R``, ``inf``-padded).

    Returns ``nan`` for queries with fewer than two relevant candidates.
    """
    ranks = np.atleast_2d(np.asarray(ranks, dtype=np.float64))
    finite = np.isfinite(ranks)
    high = np.where(finite, ranks, -np.inf).max(axis=1, initial=-np.inf)
    low = np.where(finite, ranks, np.inf).min(axis=1, initial=np.inf)
    return np.where(finite.sum(axis=1) >= 2, high - low, np.nan)


def mean_rank_distance(ranks: np.ndarray) -> float:
    """Mean RD over the queries that have one (``nan`` when none has)."""
    values = rank_distance(ranks)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")
