"""Rank distance by hand."""

from __future__ import annotations

import math

import numpy as np

from hybridbatch.evaluation.rank_distance import mean_rank_distance, rank_distance

INF = math.inf


def test_rank_distance_by_hand():
    ranks = np.array([[3, 1, 40], [7, INF, 2], [5, INF, INF], [10, 11, 12]])
    out = rank_distance(ranks)
    assert out[:2].tolist() == [39, 5]
    assert math.isnan(out[2])  # a single relevant candidate has no distance
    assert out[3] == 2
    assert mean_rank_distance(ranks) == (39 + 5 + 2) / 3


def test_mean_rank_distance_without_any_pair_is_nan():
    assert math.isnan(mean_rank_distance(np.array([[1.0, INF]])))
