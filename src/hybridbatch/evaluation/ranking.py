"""Exact ranks of the relevant candidates, from embeddings, in bounded memory.

Given L2-normalised query and candidate embeddings, the score of a pair is their cosine (the dot
product). For every query and each of its relevant candidates this module computes the candidate's
rank in the whole pool and within its own *segment* of the pool (LAReQA: the pool of one language),
without ever holding the full query × candidate score matrix: queries are processed in chunks.

Ties are broken pessimistically. Candidates are ordered by score (descending); among equal scores
the non-relevant candidates come first, then the relevant ones by candidate index. The rank of a
relevant candidate ``j`` of query ``q`` is its position in that order::

    rank(j) = #{c not relevant : s(q, c) >= s(q, j)}
              + #{c relevant : s(q, c) > s(q, j), or s(q, c) == s(q, j) and c <= j}

With a single relevant candidate this is ``1 + #{c : s(q, c) > s(q, j)} + #{c != j : s(q, c) ==
s(q, j)}``, the worst position ``j`` can take. Relevant candidates tied with each other take
consecutive positions at the end of their tie group (two relevant candidates tied at the top, with
no other candidate tied: ranks 1 and 2), so the ranks always describe a real ordering: the worst one
for AP, recall and reciprocal rank, which equals trec_eval's when its docno tie-break puts the tied
non-relevant candidates first. Without ties all of this equals plain sorting.

Algorithm (per chunk of queries): a matrix product per segment gives the chunk's scores against the
pool; each segment's scores are sorted row-wise, and the number of scores ``>= s(q, j)`` in every
segment is found by binary search. The within-segment rank of ``j`` is the count in its own segment;
its rank in the pool is the sum over all segments; ties between relevant candidates are then
resolved as above. Cost: ``O(Q·N·(d + log N))`` time, ``O(chunk·N)`` memory.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

#: Memory budget (bytes) for one chunk's scores; the sorted copy of a segment adds at most as much.
DEFAULT_CHUNK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Ranks:
    """Ranks of each query's relevant candidates.

    Both arrays have the shape of ``relevant`` (``Q × R``), dtype float64, and hold ``inf`` where
    ``relevant`` is padding (``-1``), so that sorting a row puts the missing ones last.

    Attributes:
        overall: rank in the whole pool (1 = best).
        in_segment: rank within the segment (e.g. language pool) that holds the candidate.
    """

    overall: np.ndarray
    in_segment: np.ndarray


def relevant_ranks(
    queries: np.ndarray,
    candidates: np.ndarray,
    relevant: np.ndarray,
    segments: list[int] | None = None,
    chunk_size: int | None = None,
) -> Ranks:
    """Exact pessimistic ranks of the relevant candidates (see module docstring).

    Args:
        queries: ``Q × d`` L2-normalised query embeddings.
        candidates: ``N × d`` L2-normalised candidate embeddings.
        relevant: ``Q × R`` integer candidate indices, padded with ``-1``.
        segments: ascending boundaries ``[0, n_1, n_1 + n_2, ..., N]`` of contiguous segments of the
            pool; default one segment (then ``in_segment == overall``).
        chunk_size: queries per chunk; default from :data:`DEFAULT_CHUNK_BYTES`.

    Returns:
        :class:`Ranks` with ``overall`` and ``in_segment`` ranks.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    candidates = np.ascontiguousarray(candidates, dtype=np.float32)
    relevant = np.asarray(relevant, dtype=np.int64)
    num_queries, num_candidates = len(queries), len(candidates)
    _check_shapes(queries, candidates, relevant)
    bounds = _check_segments(segments, num_candidates)
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_BYTES // max(1, 4 * num_candidates))
    segment_of = np.searchsorted(bounds, np.maximum(relevant, 0), side="right") - 1
    overall = np.full(relevant.shape, np.inf)
    in_segment = np.full(relevant.shape, np.inf)
    for start in range(0, num_queries, chunk_size):
        rows = slice(start, min(start + chunk_size, num_queries))
        total, own = _chunk_counts(queries[rows], candidates, relevant[rows], segment_of[rows], bounds)
        valid = relevant[rows] >= 0
        overall[rows] = np.where(valid, total, np.inf)
        in_segment[rows] = np.where(valid, own, np.inf)
    return Ranks(overall=overall, in_segment=in_segment)


def _chunk_counts(
    queries: np.ndarray,
    candidates: np.ndarray,
    relevant: np.ndarray,
    segment_of: np.ndarray,
    bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pessimistic ranks of the relevant candidates: in the whole pool and in their own segment."""
    spans = [(segment, lo, hi) for segment, (lo, hi) in enumerate(itertools.pairwise(bounds)) if hi > lo]
    # one contiguous score block per segment (sorted in place below, no copies)
    blocks = [queries @ candidates[lo:hi].T for _, lo, hi in spans]
    relevant_scores = np.zeros(relevant.shape, dtype=np.float32)
    for (segment, lo, _), block in zip(spans, blocks, strict=True):
        rows, slots = np.nonzero((segment_of == segment) & (relevant >= 0))
        relevant_scores[rows, slots] = block[rows, relevant[rows, slots] - lo]
    needles = torch.from_numpy(relevant_scores)
    total = np.zeros(relevant.shape, dtype=np.int64)
    own = np.zeros(relevant.shape, dtype=np.int64)
    for (segment, lo, hi), block in zip(spans, blocks, strict=True):
        block.sort(axis=1)
        below = torch.searchsorted(torch.from_numpy(block), needles, side="left").numpy()
        at_least = (hi - lo) - below
        total += at_least
        own = np.where(segment_of == segment, at_least, own)
    valid = relevant >= 0
    tied = (
        (relevant_scores[:, :, None] == relevant_scores[:, None, :]) & valid[:, :, None] & valid[:, None, :]
    )
    before = relevant[:, None, :] < relevant[:, :, None]
    same_segment = segment_of[:, :, None] == segment_of[:, None, :]
    total = total - tied.sum(axis=2) + (tied & before).sum(axis=2) + 1
    own = own - (tied & same_segment).sum(axis=2) + (tied & same_segment & before).sum(axis=2) + 1
    return total, own


def _check_shapes(queries: np.ndarray, candidates: np.ndarray, relevant: np.ndarray) -> None:
    if queries.ndim != 2 or candidates.ndim != 2 or queries.shape[1] != candidates.shape[1]:
        raise ValueError(
            f"embedding shapes do not match: queries {queries.shape}, candidates {candidates.shape}"
        )
    if relevant.ndim != 2 or len(relevant) != len(queries):
        raise ValueError(f"relevant must be Q × R with Q = {len(queries)}, got shape {relevant.shape}")
    if relevant.size and relevant.max(initial=-1) >= len(candidates):
        raise ValueError(f"relevant index {relevant.max()} out of range for {len(candidates)} candidates")
    if not (np.isfinite(queries).all() and np.isfinite(candidates).all()):
        raise ValueError("embeddings contain NaN or infinite values")


def _check_segments(segments: list[int] | None, num_candidates: int) -> np.ndarray:
    bounds = np.asarray(segments if segments is not None else [0, num_candidates], dtype=np.int64)
    if len(bounds) < 2 or bounds[0] != 0 or bounds[-1] != num_candidates or (np.diff(bounds) < 0).any():
        raise ValueError(f"segments must ascend from 0 to {num_candidates}, got {bounds.tolist()}")
    return bounds
