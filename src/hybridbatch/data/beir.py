"""Loader for BEIR-layout retrieval datasets (Thakur et al. 2021), the layout MIRACL is shipped in.

A BEIR directory holds:

- ``corpus.jsonl`` (or ``.jsonl.gz``, or a ``corpus/`` directory of such files): one document per
  line, ``{"_id", "title", "text"}`` (``docid`` is accepted for ``_id``, as in MIRACL's corpus);
- ``queries.jsonl``: ``{"_id", "text"}`` per line — or MIRACL's ``topics/*<split>*.tsv``
  (``query-id<TAB>text``, no header);
- ``qrels/<split>.tsv``: ``query-id<TAB>corpus-id<TAB>score`` with a header line — or TREC-style
  ``query-id Q0 corpus-id score`` lines (MIRACL's ``qrels/*<split>*.tsv``).

Only queries judged in the split's qrels are kept. Judgements that point at an unknown query or
document are dropped, counted and reported in :attr:`BeirDataset.report`; a malformed line is a
:class:`~hybridbatch.errors.DataError` naming file, line and field.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridbatch.data.collection import LoadReport
from hybridbatch.data.validation import parse_json_object
from hybridbatch.errors import DataError

BOM = "\ufeff"


@dataclass
class BeirDataset:
    """A retrieval test collection: a document corpus, queries and graded relevance judgements.

    Attributes:
        name: the directory name (e.g. ``miracl-de``).
        split: the qrels split loaded (e.g. ``dev``).
        corpus_ids: document ids, in file order.
        corpus_titles: document titles (may be empty strings).
        corpus_texts: document bodies.
        queries: ``query-id -> text`` for the judged queries of the split.
        qrels: ``query-id -> corpus-id -> relevance`` (integers; 0 = judged non-relevant).
        report: what the loader dropped or noticed.
    """

    name: str
    split: str
    corpus_ids: list[str]
    corpus_titles: list[str]
    corpus_texts: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    report: LoadReport = field(default_factory=LoadReport)

    @property
    def documents(self) -> list[str]:
        """The text to encode per document: ``"title text"`` (BEIR's convention), or the text alone."""
        return [f"{t} {x}" if t else x for t, x in zip(self.corpus_titles, self.corpus_texts, strict=True)]

    def __len__(self) -> int:
        return len(self.corpus_ids)


def is_beir_dir(path: str | Path) -> bool:
    """Whether ``path`` is a directory holding a BEIR corpus."""
    path = Path(path)
    return path.is_dir() and _corpus_files(path, required=False) != []


def load_beir(path: str | Path, split: str = "dev") -> BeirDataset:
    """Load a BEIR-layout directory (see module docstring) for one qrels ``split``.

    Raises:
        DataError: a missing file, a malformed line, a missing or empty field, a duplicate id, or
            qrels that match no query/document at all.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: not a directory (expected a BEIR dataset with corpus.jsonl)")
    report = LoadReport()
    ids, titles, texts = load_beir_corpus(root)
    queries = _load_queries(root, split)
    qrels = _load_qrels(root, split)
    known_docs = set(ids)
    kept: dict[str, dict[str, int]] = {}
    for qid, judged in qrels.items():
        if qid not in queries:
            report.drop("qrels query not in queries", f"{qid} ({len(judged)} judgements)")
            continue
        for did, rel in judged.items():
            if did in known_docs:
                kept.setdefault(qid, {})[did] = rel
            else:
                report.drop("qrels document not in corpus", f"query {qid} -> {did}")
    if not kept:
        raise DataError(f"{root}: no qrels of split {split!r} match a known query and document")
    unjudged = len(queries) - len(kept)
    if unjudged:
        report.note(f"{unjudged} queries without (kept) judgements in split {split!r} were not loaded")
    queries = {qid: queries[qid] for qid in kept}
    return BeirDataset(root.name, split, ids, titles, texts, queries, kept, report)


# --- corpus -------------------------------------------------------------------------------
def _corpus_files(root: Path, required: bool = True) -> list[Path]:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (root / name).is_file():
            return [root / name]
    folder = root / "corpus"
    if folder.is_dir():
        files = sorted([*folder.glob("*.jsonl"), *folder.glob("*.jsonl.gz")])
        if files:
            return files
    if required:
        raise DataError(f"{root}: no corpus.jsonl, corpus.jsonl.gz or corpus/*.jsonl[.gz] found")
    return []


def load_beir_corpus(root: str | Path) -> tuple[list[str], list[str], list[str]]:
    """Read a BEIR directory's corpus: ``(ids, titles, texts)`` in file order (DataError when malformed)."""
    root = Path(root)
    ids: list[str] = []
    titles: list[str] = []
    texts: list[str] = []
    seen: dict[str, str] = {}
    for file in _corpus_files(root):
        for where, record in iter_jsonl(file):
            did = _id_field(record, where, "_id", "docid")
            title = _str_field(record, where, "title", required=False)
            text = _str_field(record, where, "text", required=False)
            if not text.strip() and not title.strip():
                raise DataError(f"{where}: document {did!r} has an empty 'text' (and no 'title')")
            if did in seen:
                raise DataError(f"{where}: duplicate document id {did!r} (first at {seen[did]})")
            seen[did] = where
            ids.append(did)
            titles.append(title.strip())
            texts.append(text.strip())
    if not ids:
        raise DataError(f"{root}: the corpus is empty")
    return ids, titles, texts


# --- queries ------------------------------------------------------------------------------
def _load_queries(root: Path, split: str) -> dict[str, str]:
    if (root / "queries.jsonl").is_file():
        rows = (
            (where, _id_field(r, where, "_id", "id"), _str_field(r, where, "text"))
            for where, r in iter_jsonl(root / "queries.jsonl")
        )
    else:
        topics = _split_files(root / "topics", split)
        if not topics:
            raise DataError(f"{root}: no queries.jsonl and no topics/*{split}*.tsv found")
        rows = (row for file in topics for row in _iter_topics(file))
    queries: dict[str, str] = {}
    for where, qid, text in rows:
        if not text.strip():
            raise DataError(f"{where}: query {qid!r} has an empty 'text'")
        if qid in queries:
            raise DataError(f"{where}: duplicate query id {qid!r}")
        queries[qid] = text.strip()
    return queries


def _iter_topics(file: Path) -> Iterator[tuple[str, str, str]]:
    for where, line in _iter_lines(file):
        parts = line.split("\t")
        if len(parts) < 2:
            raise DataError(f"{where}: expected 'query-id<TAB>text', got {line[:60]!r}")
        yield where, parts[0].strip(), "\t".join(parts[1:])


# --- qrels --------------------------------------------------------------------------------
def _load_qrels(root: Path, split: str) -> dict[str, dict[str, int]]:
    beir = root / "qrels" / f"{split}.tsv"
    files = [beir] if beir.is_file() else _split_files(root / "qrels", split)
    if not files:
        raise DataError(f"{root}: no qrels/{split}.tsv (nor qrels/*{split}*.tsv) found")
    qrels: dict[str, dict[str, int]] = {}
    for file in files:
        for number, (where, line) in enumerate(_iter_lines(file)):
            parts = line.split()
            if number == 0 and _is_header(parts):
                continue
            if len(parts) == 4:  # TREC: qid Q0 docid rel
                qid, _, did, score = parts
            elif len(parts) == 3:  # BEIR: qid docid score
                qid, did, score = parts
            else:
                raise DataError(
                    f"{where}: expected 'query-id corpus-id score' or 'query-id Q0 corpus-id score', "
                    f"got {len(parts)} fields"
                )
            try:
                rel = int(float(score))
            except ValueError:
                raise DataError(f"{where}: field 'score' is not a number: {score!r}") from None
            qrels.setdefault(qid, {})[did] = rel
    return qrels


def _is_header(parts: list[str]) -> bool:
    if len(parts) not in (3, 4):
        return False
    try:
        float(parts[-1])
    except (ValueError, IndexError):
        return True
    return False


def _split_files(folder: Path, split: str) -> list[Path]:
    if not folder.is_dir():
        return []

    def matches(stem: str) -> bool:
        return stem == split or stem.endswith((f"-{split}", f".{split}", f"_{split}"))

    return sorted(f for f in folder.iterdir() if f.is_file() and matches(f.name.split(".tsv")[0]))


# --- line readers -------------------------------------------------------------------------
def _open_text(file: Path):
    if file.suffix == ".gz":
        return gzip.open(file, "rt", encoding="utf-8")
    return file.open(encoding="utf-8")


def _iter_lines(file: Path) -> Iterator[tuple[str, str]]:
    """Yield ``("file:line", stripped line)`` for the non-blank lines of a UTF-8 text file."""
    try:
        with _open_text(file) as handle:
            for number, line in enumerate(handle, start=1):
                line = line.removeprefix(BOM) if number == 1 else line
                if line.strip():
                    yield f"{file}:{number}", line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{file}: cannot read ({'corrupt gzip data: ' if isinstance(exc, zlib.error) else ''}{exc})"
        ) from None


def iter_jsonl(file: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("file:line", object)`` per non-blank line of a JSONL file (``.gz`` allowed).

    Raises:
        DataError: a line that is not a JSON object; the message names file and line.
    """
    for where, line in _iter_lines(Path(file)):
        yield where, parse_json_object(line, where)


def _id_field(record: dict[str, Any], where: str, *names: str) -> str:
    for name in names:
        value = record.get(name)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    raise DataError(f"{where}: missing or empty field {names[0]!r}")


def _str_field(record: dict[str, Any], where: str, name: str, required: bool = True) -> str:
    value = record.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        kind = "missing" if value is None else f"not a string ({type(value).__name__})"
        raise DataError(f"{where}: field {name!r} is {kind}")
    return value
