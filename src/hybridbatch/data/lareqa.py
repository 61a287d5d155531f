"""Loader for the LAReQA format (XQuAD-R, MLQA-R; Roy et al. 2020, arXiv 2004.05484).

A LAReQA directory holds one SQuAD-v1.1 JSON file per language, ``<lang>.json``. Every paragraph
adds ``sentences`` and ``sentence_breaks`` (inclusive ``[start, end]`` character offsets into
``context``). The candidates of a language are all its paragraphs' sentences; a question's relevant
candidate is the sentence whose break contains the first answer's ``answer_start``. Parallel
questions share ``qas.id`` across languages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hybridbatch.data.collection import Candidate, LoadReport, ParallelQACollection, Question
from hybridbatch.data.validation import (
    BOM,
    clean_question,
    clean_sentence,
    read_utf8,
    require,
    select_languages,
)
from hybridbatch.errors import DataError

LANG_FILE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)?\.json$")


def load_lareqa(
    path: str | Path, languages: list[str] | None = None, name: str | None = None
) -> ParallelQACollection:
    """Load a LAReQA-format directory (or a single ``<lang>.json`` file).

    Args:
        path: directory of ``<lang>.json`` files, or one such file.
        languages: keep only these languages; a language with no file is an error.
        name: the collection's name (default: the directory name).

    Returns:
        The collection; ``collection.report`` counts dropped records (questions without answers)
        and cleanups (byte-order marks, line breaks in questions).

    Raises:
        DataError: a missing/malformed file or field; the message names file, id and field.
    """
    root = Path(path)
    report = LoadReport()
    message = f"{root}: no file for language(s) {{missing}} (found: {{found}})"
    files = select_languages(language_files(root, report), languages, message)
    questions: dict[str, dict[str, Question]] = {}
    candidates: dict[str, list[Candidate]] = {}
    for lang, file in sorted(files.items()):
        questions[lang], candidates[lang] = _load_language(file, lang, report)
    return ParallelQACollection(name or root.name, questions, candidates, report)


def language_files(root: Path, report: LoadReport | None = None) -> dict[str, Path]:
    """``lang -> file`` of a LAReQA directory (or a single file); other ``.json`` files are noted."""
    if root.is_file():
        return {root.stem: root}
    if not root.is_dir():
        raise DataError(f"{root}: no such file or directory")
    files: dict[str, Path] = {}
    for f in sorted(root.iterdir()):
        if LANG_FILE.match(f.name):
            files[f.stem] = f
        elif f.suffix == ".json" and report is not None:
            report.note(f"{f}: ignored (file name is not <lang>.json)")
    if not files:
        raise DataError(f"{root}: no <lang>.json files found (expected e.g. en.json, de.json)")
    return files


def _read_json(file: Path) -> Any:
    text = read_utf8(file)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{file}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise DataError(f"{file}: JSON nested too deeply") from None


def _load_language(file: Path, lang: str, report: LoadReport) -> tuple[dict[str, Question], list[Candidate]]:
    doc = _read_json(file)
    articles = require(doc, "data", list, str(file))
    questions: dict[str, Question] = {}
    pool: list[Candidate] = []
    paragraph_no = 0
    for a, article in enumerate(articles):
        paragraphs = require(article, "paragraphs", list, f"{file}: data[{a}]")
        for p, paragraph in enumerate(paragraphs):
            where = f"{file}: data[{a}].paragraphs[{p}]"
            first = len(pool)
            spans = _paragraph_candidates(paragraph, lang, paragraph_no, where, report, pool)
            for q, qa in enumerate(require(paragraph, "qas", list, where)):
                question = _question(qa, lang, spans, first, f"{where}.qas[{q}]", report)
                if question is None:
                    continue
                if question.id in questions:
                    raise DataError(f"{where}.qas[{q}]: duplicate question id {question.id!r} (field 'id')")
                questions[question.id] = question
            paragraph_no += 1
    return questions, pool


def _span(span: Any, s: int, length: int, where: str) -> tuple[int, int]:
    if (
        not isinstance(span, list)
        or len(span) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)
    ):
        raise DataError(f"{where}: field 'sentence_breaks[{s}]' must be [start, end] integers, got {span!r}")
    start, end = span
    # Upstream's last break often ends at len(context) (one past the last character): accept it.
    if not 0 <= start <= end <= length:
        raise DataError(f"{where}: field 'sentence_breaks[{s}]' = {span} is outside the context")
    return start, end


def _paragraph_candidates(
    paragraph: Any, lang: str, paragraph_no: int, where: str, report: LoadReport, pool: list[Candidate]
) -> list[tuple[int, int]]:
    context = require(paragraph, "context", str, where)
    sentences = require(paragraph, "sentences", list, where)
    breaks = require(paragraph, "sentence_breaks", list, where)
    if len(sentences) != len(breaks):
        raise DataError(
            f"{where}: field 'sentences' has {len(sentences)} items but 'sentence_breaks' has {len(breaks)}"
        )
    clean_context = context.replace(BOM, "")
    spans: list[tuple[int, int]] = []
    for s, (sentence, span) in enumerate(zip(sentences, breaks, strict=True)):
        if not isinstance(sentence, str):
            raise DataError(f"{where}: field 'sentences[{s}]' must be str, got {type(sentence).__name__}")
        spans.append(_span(span, s, len(context), where))
        text = clean_sentence(sentence, f"{where}.sentences[{s}]", report)
        if not text:
            raise DataError(f"{where}: field 'sentences[{s}]' is empty")
        pool.append(Candidate(lang, text, paragraph_no, clean_context))
    return spans


def _question(
    qa: Any, lang: str, spans: list[tuple[int, int]], first: int, where: str, report: LoadReport
) -> Question | None:
    qid = require(qa, "id", str, where)
    where = f"{where}: question id {qid!r}"
    if not qid.strip():
        raise DataError(f"{where}: field 'id' is empty")
    text = clean_question(require(qa, "question", str, where), where, report)
    if not text:
        raise DataError(f"{where}: field 'question' is empty")
    answers = require(qa, "answers", list, where)
    if not answers:
        report.drop("question without answers", where)
        return None
    start = require(answers[0], "answer_start", int, f"{where}: answers[0]")
    for s, (begin, end) in enumerate(spans):
        if begin <= start <= end:
            return Question(qid, lang, text, first + s)
    raise DataError(f"{where}: field 'answers[0].answer_start' = {start} lies in no sentence break")
