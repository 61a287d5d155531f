"""Loader for AfriQA gold passages as a cross-lingual retrieval test (Ogundepo et al. 2023, arXiv 2305.06897).

AfriQA asks questions in ten African languages whose answers live in English Wikipedia (French for
fon and wol). Its ``gold_passages/<lang>/gold_span_passages.afriqa.<lang>.<pivot>.<split>.json`` files
(JSON lines) pair every question with the passage holding its answer: ``id``, ``question_lang`` (the
question in ``<lang>``), ``question_translated`` (its human translation into ``<pivot>``),
``context`` and ``title`` (the passage), ``answer_pivot`` and ``answer_lang``.

As retrieval (*ours*, the setting of issue 12): the pool of a split is every distinct gold passage of
that split over all languages (``"title context"``, BEIR's convention); each question must find its
own passage. The translated question against the same pool is the "translate-test" upper bound.
Upstream records whose passage is missing (``context`` null or empty) or whose question is missing
(null, or a JSON ``NaN``) are dropped and counted; any other malformed record is a
:class:`~hybridbatch.errors.DataError` naming file, line and field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from hybridbatch.data.collection import LoadReport
from hybridbatch.data.validation import BOM, parse_json_object, read_utf8, select_languages
from hybridbatch.errors import DataError

SPLITS = ("train", "dev", "test")
#: Question languages and the pivot language of their passages and translations.
LANGUAGES = {
    "bem": "en",
    "fon": "fr",
    "hau": "en",
    "ibo": "en",
    "kin": "en",
    "swa": "en",
    "twi": "en",
    "wol": "fr",
    "yor": "en",
    "zul": "en",
}
GOLD_FILE = re.compile(r"^gold_span_passages\.afriqa\.([a-z]{3})\.([a-z]{2})\.(train|dev|test)\.json$")


@dataclass(frozen=True, slots=True)
class AfriqaQuestion:
    """One question: ``passage`` indexes :attr:`AfriqaSplit.passages`."""

    id: str
    lang: str
    text: str
    translated: str
    passage: int


@dataclass
class AfriqaSplit:
    """One split of AfriQA as retrieval: the passage pool and the questions per language."""

    split: str
    passages: list[str]
    passage_langs: list[str]
    questions: dict[str, list[AfriqaQuestion]]
    report: LoadReport = field(default_factory=LoadReport)

    @property
    def languages(self) -> list[str]:
        """Question languages that have at least one question in this split."""
        return sorted(lang for lang, qs in self.questions.items() if qs)


def gold_files(root: str | Path, split: str) -> dict[str, Path]:
    """``lang -> gold-passage file`` of ``split`` under an AfriQA directory."""
    if split not in SPLITS:
        raise DataError(f"afriqa: unknown split {split!r} (choose from {', '.join(SPLITS)})")
    folder = Path(root) / "gold_passages"
    if not folder.is_dir():
        raise DataError(f"{folder}: no such directory (expected AfriQA's gold_passages/<lang>/ files)")
    files: dict[str, Path] = {}
    for file in sorted(folder.glob("*/*.json")):
        match = GOLD_FILE.match(file.name)
        if match and match.group(3) == split and match.group(1) == file.parent.name:
            files[match.group(1)] = file
    if not files:
        raise DataError(f"{folder}: no gold_span_passages.afriqa.<lang>.<en|fr>.{split}.json file")
    return files


def load_afriqa(root: str | Path, split: str = "test", languages: list[str] | None = None) -> AfriqaSplit:
    """Load ``split`` of the AfriQA directory ``root`` (see module docstring).

    Raises:
        DataError: unknown split or language, no files, a malformed line or field.
    """
    message = f"afriqa {split}: no gold passages for {{missing}} (have: {{found}})"
    files = select_languages(gold_files(root, split), languages, message)
    data = AfriqaSplit(split, [], [], {})
    index: dict[str, int] = {}
    for lang, file in sorted(files.items()):
        data.questions[lang] = _read_file(file, lang, data, index)
    if not any(data.questions.values()):
        raise DataError(f"afriqa {split}: no question with a gold passage in {', '.join(files)}")
    return data


def _read_file(file: Path, lang: str, data: AfriqaSplit, index: dict[str, int]) -> list[AfriqaQuestion]:
    pivot = GOLD_FILE.match(file.name).group(2)  # type: ignore[union-attr]
    questions: list[AfriqaQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(read_utf8(file).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{file}:{number}"
        record = parse_json_object(line, where)
        qid = _id(record, where)
        if qid in seen:
            raise DataError(f"{where}: duplicate id {qid!r} (field 'id')")
        seen.add(qid)
        text = _text(record, "question_lang", where)
        translated = _text(record, "question_translated", where)
        context = _text(record, "context", where)
        title = _text(record, "title", where) or ""
        if context is None:
            data.report.drop("no gold passage (context null or empty)", f"{where} id {qid!r}")
            continue
        if text is None or translated is None:
            data.report.drop("question missing (null or NaN)", f"{where} id {qid!r}")
            continue
        passage = f"{title} {context}" if title else context
        if passage not in index:
            index[passage] = len(data.passages)
            data.passages.append(passage)
            data.passage_langs.append(pivot)
        questions.append(AfriqaQuestion(qid, lang, text, translated, index[passage]))
    return questions


def _id(record: dict, where: str) -> str:
    if "id" not in record:
        raise DataError(f"{where}: missing field 'id'")
    value = record["id"]
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise DataError(f"{where}: field 'id' must be a non-empty string or integer, got {value!r}")
    return str(value).strip()


def _text(record: dict, key: str, where: str) -> str | None:
    """A text field, cleaned; ``None`` for upstream's missing values (null, NaN, empty)."""
    if key not in record:
        raise DataError(f"{where}: missing field '{key}'")
    value = record[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if not isinstance(value, str):
        raise DataError(f"{where}: field '{key}' must be a string, got {type(value).__name__}")
    text = " ".join(value.replace(BOM, "").split())
    return text or None
