"""The three settings on the toy collection with hand-made embeddings whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from hybridbatch.data import load_collection
from hybridbatch.errors import ConfigError, DataError
from hybridbatch.evaluation import CollectionEmbeddings, score_collection

IDS = ["q1", "q2", "q3", "q4"]
OTHER = 4  # the direction of every non-answer sentence


def unit(i: int, dim: int = 6) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    v[i] = 1
    return v


def embeddings(collection, wrong: dict[tuple[str, str], str] | None = None) -> CollectionEmbeddings:
    """Each id has its own direction, shared by its questions and answers in every language (a perfect
    language-agnostic model); ``wrong[(id, lang)] = other id`` points that question at another id."""
    wrong = wrong or {}
    queries = {
        lang: np.stack([unit(IDS.index(wrong.get((qid, lang), qid))) for qid in collection.ids_in(lang)])
        for lang in collection.languages
    }
    candidates = {}
    for lang, pool in collection.candidates.items():
        vectors = np.stack([unit(OTHER)] * len(pool))
        for qid in collection.ids_in(lang):
            vectors[collection.question(qid, lang).answer] = unit(IDS.index(qid))
        candidates[lang] = vectors
    return CollectionEmbeddings(queries, candidates)


@pytest.fixture
def toy(toy_dir):
    collection = load_collection(str(toy_dir))
    assert collection.languages == ["de", "en", "es"]
    assert {lang: len(pool) for lang, pool in collection.candidates.items()} == {"de": 8, "en": 8, "es": 6}
    return collection


def test_perfect_model(toy):
    report = score_collection(toy, embeddings(toy))
    s = report.summary
    assert (s.mono_map, s.cross_map, s.multi_map, s.mono_r1, s.cross_r1, s.multi_r10) == (1, 1, 1, 1, 1, 1)
    # answers of one id tie at the top and take consecutive positions: RD = (#languages of the id) - 1
    rows = {row.lang: row for row in report.languages}
    assert rows["en"].rank_distance == pytest.approx((2 + 1 + 2 + 2) / 4)
    assert rows["es"].rank_distance == pytest.approx(2.0)
    assert s.rank_distance == pytest.approx((1.75 + 1.75 + 2) / 3)
    assert s.main_score == s.multi_map
    assert report.num_queries == 11 and report.num_candidates == 22
    assert len(report.matrix) == 3 + 6  # 3 mono cells (the diagonal) and 6 cross pairs
    cells = {(c.query_lang, c.candidate_lang): c.num_queries for c in report.matrix}
    assert cells[("en", "es")] == 3 and cells[("es", "en")] == 3 and cells[("en", "de")] == 4


def test_one_wrong_query_by_hand(toy):
    # the English question of q1 points at q2: every q1 answer scores 0, tied with the non-answers
    report = score_collection(toy, embeddings(toy, {("q1", "en"): "q2"}))
    en_en = report.cell("en", "en")
    assert en_en.map == pytest.approx((1 / 8 + 3) / 4)  # pessimistic: behind all 7 zero-score ties
    assert en_en.r1 == pytest.approx(3 / 4)
    assert report.cell("en", "es").map == pytest.approx((1 / 6 + 2) / 3)  # q2 has no Spanish answer
    assert report.cell("de", "en").map == 1
    multi_q1 = (1 / 20 + 2 / 21 + 3 / 22) / 3  # q2's two answers and 17 zero ties come first
    rows = {row.lang: row for row in report.languages}
    assert rows["en"].multi_map == pytest.approx((multi_q1 + 3) / 4)
    assert rows["en"].multi_r10 == pytest.approx(3 / 4)
    assert rows["en"].cross_map == pytest.approx(((1 / 8 + 3) / 4 + (1 / 6 + 2) / 3) / 2)
    s = report.summary
    assert s.mono_map == pytest.approx(((1 / 8 + 3) / 4 + 2) / 3)
    assert s.cross_map == pytest.approx(((1 / 8 + 3) / 4 + (1 / 6 + 2) / 3 + 4) / 6)
    assert s.multi_map == pytest.approx(((multi_q1 + 3) / 4 + 2) / 3)
    assert s.mono_mrr10 == pytest.approx(((1 / 8 + 3) / 4 + 2) / 3)  # rank 8 is within 10
    assert s.multi_mrr10 == pytest.approx(((0 + 3) / 4 + 2) / 3)  # rank 20 is not


def test_seen_unseen_and_settings(toy):
    emb = embeddings(toy, {("q1", "en"): "q2"})
    report = score_collection(toy, emb, settings=("cross", "mono"), train_languages=["en", "de"])
    assert report.settings == ["mono", "cross"]
    assert report.summary.multi_map is None and report.summary.rank_distance is None
    assert report.summary.main_score == pytest.approx(
        (report.summary.mono_map + report.summary.cross_map) / 2
    )
    assert {r.lang: r.seen_in_training for r in report.languages} == {"de": True, "en": True, "es": False}
    seen, unseen = report.summary_seen, report.summary_unseen
    assert seen.mono_map == pytest.approx(((1 / 8 + 3) / 4 + 1) / 2)
    assert seen.cross_map == pytest.approx(((1 / 8 + 3) / 4 + 1) / 2)  # en->de and de->en only
    assert unseen.mono_map == 1
    assert unseen.cross_map == pytest.approx(((1 / 6 + 2) / 3 + 3) / 4)  # the four pairs with es


def test_errors(toy):
    emb = embeddings(toy)
    with pytest.raises(ConfigError):
        score_collection(toy, emb, settings=("multy",))
    emb.candidates["es"] = emb.candidates["es"][:3]
    with pytest.raises(DataError, match="es"):
        score_collection(toy, emb)
