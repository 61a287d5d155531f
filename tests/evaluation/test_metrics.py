"""Metrics from ranks against pytrec_eval (trec_eval) and against hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pytrec_eval

from hybridbatch.evaluation.metrics import (
    average_precision,
    get_metric,
    legacy_name,
    metric_name,
    metric_title,
    recall,
    reciprocal_rank,
)
from hybridbatch.evaluation.ranking import relevant_ranks

INF = math.inf


def trec(scores: np.ndarray, relevant: np.ndarray, measures: set[str], top: int | None = None) -> dict:
    """pytrec_eval on the full score run. Docnos make trec_eval's tie-break (docno descending) put
    the non-relevant candidates before the relevant ones, i.e. our pessimistic order."""
    qrels, run = {}, {}
    for i, row in enumerate(scores):
        rel = set(relevant[i][relevant[i] >= 0].tolist())
        name = {c: (f"a{c:05d}" if c in rel else f"z{c:05d}") for c in range(len(row))}
        qrels[f"q{i}"] = {name[c]: 1 for c in rel}
        order = sorted(range(len(row)), key=lambda c: (-row[c], c in rel))[:top]
        run[f"q{i}"] = {name[c]: float(row[c]) for c in order}
    result = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    return {m: np.array([result[f"q{i}"][m] for i in range(len(scores))]) for m in result["q0"]}


def case(seed: int, integer: bool, q: int = 20, n: int = 50, r: int = 5):
    rng = np.random.default_rng(seed)
    if integer:
        queries = rng.integers(-1, 2, (q, 4)).astype(np.float32)
        cands = rng.integers(-1, 2, (n, 4)).astype(np.float32)
    else:
        queries = rng.standard_normal((q, 8)).astype(np.float32)
        cands = rng.standard_normal((n, 8)).astype(np.float32)
    relevant = np.stack([rng.choice(n, size=r, replace=False) for _ in range(q)])
    drop = rng.random((q, r)) < 0.4
    drop[:, 0] = False
    relevant[drop] = -1
    return queries @ cands.T, relevant, relevant_ranks(queries, cands, relevant).overall


@pytest.mark.parametrize(("seed", "integer"), [(0, False), (1, False), (2, True), (3, True)])
def test_against_pytrec_eval(seed, integer):
    scores, relevant, ranks = case(seed, integer)
    full = trec(scores, relevant, {"map", "recall_10", "recall_1", "map_cut_20"})
    np.testing.assert_allclose(average_precision(ranks), full["map"], atol=1e-12)
    np.testing.assert_allclose(recall(ranks, 10), full["recall_10"], atol=1e-12)
    np.testing.assert_allclose(recall(ranks, 1), full["recall_1"], atol=1e-12)
    # R <= 5 < 20 here, so XTREME-R's AP@20 equals trec_eval's map_cut_20
    np.testing.assert_allclose(average_precision(ranks, 20), full["map_cut_20"], atol=1e-12)
    top10 = trec(scores, relevant, {"recip_rank"}, top=10)  # mrr10: the run cut at 10
    np.testing.assert_allclose(reciprocal_rank(ranks, 10), top10["recip_rank"], atol=1e-12)
    if integer:  # the ties matter: the optimistic order would score higher
        assert (average_precision(ranks) < 1).any()


def test_hand_made_several_relevant():
    ranks = np.array([[3, 1, INF], [2, 5, 9], [12, INF, INF]])
    np.testing.assert_allclose(
        average_precision(ranks), [(1 + 2 / 3) / 2, (1 / 2 + 2 / 5 + 3 / 9) / 3, 1 / 12]
    )
    np.testing.assert_allclose(average_precision(ranks, 4), [(1 + 2 / 3) / 2, (1 / 2) / 3, 0])
    np.testing.assert_allclose(recall(ranks, 3), [1, 1 / 3, 0])
    np.testing.assert_allclose(reciprocal_rank(ranks, 10), [1, 1 / 2, 0])
    np.testing.assert_allclose(reciprocal_rank(ranks), [1, 1 / 2, 1 / 12])


def test_ap_at_k_divides_by_min_r_k():
    # 25 relevant at ranks 1..25: XTREME-R AP@20 = 20/20; trec_eval's map_cut_20 would give 20/25
    ranks = np.arange(1, 26, dtype=float)[None, :]
    assert average_precision(ranks, 20)[0] == pytest.approx(1.0)
    assert average_precision(ranks)[0] == pytest.approx(1.0)
    shifted = ranks + 5  # ranks 6..30: AP@20 counts ranks <= 20 (hits 1..15)
    assert average_precision(shifted, 20)[0] == pytest.approx(sum(i / (i + 5) for i in range(1, 16)) / 20)


def test_registry_names_and_errors():
    assert get_metric("map20").name == "map20" and get_metric("map20").k == 20
    assert get_metric("mrr10")(np.array([[11.0]]))[0] == 0.0
    assert get_metric("map").k is None
    for bad in ("ndcg10", "r", "map0", "mapx", "AP@20", "RR@10", "mrr@10"):
        with pytest.raises(ValueError):
            get_metric(bad)


def test_one_namespace_titles_and_older_keys():
    assert [metric_title(n) for n in ("map", "map20", "r1", "mrr10", "ndcg10")] == [
        "mAP",
        "mAP@20",
        "R@1",
        "MRR@10",
        "nDCG@10",
    ]
    assert metric_name("mrr", 10) == "mrr10" and metric_name("map") == "map"
    # reports written before the one namespace: pytrec_eval-style keys read as the names
    assert [legacy_name(k) for k in ("ndcg@10", "recall@100", "mrr@10", "hau:2", "mono_map")] == [
        "ndcg10",
        "r100",
        "mrr10",
        "hau:2",
        "mono_map",
    ]
    with pytest.raises(ValueError):
        average_precision(np.array([[INF, INF]]))
