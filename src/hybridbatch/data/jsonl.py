"""A simple JSONL format for user data: one record per (parallel id, language).

Each line is one JSON object::

    {"id": "q1", "lang": "en", "question": "Where is the tower?",
     "sentences": ["The tower is in Paris.", "It is tall."], "answer": 0,
     "context": "The tower is in Paris. It is tall."}

- ``id``: the parallel id (shared by the translations of one question).
- ``lang``: language code. ``(id, lang)`` is unique in a file.
- ``question``: the question text.
- ``sentences``: the sentences of the paragraph holding the answer; they join the candidate pool of
  ``lang`` (other sentences of the paragraph serve as hard negatives).
- ``answer``: index into ``sentences`` of the answer sentence.
- ``context`` (optional): the paragraph text; default the sentences joined by spaces. Records of one
  language with the same context share one paragraph.

A record with only ``lang``, ``sentences`` (and ``context``) and no ``id`` adds distractor
candidates without a question. Several questions on one paragraph repeat its sentences; candidates
are deduplicated per language by ``(context, sentence)``, so a pool never holds the same sentence of
the same paragraph twice (merges of repeated sentences inside one record are counted in
``collection.report``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hybridbatch.data.collection import Candidate, LoadReport, ParallelQACollection, Question
from hybridbatch.data.validation import clean_question, clean_sentence, parse_json_object, read_utf8, require
from hybridbatch.errors import DataError
from hybridbatch.io import atomic_write_text

QUESTION_FIELDS = ("id", "question", "answer")
#: A directory holding this file is read as that JSONL collection (the layout ``data translate`` writes).
JSONL_DIRECTORY_FILE = "collection.jsonl"


class _Builder:
    """Accumulates deduplicated pools and questions per language while records are read."""

    def __init__(self) -> None:
        self.questions: dict[str, dict[str, Question]] = {}
        self.candidates: dict[str, list[Candidate]] = {}
        self._index: dict[tuple[str, str, str], int] = {}  # (lang, context, sentence) -> pool index
        self._paragraphs: dict[tuple[str, str], int] = {}  # (lang, context) -> paragraph number
        self._count: dict[str, int] = {}  # lang -> last paragraph number

    def add_paragraph(self, lang: str, context: str, sentences: list[str], where: str, report: LoadReport):
        """Add the sentences to ``lang``'s pool; return each sentence's pool index."""
        pool = self.candidates.setdefault(lang, [])
        if (lang, context) not in self._paragraphs:
            self._paragraphs[(lang, context)] = self._count[lang] = self._count.get(lang, -1) + 1
        paragraph = self._paragraphs[(lang, context)]
        indices: list[int] = []
        added: set[str] = set()
        for s, text in enumerate(sentences):
            key = (lang, context, text)
            if key not in self._index:
                self._index[key] = len(pool)
                pool.append(Candidate(lang, text, paragraph, context))
                added.add(text)
            elif text in added:
                report.fix("merged repeated sentence of one paragraph", f"{where}: sentences[{s}]")
            indices.append(self._index[key])
        return indices


def load_jsonl(
    path: str | Path, languages: list[str] | None = None, name: str | None = None
) -> ParallelQACollection:
    """Load a JSONL collection (format in the module docstring).

    Args:
        path: the ``.jsonl`` file.
        languages: keep only these languages; one with no record is an error.
        name: the collection's name (default: the file name without suffix).

    Raises:
        DataError: malformed JSON, wrong/missing fields, duplicate ``(id, lang)``, empty text or an
            answer index out of range; the message names file, line, id and field.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such file")
    report = LoadReport()
    builder = _Builder()
    seen_langs: set[str] = set()
    for lineno, line in enumerate(read_utf8(file).splitlines(), start=1):
        if not line.strip():
            continue
        record = parse_json_object(line, f"{file}:{lineno}")
        lang = require(record, "lang", str, f"{file}:{lineno}").strip()
        if not lang:
            raise DataError(f"{file}:{lineno}: field 'lang' is empty")
        seen_langs.add(lang)
        if languages is not None and lang not in languages:
            continue
        _add_record(record, lang, f"{file}:{lineno}", builder, report)
    if languages is not None:
        missing = sorted(set(languages) - seen_langs)
        if missing:
            raise DataError(
                f"{file}: no record for language(s) {', '.join(missing)} "
                f"(found: {', '.join(sorted(seen_langs)) or 'none'})"
            )
    if not builder.candidates:
        raise DataError(f"{file}: no records")
    questions = {lang: builder.questions.get(lang, {}) for lang in builder.candidates}
    return ParallelQACollection(name or file.stem, questions, builder.candidates, report)


