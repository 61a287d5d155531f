"""Language-bias scores of the Multi setting, next to rank distance.

Both take ``ranks`` (``Q × L``: the rank in the multilingual pool of each query's relevant candidate
in each pool language, ``inf`` where the id has no answer in that language) and ``own`` (per query,
the column of its own language, ``-1`` when the pool has none) and return one value per query,
``nan`` where undefined (left out of the means).

- **Language preference rate** (LPR; the 2025–2026 bias literature, e.g. mE5-large at 99.9% on
  MLQA): 1 when the query's best-ranked relevant candidate is the one in its own language, else 0;
  the mean is the share of such queries. Defined for queries with a relevant candidate in their own
  language and at least one in another language. A language-neutral retriever scores about 1/L with
  L relevant candidates per query; lower means less preference for the query's language.
- **Target-language recall@k** (TLR@k): recall@k in the Multi pool counting only the relevant
  candidates in languages other than the query's. Defined for queries with at least one of them.
"""

from __future__ import annotations

import numpy as np


def _own_mask(ranks: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ranks = np.atleast_2d(np.asarray(ranks, dtype=np.float64))
    own = np.asarray(own, dtype=np.int64)
    if own.shape != (ranks.shape[0],) or (own >= ranks.shape[1]).any():
        raise ValueError(f"own must hold one column index (or -1) per query, got shape {own.shape}")
    mask = np.zeros(ranks.shape, dtype=bool)
    rows = np.nonzero(own >= 0)[0]
    mask[rows, own[rows]] = True
    return ranks, mask


def language_preference(ranks: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per query: 1.0 if its own-language relevant candidate is its best-ranked one, else 0.0 (``nan``
    without an own-language relevant candidate or without one in another language)."""
    ranks, mine = _own_mask(ranks, own)
    finite = np.isfinite(ranks)
    own_rank = np.where(mine & finite, ranks, np.inf).min(axis=1)
    other_best = np.where(~mine & finite, ranks, np.inf).min(axis=1)
    defined = np.isfinite(own_rank) & np.isfinite(other_best)
    return np.where(defined, (own_rank < other_best).astype(np.float64), np.nan)


def target_language_recall(k: int):
    """The TLR@k per-query function: share of the other-language relevant candidates ranked in the top k."""
    if k < 1:
        raise ValueError(f"TLR needs a positive cutoff, got {k}")

    def tlr(ranks: np.ndarray, own: np.ndarray) -> np.ndarray:
        ranks, mine = _own_mask(ranks, own)
        others = np.isfinite(ranks) & ~mine
        count = others.sum(axis=1)
        hits = (others & (ranks <= k)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, hits / np.maximum(count, 1), np.nan)

    tlr.__name__ = f"target_language_recall_at_{k}"
    return tlr
