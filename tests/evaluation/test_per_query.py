"""Per-query scores: they average to the report's numbers and pair up across runs of one collection."""

from __future__ import annotations

import numpy as np
import pytest
from tests.evaluation.test_lareqa import embeddings

from hybridbatch.data import load_collection
from hybridbatch.errors import DataError
from hybridbatch.evaluation import score_collection


@pytest.fixture
def toy(toy_dir):
    return load_collection(str(toy_dir))


def test_per_query_values_average_to_the_report(toy):
    report = score_collection(toy, embeddings(toy, {("q1", "en"): "q2"}))
    pq = report.per_query
    assert (
        pq.qids[:4] == toy.ids_in("de") and pq.query_langs.count("en") == 4 and pq.pool_langs == toy.languages
    )
    for row in report.languages:
        mine = np.array(pq.query_langs) == row.lang
        assert np.mean(pq.values("multi", "multi_map")[mine]) == pytest.approx(row.multi_map)
        assert np.nanmean(pq.values("multi", "rank_distance")[mine]) == pytest.approx(row.rank_distance)
        assert np.nanmean(pq.values("mono", "map")[mine]) == pytest.approx(row.mono_map)
    cross = pq.values("cross", "map").reshape(len(pq.qids), len(pq.pool_langs))
    assert np.isnan(cross[pq.qids.index("q1"), 0])  # de -> de is Mono, not Cross
    en_es = cross[[i for i, x in enumerate(pq.query_langs) if x == "en"], 2]
    assert np.nanmean(en_es) == pytest.approx(report.cell("en", "es").map)
    table = pq.table()
    assert table["multi_ap"]["en:q1"] == pytest.approx((1 / 20 + 2 / 21 + 3 / 22) / 3)
    assert table["mono_ap"]["en:q1"] == pytest.approx(1 / 8)
    assert table["cross_ap"]["en:q1"] == pytest.approx((1 / 8 + 1 / 6) / 2)  # en->de and en->es
    assert "es:q2" not in table["mono_ap"]


def test_paired_and_unpaired(toy):
    perfect = score_collection(toy, embeddings(toy)).per_query
    worse = score_collection(toy, embeddings(toy, {("q1", "en"): "q2"})).per_query
    a, b = perfect.paired(worse, "multi", "multi_map")
    assert len(a) == len(b) == len(perfect.qids) and (a >= b).all() and (a > b).sum() == 1
    a, b = perfect.paired(worse, "cross", "map")
    assert len(a) == sum(c.num_queries for c in score_collection(toy, embeddings(toy)).matrix) - 11
    mono_only = score_collection(toy, embeddings(toy), settings=("mono",)).per_query
    assert np.isnan(mono_only.values("multi", "multi_map")).all()
    assert mono_only.table()["multi_ap"] == {}
    other = score_collection(toy.subset(toy.ids[:2]), embeddings(toy.subset(toy.ids[:2]))).per_query
    with pytest.raises(DataError, match="different queries"):
        perfect.paired(other, "mono")
