"""Bitext directories, pairs JSONL and the FLORES-200 source as collections of their kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridbatch.data.bitext import load_bitext
from hybridbatch.data.pairs import load_pairs
from hybridbatch.data.registry import load_source
from hybridbatch.errors import DataError

SENTENCES = {
    "en": ["The cat sleeps.", "It is warm.", "Rain falls.", "The road is wet."],
    "de": ["Die Katze schläft.", "Es ist warm.", "Regen fällt.", "Die Straße ist nass."],
    "fr": ["Le chat dort.", "Il fait chaud.", "La pluie tombe.", "La route est mouillée."],
}


def write_bitext(root: Path, sentences: dict = SENTENCES, documents: list[str] | None = None) -> Path:
    """A bitext directory: one ``<lang>.txt`` per language (and ``documents.tsv`` when given)."""
    root.mkdir(parents=True, exist_ok=True)
    for lang, lines in sentences.items():
        (root / f"{lang}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    if documents is not None:
        (root / "documents.tsv").write_text("".join(f"{d}\n" for d in documents), encoding="utf-8")
    return root


def write_pairs(path: Path, n: int = 6, langs: tuple[str, ...] = ("en", "de")) -> Path:
    """A pairs JSONL file: ``n`` queries, each with its own passage, in every language."""
    records = [
        {
            "query_id": f"q{i}",
            "lang": lang,
            "query": f"{lang} query {i}?",
            "passage_id": f"p{i}",
            "passage": f"{lang} passage {i}.",
        }
        for i in range(n)
        for lang in langs
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_bitext_lines_are_parallel_ids_and_documents_are_paragraphs(tmp_path: Path) -> None:
    root = write_bitext(tmp_path / "bt", documents=["d1", "d1", "d2", "d2"])
    collection = load_bitext(root)
    assert collection.kind == "bitext" and collection.languages == ["de", "en", "fr"]
    assert collection.ids == ["L000001", "L000002", "L000003", "L000004"]
    assert (
        collection.question("L000003", "de").text == collection.answer("L000003", "de").text == "Regen fällt."
    )
    negatives = collection.hard_negatives("L000003", "fr")
    assert [collection.candidates["fr"][i].text for i in negatives] == ["La route est mouillée."]
    assert load_bitext(write_bitext(tmp_path / "plain")).hard_negatives("L000001", "en") == []


def test_the_registry_loads_every_kind(tmp_path: Path, toy_dir: Path) -> None:
    bitext = write_bitext(tmp_path / "bt")
    pairs = write_pairs(tmp_path / "marco.jsonl")
    kinds = [load_source(spec).kind for spec in (str(toy_dir), str(bitext), f"pairs:{pairs}")]
    assert kinds == ["qa", "bitext", "pairs"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda r: (r / "de.txt").write_text("Die Katze schläft.\n", encoding="utf-8"),
            "de.txt: 1 lines, but",
        ),
        (lambda r: (r / "fr.txt").write_text("", encoding="utf-8"), "fr.txt: empty language file"),
        (lambda r: (r / "en.txt").write_text("a\n\nc\nd\n", encoding="utf-8"), "en.txt:2: empty line"),
        (
            lambda r: (r / "documents.tsv").write_text("d1\nd2\n", encoding="utf-8"),
            "2 document ids, expected 4",
        ),
    ],
    ids=["line counts differ", "empty file", "blank line", "short documents file"],
)
def test_damaged_bitext_is_one_error_naming_the_file(tmp_path: Path, damage, message) -> None:
    root = write_bitext(tmp_path / "bt")
    damage(root)
    with pytest.raises(DataError, match=None) as info:
        load_bitext(root)
    assert message in str(info.value)


def test_pairs_share_passages_by_id(tmp_path: Path) -> None:
    collection = load_pairs(write_pairs(tmp_path / "marco.jsonl"))
    assert collection.kind == "pairs" and collection.languages == ["de", "en"]
    assert collection.answer("q2", "de").text == "de passage 2."
    assert collection.ids_in("en") == [f"q{i}" for i in range(6)]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"query_id": "q", "lang": "en", "query": "?", "passage_id": "p"}, ":1: missing field 'passage'"),
        (
            {"query_id": "q", "lang": "en", "query": " ", "passage_id": "p", "passage": "x"},
            "field 'query' is empty",
        ),
        (
            {"query_id": 1, "lang": "en", "query": "?", "passage_id": "p", "passage": "x"},
            "'query_id' must be str",
        ),
    ],
)
def test_bad_pairs_records_name_line_and_field(tmp_path: Path, record, message) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=None) as info:
        load_pairs(path)
    assert message in str(info.value)


def test_pairs_passage_id_with_two_texts_is_refused(tmp_path: Path) -> None:
    base = {"lang": "en", "query": "?", "passage_id": "p"}
    lines = [{**base, "query_id": "a", "passage": "one"}, {**base, "query_id": "b", "passage": "two"}]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:2: passage_id 'p' \(en\) has another text"):
        load_pairs(path)


def test_flores200_train_holds_no_held_out_language_and_no_dev_sentence(shared_data: Path) -> None:
    from hybridbatch.data.flores_languages import HELD_OUT, dataset_code

    if not (shared_data / "flores200" / "devtest").is_dir():
        pytest.skip("no FLORES-200 copy in the data mirror")
    train, dev = load_source("flores200:train"), load_source("flores200:dev")
    assert train.kind == dev.kind == "bitext"
    assert not {dataset_code(code) for code in HELD_OUT} & set(train.languages)
    assert {"en", "de", "zh", "ar"} <= set(train.languages)  # the codes the other datasets use
    assert (
        train.ids[0] == "0000"
        and train.ids[-1] == "0811"
        and dev.ids == [f"{i:04d}" for i in range(812, 1012)]
    )
    for lang in set(train.languages) & set(dev.languages):
        dev_texts = {q.text for q in dev.questions[lang].values()}
        assert not any(q.text in dev_texts for q in train.questions[lang].values()), lang
    assert train.report.dropped["sentence also in flores200:dev"] >= 1  # upstream repeats one (dyu_Latn)


def test_data_info_reads_every_kind(cli, tmp_path: Path) -> None:
    bitext = write_bitext(tmp_path / "bt", documents=["d1", "d1", "d2", "d2"])
    code, out, _ = cli("data", "info", f"{bitext}", "--json")
    info = json.loads(out)
    assert code == 0 and info["kind"] == "bitext" and info["ids_total"] == 4
    assert info["paragraphs_per_language"] == {"de": 2, "en": 2, "fr": 2}
    code, out, _ = cli("data", "info", f"pairs:{write_pairs(tmp_path / 'marco.jsonl')}")
    assert code == 0 and "(pairs)" in out.splitlines()[0]
