"""Train/dev split by parallel id and subset renumbering."""

from __future__ import annotations

import pytest

from hybridbatch.data import load_collection
from hybridbatch.errors import DataError


@pytest.fixture(scope="module")
def mlqa(shared_data):
    return load_collection("mlqa-r")


def test_split_is_deterministic_disjoint_and_complete(mlqa):
    train, dev = mlqa.split(0.2, seed=3)
    train2, dev2 = mlqa.split(0.2, seed=3)
    assert dev.ids == dev2.ids and train.ids == train2.ids
    assert not set(train.ids) & set(dev.ids)
    assert set(train.ids) | set(dev.ids) == set(mlqa.ids)
    assert 0.15 < len(dev.ids) / len(mlqa.ids) < 0.25
    assert mlqa.split(0.2, seed=4)[1].ids != dev.ids
    for part in (train, dev):  # an id keeps every language it has
        assert all(part.languages_of(qid) == mlqa.languages_of(qid) for qid in part.ids)


def test_split_is_stable_under_removing_other_ids(mlqa):
    _, dev = mlqa.split(0.3, seed=0)
    smaller = mlqa.subset(mlqa.ids[::2])
    _, dev_small = smaller.split(0.3, seed=0)
    assert set(dev_small.ids) == set(dev.ids) & set(smaller.ids)


def test_subset_renumbering_keeps_answers_and_paragraphs(mlqa):
    _, dev = mlqa.split(0.2, seed=1)
    assert dev.num_candidates() < mlqa.num_candidates()
    for lang in dev.languages:
        for qid in dev.ids_in(lang):
            assert dev.question(qid, lang).text == mlqa.question(qid, lang).text
            assert dev.answer(qid, lang) == mlqa.answer(qid, lang)
            ours = [dev.candidates[lang][i].text for i in dev.hard_negatives(qid, lang)]
            theirs = [mlqa.candidates[lang][i].text for i in mlqa.hard_negatives(qid, lang)]
            assert ours == theirs


def test_bad_fraction(toy_dir):
    c = load_collection(str(toy_dir))
    with pytest.raises(DataError, match="dev fraction"):
        c.split(1.0)
    train, dev = c.split(0.0)
    assert train.ids == c.ids and dev.ids == []
