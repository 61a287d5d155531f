"""Bitext sources: multi-way parallel sentences as a collection of kind ``bitext``.

On disk (a user's bitext) is a directory with one ``<lang>.txt`` per language, UTF-8, one sentence per
line, line *i* of every file the translation of line *i* of every other (so every file has the same
number of lines), and optionally ``documents.tsv``: one document id per line, as many lines as the
sentence files; sentences with the same document id form one document (the hard negatives of a pair
are the other sentences of its positive's document). Without it no sentence has hard negatives.

In memory each line is one parallel id (``L000001`` for line 1); sentence *i* in language *L* is both
the "question" of that id in *L* and the one candidate answering it, and documents are paragraphs. The
sampler only draws X-Y pairs from a bitext (an X-X pair would be a sentence and itself).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hybridbatch.data.collection import Candidate, LoadReport, ParallelQACollection, Question
from hybridbatch.data.validation import clean_sentence, read_utf8
from hybridbatch.errors import DataError

DOCUMENTS_FILE = "documents.tsv"


def bitext_collection(
    name: str,
    ids: list[str],
    sentences: dict[str, list[str | None]],
    documents: list[str] | None = None,
    report: LoadReport | None = None,
) -> ParallelQACollection:
    """A ``bitext`` collection: ``sentences[lang][i]`` is id ``ids[i]`` in ``lang`` (None: missing).

    ``documents[i]`` is the document of id ``ids[i]`` (default: each sentence alone).
    """
    docs = documents if documents is not None else list(ids)
    numbers = {doc: n for n, doc in enumerate(dict.fromkeys(docs))}
    questions: dict[str, dict[str, Question]] = {}
    candidates: dict[str, list[Candidate]] = {}
    for lang, lines in sentences.items():
        kept = [i for i, text in enumerate(lines) if text is not None]
        members: dict[str, list[str]] = {}
        for i in kept:
            members.setdefault(docs[i], []).append(lines[i])  # type: ignore[arg-type]
        context = {doc: " ".join(texts) for doc, texts in members.items()}
        pool = [Candidate(lang, lines[i], numbers[docs[i]], context[docs[i]]) for i in kept]  # type: ignore[arg-type]
        candidates[lang] = pool
        questions[lang] = {ids[i]: Question(ids[i], lang, pool[n].text, n) for n, i in enumerate(kept)}
    return ParallelQACollection(name, questions, candidates, report or LoadReport(), kind="bitext")


def load_bitext(path: str | Path, languages: list[str] | None = None) -> ParallelQACollection:
    """Load a bitext directory (format in the module docstring); DataError names the file and line."""
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: a bitext source is a directory of <lang>.txt files")
    files = {f.stem: f for f in sorted(root.glob("*.txt")) if f.is_file()}
    if not files:
        raise DataError(f"{root}: no <lang>.txt files (a bitext source has one per language)")
    if languages is not None:
        missing = sorted(set(languages) - set(files))
        if missing:
            raise DataError(
                f"{root}: no {', '.join(f'{m}.txt' for m in missing)} (found: {', '.join(files)})"
            )
        files = {lang: f for lang, f in files.items() if lang in languages}
    report = LoadReport()
    sentences = {lang: _read_sentences(file, report) for lang, file in files.items()}
    count = Counter(len(lines) for lines in sentences.values()).most_common(1)[0][0]
    for lang, lines in sentences.items():
        if len(lines) != count:
            first = next(files[other].name for other, them in sentences.items() if len(them) == count)
            raise DataError(
                f"{files[lang]}: {len(lines)} lines, but {first} has {count} "
                "(line i of every language file must be the translation of line i of every other)"
            )
    documents = _read_documents(root / DOCUMENTS_FILE, count) if (root / DOCUMENTS_FILE).exists() else None
    ids = [f"L{n:06d}" for n in range(1, count + 1)]
    return bitext_collection(root.name, ids, dict(sentences), documents, report)  # type: ignore[arg-type]


def _lines(file: Path) -> list[str]:
    lines = read_utf8(file).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_sentences(file: Path, report: LoadReport) -> list[str]:
    lines = _lines(file)
    if not lines:
        raise DataError(f"{file}: empty language file (expected one sentence per line)")
    out = []
    for number, line in enumerate(lines, 1):
        text = clean_sentence(line, f"{file}:{number}", report)
        if not text:
            raise DataError(f"{file}:{number}: empty line (every line is one sentence)")
        out.append(text)
    return out


def _read_documents(file: Path, count: int) -> list[str]:
    lines = [line.strip() for line in _lines(file)]
    if len(lines) != count:
        raise DataError(f"{file}: {len(lines)} document ids, expected {count} (one per sentence line)")
    for number, line in enumerate(lines, 1):
        if not line:
            raise DataError(f"{file}:{number}: empty document id")
    return lines