def _add_record(record: dict[str, Any], lang: str, where: str, builder: _Builder, report: LoadReport) -> None:
    qid = _question_id(record, where)
    if qid is not None:
        where = f"{where}: id {qid!r}"
    sentences = _sentences(record, where, report)
    context = " ".join(sentences)
    if "context" in record:
        context = clean_sentence(require(record, "context", str, where), f"{where}: context", report)
        if not context:
            raise DataError(f"{where}: field 'context' is empty")
    indices = builder.add_paragraph(lang, context, sentences, where, report)
    if qid is not None:
        _add_question(record, (qid, lang, where), indices, builder, report)


def _question_id(record: dict[str, Any], where: str) -> str | None:
    """The record's question id, or None for a distractor record (no question fields at all)."""
    has_question = [key in record for key in QUESTION_FIELDS]
    if not any(has_question):
        return None
    if not all(has_question):
        missing = [key for key, present in zip(QUESTION_FIELDS, has_question, strict=True) if not present]
        raise DataError(f"{where}: missing field '{missing[0]}' (a question needs id, question and answer)")
    qid = require(record, "id", str, where)
    if not qid.strip():
        raise DataError(f"{where}: field 'id' is empty")
    return qid


def _sentences(record: dict[str, Any], where: str, report: LoadReport) -> list[str]:
    raw = require(record, "sentences", list, where)
    if not raw:
        raise DataError(f"{where}: field 'sentences' is empty")
    sentences = []
    for s, sentence in enumerate(raw):
        if not isinstance(sentence, str):
            raise DataError(f"{where}: field 'sentences[{s}]' must be str, got {type(sentence).__name__}")
        text = clean_sentence(sentence, f"{where}: sentences[{s}]", report)
        if not text:
            raise DataError(f"{where}: field 'sentences[{s}]' is empty")
        sentences.append(text)
    return sentences


def _add_question(
    record: dict[str, Any],
    key: tuple[str, str, str],
    indices: list[int],
    builder: _Builder,
    report: LoadReport,
) -> None:
    """Add the record's question (``key``: id, language, location) answered by one of ``indices``."""
    qid, lang, where = key
    text = clean_question(require(record, "question", str, where), where, report)
    if not text:
        raise DataError(f"{where}: field 'question' is empty")
    answer = require(record, "answer", int, where)
    if not 0 <= answer < len(indices):
        raise DataError(
            f"{where}: field 'answer' = {answer} is not an index into its {len(indices)} sentences"
        )
    questions = builder.questions.setdefault(lang, {})
    if qid in questions:
        raise DataError(f"{where}: duplicate id {qid!r} for language {lang!r} (field 'id')")
    questions[qid] = Question(qid, lang, text, indices[answer])


def to_records(collection: ParallelQACollection) -> list[dict[str, Any]]:
    """The JSONL records of ``collection``: per language, paragraph by paragraph, questions by id.

    Paragraphs without a question become distractor records (no ``id``), so no candidate is lost.
    """
    records: list[dict[str, Any]] = []
    for lang in collection.languages:
        pool = collection.candidates.get(lang, [])
        by_paragraph: dict[int, list[Question]] = {}
        for question in sorted(collection.questions.get(lang, {}).values(), key=lambda q: q.id):
            by_paragraph.setdefault(pool[question.answer].paragraph, []).append(question)
        done: set[int] = set()
        for index, cand in enumerate(pool):
            if cand.paragraph in done:
                continue
            done.add(cand.paragraph)
            members = collection.paragraph_of(lang, index)
            base = {"lang": lang, "sentences": [pool[i].text for i in members], "context": cand.context}
            for q in by_paragraph.get(cand.paragraph, []):
                answer = members.index(q.answer)
                records.append({"id": q.id, "lang": lang, "question": q.text, **base, "answer": answer})
            if cand.paragraph not in by_paragraph:
                records.append(base)
    return records


def write_jsonl(collection: ParallelQACollection, path: str | Path) -> Path:
    """Write ``collection`` as JSONL (atomically) and return the path; :func:`load_jsonl` reads it."""
    lines = (json.dumps(record, ensure_ascii=False) for record in to_records(collection))
    return atomic_write_text(path, "".join(f"{line}\n" for line in lines))
