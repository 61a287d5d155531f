"""Language preference rate and target-language recall@k against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from tests.evaluation.test_lareqa import embeddings

from hybridbatch.data import load_collection
from hybridbatch.evaluation import score_collection
from hybridbatch.evaluation.language_bias import language_preference, target_language_recall

INF = np.inf
# rows: queries; columns: pool languages; values: rank in the multilingual pool of that language's answer
RANKS = np.array(
    [
        [3, 1, INF],  # own = 1 (rank 1): prefers its language; the other answer (3) is in the top 10
        [2, 5, 7],  # own = 0 (rank 2) beats 5 and 7
        [1, INF, INF],  # own = 0 only: no other-language answer -> both undefined
        [INF, 4, 12],  # own = 0 has no answer: LPR undefined; TLR@10 = 1/2
        [9, 11, 1],  # own = 2 (rank 1); TLR@10 = 1/2 (9 in, 11 out)
        [6, 2, 30],  # own = 2 (rank 30) loses to rank 2: LPR 0; TLR@10 = 2/2
        [4, 8, INF],  # own = -1 (no pool in its language): LPR undefined; TLR over all = 2/2
    ]
)
OWN = np.array([1, 0, 0, 0, 2, 2, -1])


def test_language_preference_by_hand():
    values = language_preference(RANKS, OWN)
    np.testing.assert_array_equal(values, [1, 1, np.nan, np.nan, 1, 0, np.nan])
    assert np.nanmean(values) == pytest.approx(3 / 4)


def test_target_language_recall_by_hand():
    values = target_language_recall(10)(RANKS, OWN)
    np.testing.assert_array_equal(values, [1, 1, np.nan, 0.5, 0.5, 1, 1])
    tlr1 = target_language_recall(1)(RANKS, OWN)
    np.testing.assert_array_equal(tlr1, [0, 0, np.nan, 0, 0, 0, 0])  # own-language hits never count
    with pytest.raises(ValueError):
        target_language_recall(0)
    with pytest.raises(ValueError, match="own"):
        language_preference(RANKS, OWN[:3])


def test_on_the_toy_collection(toy_dir):
    toy = load_collection(str(toy_dir))
    # perfect model: an id's answers tie at the top and take the pool order de, en, es -> only German
    # queries find their own language first; every other-language answer is in the top 10
    report = score_collection(toy, embeddings(toy))
    rows = {row.lang: row for row in report.languages}
    assert (rows["de"].lpr, rows["en"].lpr, rows["es"].lpr) == (1, 0, 0)
    assert report.summary.get("lpr") == pytest.approx(1 / 3)
    assert report.summary.get("tlr10") == 1
    # the English q1 question points at q2: its answers fall to ranks 20 (de), 21 (en), 22 (es)
    report = score_collection(toy, embeddings(toy, {("q1", "en"): "q2"}))
    rows = {row.lang: row for row in report.languages}
    assert rows["en"].tlr10 == pytest.approx(3 / 4)
    assert rows["en"].lpr == 0
    assert report.summary.get("tlr10") == pytest.approx((1 + 3 / 4 + 1) / 3)
    per_query = report.per_query.table()
    assert per_query["tlr10"]["en:q1"] == 0 and per_query["lpr"]["de:q1"] == 1
    assert "es:q2" not in per_query["lpr"]  # q2 has no Spanish question
