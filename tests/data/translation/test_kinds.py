"""Bitext and pairs sources translated into their own layouts, which ``train --data DIR`` reads back
as the same kind (with the stand-in apertium)."""

from __future__ import annotations

import json

from hybridbatch.data.registry import load_source

EN = ["The tower is in Paris.", "It is tall CRASH.", "Anna wrote the book.", "It sold well."]
DE = ["Der Turm ist in Paris.", "Er ist hoch.", "Anna schrieb das Buch.", "Es verkaufte sich gut."]


def _bitext(root):
    root.mkdir()
    (root / "en.txt").write_text("".join(f"{s}\n" for s in EN), encoding="utf-8")
    (root / "de.txt").write_text("".join(f"{s}\n" for s in DE), encoding="utf-8")
    (root / "documents.tsv").write_text("paris\nparis\nbook\nbook\n", encoding="utf-8")
    return root


def test_a_bitext_stays_aligned_when_a_line_fails(cli, tmp_path, fake_apertium):
    out = tmp_path / "mt"
    code, _, err = cli("data", "translate", str(_bitext(tmp_path / "bi")), "--to", "es,ca", "--out", str(out))
    assert code == 0, err
    report = json.loads((out / "translate.json").read_text())
    assert report["kind"] == "bitext"
    assert report["languages"]["es"]["records"] == {"kept": 3, "dropped": {"failed translation": 1}}
    collection = load_source(str(out))  # a bitext directory: train --data reads it as one
    assert collection.kind == "bitext" and collection.languages == ["ca", "en", "es"]
    kept = [s for s in EN if "CRASH" not in s]
    assert (out / "es.txt").read_text().splitlines() == [f"[eng-spa] {s}" for s in kept]
    assert (out / "en.txt").read_text().splitlines() == kept
    assert (out / "ids.tsv").read_text().splitlines() == ["L000001", "L000003", "L000004"]
    # documents carried over: "Anna wrote the book." has the other book sentence as hard negative
    first_book = collection.question("L000002", "es").answer
    negatives = [collection.candidates["es"][i].text for i in collection.hard_negatives("L000002", "es")]
    assert collection.candidates["es"][first_book].text == "[eng-spa] Anna wrote the book."
    assert negatives == ["[eng-spa] It sold well."]


def test_pairs_keep_query_ids_and_shared_passages(cli, tmp_path, fake_apertium):
    records = [
        {"query_id": "a", "lang": "en", "query": "How tall?", "passage_id": "x", "passage": "It is tall."},
        {"query_id": "b", "lang": "en", "query": "How high?", "passage_id": "x", "passage": "It is tall."},
        {"query_id": "c", "lang": "en", "query": "Who wrote?", "passage_id": "y", "passage": "Anna did."},
        {"query_id": "a", "lang": "de", "query": "Wie hoch?", "passage_id": "x", "passage": "Er ist hoch."},
    ]
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "mt"
    code, _, err = cli("data", "translate", str(source), "--to", "es", "--out", str(out), "--quiet")
    assert code == 0, err
    collection = load_source(str(out))
    assert collection.kind == "pairs" and collection.ids_in("es") == ["a", "b", "c"]
    assert collection.answer("a", "es").text == "[eng-spa] It is tall."
    assert collection.question("a", "es").answer == collection.question("b", "es").answer  # one passage
    written = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    ids = {(r["lang"], r["query_id"]): r["passage_id"] for r in written}
    assert ids[("es", "a")] == ids[("en", "a")] == ids[("es", "b")] != ids[("es", "c")]


def test_flores_train_sample_translates_its_english_side(cli, tmp_path, fake_apertium, shared_data):
    out = tmp_path / "mt"
    code, _, err = cli(
        "data", "translate", "flores200:train", "--to", "es", "--limit", "5", "--out", str(out)
    )
    assert code == 0, err
    collection = load_source(str(out))
    assert collection.kind == "bitext" and len(collection.ids_in("es")) == 5
    assert (out / "ids.tsv").read_text().splitlines() == ["0000", "0001", "0002", "0003", "0004"]


def test_a_bitext_with_its_other_languages_stays_aligned(cli, tmp_path, fake_apertium):
    out = tmp_path / "mt"
    source = _bitext(tmp_path / "bi")
    code, _, err = cli("data", "translate", str(source), "--to", "es", "--keep-languages", "--out", str(out))
    assert code == 0, err
    assert (out / "de.txt").read_text().splitlines() == [
        DE[0],
        DE[2],
        DE[3],
    ]  # the failed line left every file
    assert load_source(str(out)).languages == ["de", "en", "es"]
