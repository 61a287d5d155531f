"""AfriQA gold-passage loader: pool, dedup, dropped upstream records, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridbatch.data.afriqa import load_afriqa
from hybridbatch.errors import DataError


def record(qid, question, translated, context, title="T"):
    return {
        "id": qid,
        "question_lang": question,
        "question_translated": translated,
        "context": context,
        "title": title,
        "answer_pivot": {"answer_start": [0], "text": ["x"]},
        "answer_lang": "x",
    }


TOY = {
    ("hau", "en"): [
        record("0", "hau q0", "en q0", "passage A"),
        record("1", "hau q1", "en q1", "passage B"),
        record("2", "hau q2", "en q2", "passage A"),  # same passage as q0: pooled once
        record("3", "hau q3", "en q3", None, None),  # upstream: no gold passage -> dropped
    ],
    ("fon", "fr"): [record(0, "fon q0", "fr q0", "passage C", None)],
}


def write_afriqa(root: Path, split: str = "test", items: dict = TOY) -> Path:
    """Write ``items`` as AfriQA gold-passage files of ``split`` under ``root``."""
    for (lang, pivot), records in items.items():
        folder = root / "gold_passages" / lang
        folder.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(r) + "\n" for r in records)
        name = f"gold_span_passages.afriqa.{lang}.{pivot}.{split}.json"
        (folder / name).write_text(lines, encoding="utf-8")
    return root


def test_pool_and_questions(tmp_path: Path) -> None:
    data = load_afriqa(write_afriqa(tmp_path), "test")
    assert data.languages == ["fon", "hau"]
    assert data.passages == ["passage C", "T passage A", "T passage B"]
    assert data.passage_langs == ["fr", "en", "en"]
    hau = data.questions["hau"]
    assert [(q.id, q.text, q.translated, q.passage) for q in hau] == [
        ("0", "hau q0", "en q0", 1),
        ("1", "hau q1", "en q1", 2),
        ("2", "hau q2", "en q2", 1),
    ]
    assert data.questions["fon"][0].id == "0"  # integer ids become strings
    assert data.report.dropped == {"no gold passage (context null or empty)": 1}


def test_languages_and_split_selection(tmp_path: Path) -> None:
    root = write_afriqa(tmp_path)
    write_afriqa(tmp_path, "dev", {("hau", "en"): [record("9", "q", "t", "passage D")]})
    assert load_afriqa(root, "dev").passages == ["T passage D"]
    assert load_afriqa(root, "test", ["hau"]).languages == ["hau"]
    with pytest.raises(DataError, match="no gold passages for zul"):
        load_afriqa(root, "test", ["zul"])
    with pytest.raises(DataError, match="unknown split 'validation'"):
        load_afriqa(root, "validation")
    with pytest.raises(DataError, match=r"no gold_span_passages.*\.train\.json"):
        load_afriqa(root, "train")


def test_nan_question_is_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "gold_passages" / "twi"
    folder.mkdir(parents=True)
    good = json.dumps(record("1", "q", "t", "passage"))
    nan = json.dumps(record("2", "q", "t", "passage")).replace('"question_lang": "q"', '"question_lang": NaN')
    (folder / "gold_span_passages.afriqa.twi.en.dev.json").write_text(f"{good}\n{nan}\n", encoding="utf-8")
    data = load_afriqa(tmp_path, "dev")
    assert len(data.questions["twi"]) == 1
    assert data.report.dropped == {"question missing (null or NaN)": 1}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"hau\.en\.test\.json:2: malformed JSON"),
        ("[1, 2]", r":2: expected a JSON object"),
        (json.dumps({"question_lang": "q"}), r":2: missing field 'id'"),
        (json.dumps({**record("5", "q", "t", "c"), "context": 3}), r":2: field 'context' must be a string"),
        (json.dumps({**record("5", "q", "t", "c"), "id": True}), r":2: field 'id' must be"),
        (json.dumps(record("0", "q", "t", "c")), r":2: duplicate id '0' \(field 'id'\)"),
        (json.dumps({k: v for k, v in record("5", "q", "t", "c").items() if k != "title"}), "'title'"),
    ],
)
def test_malformed_records_name_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    root = write_afriqa(tmp_path, items={("hau", "en"): [record("0", "q", "t", "c")]})
    file = root / "gold_passages" / "hau" / "gold_span_passages.afriqa.hau.en.test.json"
    file.write_text(file.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_afriqa(root, "test")


def test_not_an_afriqa_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="gold_passages: no such directory"):
        load_afriqa(tmp_path, "test")


def test_shared_copy_loads(shared_data: Path) -> None:
    data = load_afriqa(shared_data / "afriqa", "test")
    assert "wol" not in data.languages and len(data.languages) == 9
    assert len(data.passages) > 2000
    assert all(0 <= q.passage < len(data.passages) for qs in data.questions.values() for q in qs)
