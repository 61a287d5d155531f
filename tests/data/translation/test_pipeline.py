"""``hybridbatch data translate`` end to end on the toy collection, with the stand-in apertium."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import TOY, write_lareqa
from data.translation.conftest import logged
from hybridbatch.data import load_collection

TOY_EN_TEXTS = {t for q in TOY.values() for t in [q["en"][0], *q["en"][1]]}


def translate(cli, source: Path, out: Path, *flags: str) -> tuple[int, str, dict]:
    code, stdout, err = cli("data", "translate", str(source), "--out", str(out), "--quiet", *flags)
    report = json.loads((out / "translate.json").read_text()) if (out / "translate.json").exists() else {}
    return code, stdout + err, report


def test_translates_every_sentence_and_keeps_ids_answers_and_paragraphs(
    cli, toy_dir, tmp_path, fake_apertium
):
    out = tmp_path / "mt"
    code, text, report = translate(cli, toy_dir, out, "--to", "es,ca")
    assert code == 0, text
    assert set(logged(fake_apertium)) == TOY_EN_TEXTS  # questions and every paragraph sentence, once each
    collection = load_collection(out)  # a directory train --data reads
    source = load_collection(toy_dir, ["en"])
    assert collection.languages == ["ca", "en", "es"]
    for lang, mode in (("es", "eng-spa"), ("ca", "eng-cat")):
        assert collection.ids_in(lang) == source.ids_in("en")
        for qid in source.ids:
            q, q_en = collection.question(qid, lang), source.question(qid, "en")
            assert q.text == f"[{mode}] {q_en.text}"
            assert collection.answer(qid, lang).text == f"[{mode}] {source.answer(qid, 'en').text}"
            negatives = [collection.candidates[lang][i].text for i in collection.hard_negatives(qid, lang)]
            assert negatives == [
                f"[{mode}] " + source.candidates["en"][i].text for i in source.hard_negatives(qid, "en")
            ]
    assert report["pairs"] == ["en-es", "en-ca"]
    assert report["engine"]["id"].startswith("apertium Apertium fake-1.0 (outputs v")
    assert report["languages"]["es"]["translated"] == len(TOY_EN_TEXTS)
    assert report["languages"]["es"]["records"] == {"kept": 4, "dropped": {}}
    assert {"seconds", "failures", "totals"} <= set(report)


def test_a_rerun_translates_nothing_again(cli, toy_dir, tmp_path, fake_apertium):
    translate(cli, toy_dir, tmp_path / "mt", "--to", "es")
    fake_apertium.unlink()
    code, text, report = translate(cli, toy_dir, tmp_path / "mt", "--to", "es,ca")
    assert code == 0, text
    assert report["languages"]["es"]["translated"] == 0
    assert report["languages"]["es"]["cached"] == len(TOY_EN_TEXTS)
    assert set(logged(fake_apertium)) == TOY_EN_TEXTS  # only the new pair went to the engine
    assert report["languages"]["ca"]["translated"] == len(TOY_EN_TEXTS)


def test_a_corrupt_cache_entry_is_detected_retranslated_and_counted(
    cli, toy_dir, tmp_path, fake_apertium, private_home
):
    translate(cli, toy_dir, tmp_path / "mt", "--to", "es")
    with sqlite3.connect(private_home / "translations.sqlite") as db:
        db.execute(
            "UPDATE translations SET output = 'tampered' WHERE rowid = (SELECT MIN(rowid) FROM translations)"
        )
    code, text, report = translate(cli, toy_dir, tmp_path / "mt", "--to", "es")
    assert code == 0, text
    es = report["languages"]["es"]
    assert (es["cache_corrupt"], es["translated"], es["cached"]) == (1, 1, len(TOY_EN_TEXTS) - 1)
    assert "tampered" not in (tmp_path / "mt" / "collection.jsonl").read_text()


def test_a_sentence_that_crashes_the_engine_is_recorded_and_the_run_goes_on(cli, tmp_path, fake_apertium):
    items = {qid: dict(langs) for qid, langs in TOY.items()}
    items["q3"]["en"] = ("Who wrote the book?", ["Anna wrote the book CRASH.", "It sold well."], 0)
    source = write_lareqa(tmp_path / "src", items)
    code, text, report = translate(cli, source, tmp_path / "mt", "--to", "es")
    assert code == 0, text
    es = report["languages"]["es"]
    assert es["failed"] == 1 and es["translated"] == len(TOY_EN_TEXTS)  # all but the crashing sentence
    assert report["failures"][0]["text"] == "Anna wrote the book CRASH."
    assert "exited with 139" in report["failures"][0]["reason"]
    # q3's paragraph holds the failed sentence: its record is dropped, never half-translated.
    assert es["records"] == {"kept": 3, "dropped": {"failed translation": 1}}
    assert load_collection(tmp_path / "mt").ids_in("es") == ["q1", "q2", "q4"]


def test_an_empty_translation_is_never_written(cli, tmp_path, fake_apertium):
    items = {qid: dict(langs) for qid, langs in TOY.items()}
    items["q1"]["en"] = ("Where is the EMPTY tower?", ["The tower is in Paris.", "It is tall."], 0)
    source = write_lareqa(tmp_path / "src", items)
    code, text, report = translate(cli, source, tmp_path / "mt", "--to", "es")
    assert code == 0, text
    es = report["languages"]["es"]
    assert es["quality"]["empty"] == 1 and es["records"]["dropped"] == {"empty translation": 1}
    records = [json.loads(line) for line in (tmp_path / "mt" / "collection.jsonl").read_text().splitlines()]
    assert all(r.get("question", "x") and all(r["sentences"]) for r in records)
    assert "q1" not in load_collection(tmp_path / "mt").ids_in("es")


def test_untranslated_records_are_counted_and_dropped_on_request(cli, tmp_path, fake_apertium):
    items = {qid: dict(langs) for qid, langs in TOY.items()}
    items["q3"]["en"] = ("UNKNOWNWORD UNKNOWNWORD?", ["UNKNOWNWORD.", "It sold well."], 0)
    source = write_lareqa(tmp_path / "src", items)
    code, _, kept = translate(cli, source, tmp_path / "all", "--to", "es")
    assert kept["languages"]["es"]["quality"]["with_unknown_marks"] == 2
    assert kept["languages"]["es"]["records"]["kept"] == 4
    text = (tmp_path / "all" / "collection.jsonl").read_text()
    assert "*UNKNOWNWORD" not in text and "[eng-spa] UNKNOWNWORD" in text  # marks counted, then removed
    flags = ("--to", "es", "--drop-untranslated", "--max-untranslated", "0.3")
    code, _, dropped = translate(cli, source, tmp_path / "dropped", *flags)
    assert code == 0
    assert dropped["languages"]["es"]["records"]["dropped"] == {
        "untranslated share above --max-untranslated": 1
    }


def test_limit_translates_a_sample_of_ids(cli, toy_dir, tmp_path, fake_apertium):
    code, text, report = translate(cli, toy_dir, tmp_path / "mt", "--to", "es", "--limit", "2")
    assert code == 0, text
    assert report["source_ids"] == 2
    assert load_collection(tmp_path / "mt").ids == ["q1", "q2"]
    assert set(logged(fake_apertium)) == {
        "Where is the tower?",
        "How tall is it?",
        "The tower is in Paris.",
        "It is tall.",
        "It is 300 metres tall.",
    }


def test_a_pivot_pair_goes_through_spanish(cli, toy_dir, tmp_path, fake_apertium, monkeypatch):
    monkeypatch.setenv("FAKE_APERTIUM_MODES", "eng-spa es-pt")
    code, text, report = translate(cli, toy_dir, tmp_path / "mt", "--to", "pt")
    assert code == 0, text
    assert report["languages"]["pt"]["route"] == "eng-spa|es-pt"
    assert (
        load_collection(tmp_path / "mt").question("q1", "pt").text == "[es-pt] [eng-spa] Where is the tower?"
    )


def test_keep_languages_augments_the_source_with_the_translations(cli, toy_dir, tmp_path, fake_apertium):
    code, text, _ = translate(cli, toy_dir, tmp_path / "mt", "--to", "ca", "--keep-languages")
    assert code == 0, text
    collection, source = load_collection(tmp_path / "mt"), load_collection(toy_dir)
    assert collection.languages == ["ca", "de", "en", "es"]
    for lang in source.languages:  # the human languages untouched, the same ids
        assert {
            q: (x.text, source.candidates[lang][x.answer].text) for q, x in source.questions[lang].items()
        } == {
            q: (x.text, collection.candidates[lang][x.answer].text)
            for q, x in collection.questions[lang].items()
        }
    assert collection.languages_of("q1") == ["ca", "de", "en", "es"]
    code, _, err = cli(
        "data", "translate", str(toy_dir), "--to", "ca,es", "--keep-languages", "--out", str(tmp_path / "x")
    )
    assert code == 2 and "--to es: " in err and "already has es; with --keep-languages" in err


def test_a_jsonl_collection_and_a_translation_output_are_sources_too(cli, toy_dir, tmp_path, fake_apertium):
    from hybridbatch.data import write_jsonl

    source = write_jsonl(load_collection(toy_dir), tmp_path / "toy.jsonl")
    code, text, _ = translate(cli, source, tmp_path / "mt", "--to", "es", "--from", "de")
    assert code != 0 and "no de→es pair installed" in text  # the stand-in has no deu-spa
    code, text, report = translate(cli, source, tmp_path / "mt", "--to", "ca")
    assert code == 0, text
    assert report["kind"] == "qa" and load_collection(tmp_path / "mt").ids_in("ca") == [
        "q1",
        "q2",
        "q3",
        "q4",
    ]
    code, text, report = translate(
        cli, tmp_path / "mt", tmp_path / "mt2", "--to", "ca"
    )  # a translation's output
    assert code == 0, text
    assert report["totals"]["cached"] == len(TOY_EN_TEXTS)  # same English sentences: from the cache
