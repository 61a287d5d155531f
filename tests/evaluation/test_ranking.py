"""Exact pessimistic ranks: against brute force, chunked against unchunked, with ties and segments."""

from __future__ import annotations

import numpy as np
import pytest

from hybridbatch.evaluation.ranking import relevant_ranks


def brute_force(
    scores: np.ndarray, relevant: np.ndarray, segments: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the order (score desc, non-relevant first, then candidate index), by sorting."""
    q, r = relevant.shape
    overall, own = np.full((q, r), np.inf), np.full((q, r), np.inf)
    segment_of = np.searchsorted(segments, np.arange(scores.shape[1]), side="right") - 1
    for i in range(q):
        rel = set(relevant[i][relevant[i] >= 0].tolist())
        for scope, out in ((None, overall), ("segment", own)):
            for slot, j in enumerate(relevant[i]):
                if j < 0:
                    continue
                cands = range(scores.shape[1])
                if scope == "segment":
                    cands = [c for c in cands if segment_of[c] == segment_of[j]]
                order = sorted(cands, key=lambda c: (-scores[i, c], c in rel, c))
                out[i, slot] = order.index(j) + 1
    return overall, own


def random_case(rng, q=13, n=40, d=6, r=4, integer=False):
    if integer:  # small integer vectors: many exact ties
        queries = rng.integers(-1, 2, (q, d)).astype(np.float32)
        cands = rng.integers(-1, 2, (n, d)).astype(np.float32)
    else:
        queries = rng.standard_normal((q, d)).astype(np.float32)
        cands = rng.standard_normal((n, d)).astype(np.float32)
    relevant = np.stack([rng.choice(n, size=r, replace=False) for _ in range(q)])
    drop = rng.random((q, r)) < 0.3
    drop[:, 0] = False  # every query keeps at least one relevant candidate
    relevant[drop] = -1
    return queries, cands, relevant


@pytest.mark.parametrize("integer", [False, True])
def test_ranks_match_brute_force(integer):
    rng = np.random.default_rng(1 + integer)
    queries, cands, relevant = random_case(rng, integer=integer)
    segments = [0, 10, 10, 25, 40]  # includes an empty segment
    ranks = relevant_ranks(queries, cands, relevant, segments)
    expected_overall, expected_own = brute_force(queries @ cands.T, relevant, segments)
    np.testing.assert_array_equal(ranks.overall, expected_overall)
    np.testing.assert_array_equal(ranks.in_segment, expected_own)


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_chunked_equals_unchunked(chunk):
    rng = np.random.default_rng(5)
    queries, cands, relevant = random_case(rng, q=29, n=60, integer=True)
    full = relevant_ranks(queries, cands, relevant, [0, 20, 60], chunk_size=10_000)
    part = relevant_ranks(queries, cands, relevant, [0, 20, 60], chunk_size=chunk)
    np.testing.assert_array_equal(full.overall, part.overall)
    np.testing.assert_array_equal(full.in_segment, part.in_segment)


def test_ties_are_pessimistic_by_hand():
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    # scores: c0=1, c1=1, c2=1, c3=0.5, c4=1
    cands = np.array([[1, 0], [1, 0], [1, 0], [0.5, 0], [1, 0]], dtype=np.float32)
    one = relevant_ranks(query, cands, np.array([[1]]))
    assert one.overall.tolist() == [[4.0]]  # behind the three other candidates scoring 1
    low = relevant_ranks(query, cands, np.array([[3]]))
    assert low.overall.tolist() == [[5.0]]
    # two relevant tied with two non-relevant: the non-relevant first, then c1, c4 in index order
    two = relevant_ranks(query, cands, np.array([[4, 1]]))
    assert two.overall.tolist() == [[4.0, 3.0]]
    # within segments [0, 2) and [2, 5): c1 is behind c0; c4 is behind c2
    seg = relevant_ranks(query, cands, np.array([[4, 1]]), segments=[0, 2, 5])
    assert seg.in_segment.tolist() == [[2.0, 2.0]]
    assert seg.overall.tolist() == [[4.0, 3.0]]


def test_padding_is_inf_and_single_segment_is_overall():
    rng = np.random.default_rng(0)
    queries, cands, relevant = random_case(rng)
    ranks = relevant_ranks(queries, cands, relevant)
    assert np.isinf(ranks.overall[relevant < 0]).all()
    assert np.isfinite(ranks.overall[relevant >= 0]).all()
    np.testing.assert_array_equal(ranks.overall, ranks.in_segment)


@pytest.mark.parametrize(
    ("segments", "relevant", "queries"),
    [([0, 5], [[0]], None), ([0, 3, 2, 4], [[0]], None), (None, [[4]], None), (None, [[0]], "nan")],
)
def test_bad_input_raises(segments, relevant, queries):
    q = np.ones((1, 2), dtype=np.float32)
    if queries == "nan":
        q[0, 0] = np.nan
    with pytest.raises(ValueError):
        relevant_ranks(q, np.ones((4, 2), dtype=np.float32), np.array(relevant), segments)
