"""The JSONL user format: reading, writing, round trips and candidate deduplication."""

from __future__ import annotations

import json

import pytest

from hybridbatch.data import load_collection, load_jsonl, load_lareqa, write_jsonl
from hybridbatch.errors import DataError


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _texts(collection):
    return {
        (qid, lang): (collection.question(qid, lang).text, collection.answer(qid, lang).text)
        for lang in collection.languages
        for qid in collection.ids_in(lang)
    }


def test_round_trip_of_a_lareqa_collection(shared_data, tmp_path):
    full = load_collection("mlqa-r", languages=["de", "en", "hi"])
    original = full.subset(full.ids[:150])
    written = write_jsonl(original, tmp_path / "out" / "mlqa.jsonl")
    loaded = load_jsonl(written)
    assert loaded.languages == original.languages
    assert _texts(loaded) == _texts(original)
    for lang in original.languages:  # same pools up to repeated sentences of one paragraph
        assert {(c.context, c.text) for c in loaded.candidates[lang]} == {
            (c.context, c.text) for c in original.candidates[lang]
        }
        for qid in original.ids_in(lang):
            ours = {loaded.candidates[lang][i].text for i in loaded.hard_negatives(qid, lang)}
            theirs = {original.candidates[lang][i].text for i in original.hard_negatives(qid, lang)}
            assert ours == theirs - {loaded.answer(qid, lang).text}
    assert not list(written.parent.glob("*.tmp"))


def test_round_trip_of_the_toy_is_exact(toy_dir, tmp_path):
    toy = load_lareqa(toy_dir)
    again = load_collection(str(write_jsonl(toy, tmp_path / "toy.jsonl")))
    assert _texts(again) == _texts(toy)
    assert again.candidates == toy.candidates
    assert again.report.fixed == {}


def test_shared_paragraph_is_deduplicated(tmp_path):
    sentences = ["Paris is big.", "It has a tower.", "It has a tower."]
    distractors = ["A distractor.", "Another one."]
    file = _write(
        tmp_path / "d.jsonl",
        [
            {"id": "a", "lang": "en", "question": "Is Paris big?", "sentences": sentences, "answer": 0},
            {"id": "b", "lang": "en", "question": "What does it have?", "sentences": sentences, "answer": 2},
            {"id": "a", "lang": "fr", "question": "Paris ?", "sentences": ["Paris est grand."], "answer": 0},
            {"lang": "en", "sentences": distractors, "context": " ".join(distractors)},
        ],
    )
    c = load_jsonl(file)
    assert [cand.text for cand in c.candidates["en"]] == [*sentences[:2], *distractors]
    assert c.answer("b", "en").text == "It has a tower."
    assert c.hard_negatives("a", "en") == [1]
    assert c.candidates["en"][2].paragraph != c.candidates["en"][0].paragraph
    assert c.ids_in("en") == ["a", "b"] and c.languages_of("a") == ["en", "fr"]
    assert c.report.fixed == {"merged repeated sentence of one paragraph": 1}
    assert [r.get("id") for r in _records(write_jsonl(c, tmp_path / "again.jsonl"))] == ["a", "b", None, "a"]


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_language_filter(tmp_path):
    rec = {"id": "a", "question": "Q?", "sentences": ["S."], "answer": 0}
    file = _write(tmp_path / "d.jsonl", [{**rec, "lang": "en"}, {**rec, "lang": "de"}])
    assert load_collection(str(file), languages=["de"]).languages == ["de"]
    with pytest.raises(DataError, match=r"no record for language\(s\) es"):
        load_jsonl(file, languages=["es"])
    with pytest.raises(DataError, match="no records"):
        load_jsonl(_write(tmp_path / "empty.jsonl", []))


def test_export_command(toy_dir, tmp_path, cli):
    out = tmp_path / "toy.jsonl"
    code, stdout, _ = cli("data", "export", str(toy_dir), str(out))
    assert code == 0 and stdout.strip() == str(out)
    assert _texts(load_jsonl(out)) == _texts(load_lareqa(toy_dir))
