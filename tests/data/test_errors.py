"""Broken files through the CLI: one line on stderr starting ``error:``, naming the file; exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_lareqa


def _doc(root: Path, lang: str = "en") -> dict:
    return json.loads((root / f"{lang}.json").read_text(encoding="utf-8"))


def _save(root: Path, doc: object, lang: str = "en") -> None:
    (root / f"{lang}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _truncated(root):
    text = (root / "en.json").read_text(encoding="utf-8")
    (root / "en.json").write_text(text[: len(text) // 2], encoding="utf-8")


def _wrong_type(root):
    doc = _doc(root)
    doc["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = "0"
    _save(root, doc)


def _wrong_top_level(root):
    _save(root, [1, 2, 3])


def _missing_field(root):
    doc = _doc(root)
    del doc["data"][2]["paragraphs"][0]["sentences"]
    _save(root, doc)


def _answer_outside(root):
    doc = _doc(root)
    paragraph = doc["data"][0]["paragraphs"][0]
    gap = paragraph["sentence_breaks"][0][1] + 1  # the space between the two sentences
    paragraph["qas"][0]["answers"][0]["answer_start"] = gap
    _save(root, doc)


def _duplicate_id(root):
    doc = _doc(root)
    doc["data"][1]["paragraphs"][0]["qas"][0]["id"] = "q1"
    _save(root, doc)


def _empty_question(root):
    doc = _doc(root)
    doc["data"][0]["paragraphs"][0]["qas"][0]["question"] = "  \n"
    _save(root, doc)


def _empty_sentence(root):
    doc = _doc(root)
    doc["data"][0]["paragraphs"][0]["sentences"][1] = ""
    _save(root, doc)


def _break_count(root):
    doc = _doc(root)
    doc["data"][0]["paragraphs"][0]["sentence_breaks"].pop()
    _save(root, doc)


def _not_utf8(root):
    (root / "en.json").write_bytes(b'{"data": [], "note": "caf\xe9"}')  # Latin-1, not UTF-8


LAREQA_CASES = {
    "truncated": (_truncated, ["malformed JSON"]),
    "wrong type": (_wrong_type, ["'q1'", "answer_start", "must be int"]),
    "top level": (_wrong_top_level, ["expected an object"]),
    "missing field": (_missing_field, ["data[2]", "'sentences'"]),
    "answer outside": (_answer_outside, ["'q1'", "answer_start", "no sentence break"]),
    "duplicate id": (_duplicate_id, ["duplicate", "'q1'"]),
    "empty question": (_empty_question, ["'q1'", "'question' is empty"]),
    "empty sentence": (_empty_sentence, ["sentences[1]", "empty"]),
    "break count": (_break_count, ["sentence_breaks"]),
    "not utf-8": (_not_utf8, ["UTF-8"]),
}


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("case", sorted(LAREQA_CASES))
def test_broken_lareqa_file(case, tmp_path, cli):
    root = write_lareqa(tmp_path / "broken")
    breaker, needles = LAREQA_CASES[case]
    breaker(root)
    code, out, err = cli("data", "info", str(root))
    _assert_one_line_error(code, err, str(root / "en.json"), *needles)
    assert out == ""


# Each file starts with one valid record, so the broken one is on line 2 (3 for the duplicate).
GOOD = {"id": "a", "lang": "en", "question": "Q?", "sentences": ["One.", "Two."], "answer": 1}
JSONL_CASES = {
    "malformed": ('{"id": "a", "lang": ', ["malformed JSON", ":2:"]),
    "not an object": ("[1, 2]", ["expected a JSON object"]),
    "answer out of range": (json.dumps({**GOOD, "answer": 2}), ["'a'", "'answer'"]),
    "answer wrong type": (json.dumps({**GOOD, "answer": "1"}), ["'a'", "'answer'", "must be int"]),
    "missing question": (json.dumps({k: v for k, v in GOOD.items() if k != "question"}), ["'question'"]),
    "missing lang": (json.dumps({k: v for k, v in GOOD.items() if k != "lang"}), ["'lang'"]),
    "duplicate": (json.dumps(GOOD) + "\n" + json.dumps(GOOD), [":3:", "duplicate", "'a'"]),
    "empty sentence": (json.dumps({**GOOD, "sentences": ["One.", " "]}), ["sentences[1]", "empty"]),
}


@pytest.mark.parametrize("case", sorted(JSONL_CASES))
def test_broken_jsonl_file(case, tmp_path, cli):
    text, needles = JSONL_CASES[case]
    file = tmp_path / "user.jsonl"
    file.write_text(json.dumps({**GOOD, "id": "z"}) + "\n" + text + "\n", encoding="utf-8")
    code, _, err = cli("data", "info", str(file))
    _assert_one_line_error(code, err, str(file), *needles)


def test_unknown_dataset(cli):
    code, _, err = cli("data", "info", "no-such-dataset")
    _assert_one_line_error(code, err, "no-such-dataset")


def test_console_script_prints_one_line(tmp_path):
    """The installed entry point, end to end: no traceback, exit code 2."""
    root = write_lareqa(tmp_path / "broken")
    _truncated(root)
    script = Path(sys.executable).with_name("hybridbatch")
    proc = subprocess.run(
        [str(script), "data", "info", str(root)], capture_output=True, text=True, env=os.environ, check=False
    )
    _assert_one_line_error(proc.returncode, proc.stderr, str(root / "en.json"), "malformed JSON")
