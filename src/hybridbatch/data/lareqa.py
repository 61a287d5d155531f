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
from hybridbatch.errors import DataError

LANG_FILE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)?\.json$")
BOM = "\ufeff"


def load_lareqa(
    path: str | Path, languages: list[str] | None = None, name: str | None = None
) -> ParallelQACollection:
    """Load a LAReQA-format directory (or a single ``<lang>.json`` file).

    Args:
        path: directory of ``<lang>.json`` files, or one such file.
        languages: keep only these languages; a language with no file is an error.
        name: the collection's name (default: the directory name).

    Raises:
        DataError: a missing/malformed file or field; the message names file, id and field.
    """
    root = Path(path)
    files = _language_files(root)
    if languages is not None:
        missing = sorted(set(languages) - set(files))
        if missing:
            raise DataError(
                f"{root}: no file for language(s) {', '.join(missing)} "
                f"(found: {', '.join(sorted(files)) or 'none'})"
            )
        files = {lang: f for lang, f in files.items() if lang in languages}
    report = LoadReport()
    questions: dict[str, dict[str, Question]] = {}
    candidates: dict[str, list[Candidate]] = {}
    for lang, file in sorted(files.items()):
        questions[lang], candidates[lang] = _load_language(file, lang, report)
    return ParallelQACollection(name or root.name, questions, candidates, report)


def _language_files(root: Path) -> dict[str, Path]:
    if root.is_file():
        return {root.stem: root}
    if not root.is_dir():
        raise DataError(f"{root}: no such file or directory")
    files = {f.stem: f for f in sorted(root.iterdir()) if LANG_FILE.match(f.name)}
    if not files:
        raise DataError(f"{root}: no <lang>.json files found (expected e.g. en.json, de.json)")
    return files


def _read_json(file: Path) -> Any:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{file}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def _field(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise DataError(f"{where}: missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DataError(f"{where}: field '{key}' must be {names}, got {type(value).__name__}")
    return value


def _clean(text: str, where: str, report: LoadReport) -> str:
    if BOM in text:
        report.note(f"{where}: stripped a byte-order mark")
        text = text.replace(BOM, "")
    return text.strip()


def _load_language(file: Path, lang: str, report: LoadReport) -> tuple[dict[str, Question], list[Candidate]]:
    doc = _read_json(file)
    articles = _field(doc, "data", list, str(file))
    questions: dict[str, Question] = {}
    pool: list[Candidate] = []
    paragraph_no = 0
    for a, article in enumerate(articles):
        paragraphs = _field(article, "paragraphs", list, f"{file}: data[{a}]")
        for p, paragraph in enumerate(paragraphs):
            where = f"{file}: data[{a}].paragraphs[{p}]"
            first = len(pool)
            breaks = _paragraph_candidates(paragraph, lang, paragraph_no, where, report, pool)
            for qa in _field(paragraph, "qas", list, where):
                question = _question(qa, lang, breaks, first, where, report)
                if question is None:
                    continue
                if question.id in questions:
                    raise DataError(f"{where}: duplicate question id {question.id!r} in {file.name}")
                questions[question.id] = question
            paragraph_no += 1
    return questions, pool


def _paragraph_candidates(
    paragraph: Any, lang: str, paragraph_no: int, where: str, report: LoadReport, pool: list[Candidate]
) -> list[tuple[int, int]]:
    context = _field(paragraph, "context", str, where)
    sentences = _field(paragraph, "sentences", list, where)
    breaks = _field(paragraph, "sentence_breaks", list, where)
    if len(sentences) != len(breaks):
        raise DataError(f"{where}: {len(sentences)} sentences but {len(breaks)} sentence_breaks")
    spans: list[tuple[int, int]] = []
    for s, (sentence, span) in enumerate(zip(sentences, breaks, strict=True)):
        if not isinstance(sentence, str):
            raise DataError(f"{where}: field 'sentences[{s}]' must be str, got {type(sentence).__name__}")
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)
        ):
            raise DataError(f"{where}: field 'sentence_breaks[{s}]' must be [start, end] integers")
        text = _clean(sentence, f"{where}.sentences[{s}]", report)
        if not text:
            raise DataError(f"{where}: field 'sentences[{s}]' is empty")
        spans.append((span[0], span[1]))
        pool.append(Candidate(lang, text, paragraph_no, context.replace(BOM, "")))
    return spans


def _question(
    qa: Any, lang: str, spans: list[tuple[int, int]], first: int, where: str, report: LoadReport
) -> Question | None:
    qid = _field(qa, "id", str, where)
    where = f"{where}: question id {qid!r}"
    text = _clean(_field(qa, "question", str, where), where, report)
    if not text:
        raise DataError(f"{where}: field 'question' is empty")
    answers = _field(qa, "answers", list, where)
    if not answers:
        report.drop("no answer", where)
        return None
    start = _field(answers[0], "answer_start", int, f"{where}.answers[0]")
    for s, (begin, end) in enumerate(spans):
        if begin <= start <= end:
            return Question(qid, lang, " ".join(text.split()), first + s)
    raise DataError(f"{where}: field 'answers[0].answer_start' = {start} lies in no sentence break")
