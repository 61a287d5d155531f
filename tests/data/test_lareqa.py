"""The LAReQA loader on the real datasets and on the toy directory."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import TOY, write_lareqa
from hybridbatch.data import load_collection, load_lareqa
from hybridbatch.errors import DataError

MLQA_QUESTIONS = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511, "zh": 504}


def test_xquad_r_counts(shared_data):
    c = load_collection("xquad-r")
    assert c.languages == sorted(["ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"])
    assert {lang: len(c.ids_in(lang)) for lang in c.languages} == dict.fromkeys(c.languages, 1190)
    assert c.num_candidates() == 13014
    assert len(c.ids) == 1190
    assert all(len(c.languages_of(qid)) == 11 for qid in c.ids)
    assert c.report.fixed["stripped byte-order mark"] > 0
    assert not any("\ufeff" in cand.text for pool in c.candidates.values() for cand in pool)


def test_mlqa_r_counts(shared_data):
    c = load_collection("mlqa-r")
    assert c.languages == sorted(MLQA_QUESTIONS)
    assert {lang: len(qs) for lang, qs in c.questions.items()} == MLQA_QUESTIONS
    assert c.num_candidates() == 20534
    assert set(Counter(len(c.languages_of(qid)) for qid in c.ids)) == {2, 3, 4}
    assert not c.report.dropped


def test_answers_contain_the_answer_text(shared_data):
    """The relevant candidate is the sentence holding the SQuAD answer span."""
    c = load_collection("mlqa-r", languages=["de"])
    doc = json.loads((shared_data / "mlqa-r" / "de.json").read_text(encoding="utf-8"))
    qas = [qa for a in doc["data"] for p in a["paragraphs"] for qa in p["qas"]]
    hits = sum(qa["answers"][0]["text"].strip() in c.answer(qa["id"], "de").text for qa in qas)
    assert hits / len(qas) > 0.95  # the rest are answers that span a sentence boundary


def test_toy(toy_dir):
    c = load_lareqa(toy_dir)
    assert c.name == "toy"
    assert c.languages == ["de", "en", "es"]
    assert c.ids_in("es") == ["q1", "q3", "q4"]
    assert c.languages_of("q2") == ["de", "en"]
    for qid, langs in TOY.items():
        for lang, (question, sentences, answer) in langs.items():
            assert c.question(qid, lang).text == question
            assert c.answer(qid, lang).text == sentences[answer]
            negatives = {c.candidates[lang][i].text for i in c.hard_negatives(qid, lang)}
            assert negatives == set(sentences) - {sentences[answer]}


def test_language_filter_and_missing_language(toy_dir):
    c = load_lareqa(toy_dir, languages=["en", "es"])
    assert c.languages == ["en", "es"]
    with pytest.raises(DataError, match=r"no file for language\(s\) fr"):
        load_lareqa(toy_dir, languages=["en", "fr"])
    with pytest.raises(DataError, match="no language"):
        load_collection("xquad-r", languages=["xx"])


def test_question_without_answers_is_counted_not_silently_dropped(tmp_path):
    root = write_lareqa(tmp_path / "d")
    doc = json.loads((root / "en.json").read_text())
    doc["data"][1]["paragraphs"][0]["qas"][0]["answers"] = []
    (root / "en.json").write_text(json.dumps(doc))
    (root / "train.json").write_text("{}")
    c = load_lareqa(root)
    assert c.report.dropped == {"question without answers": 1}
    assert "q2" not in c.ids_in("en")
    assert any("train.json" in f and "ignored" in f for f in c.report.findings)
    assert any("question without answers" in f and "'q2'" in f for f in c.report.findings)
