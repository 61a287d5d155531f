"""Documents to index: from a BEIR corpus, a JSONL file, or a parallel QA collection's candidate pools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hybridbatch.data.beir import BeirDataset, is_beir_dir, iter_jsonl, load_beir_corpus
from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.errors import DataError


@dataclass(frozen=True, slots=True)
class Document:
    """One retrievable text; ``lang`` is ``None`` when the source does not say."""

    id: str
    text: str
    lang: str | None = None


def documents_from_collection(collection: ParallelQACollection) -> list[Document]:
    """Every language's candidate pool, with id ``"<lang>:<index in that pool>"``."""
    return [
        Document(f"{lang}:{index}", cand.text, lang)
        for lang in sorted(collection.candidates)
        for index, cand in enumerate(collection.candidates[lang])
    ]


def documents_from_beir(dataset: BeirDataset, lang: str | None = None) -> list[Document]:
    """A BEIR corpus as documents (``"title text"``), optionally tagged with one language."""
    return [
        Document(did, text, lang) for did, text in zip(dataset.corpus_ids, dataset.documents, strict=True)
    ]


def read_documents_jsonl(path: str | Path) -> list[Document]:
    """Read ``{"id", "text"[, "lang"][, "title"]}`` records (``_id`` is accepted for ``id``).

    Raises:
        DataError: malformed line, missing/empty ``id`` or ``text``, or a duplicate id.
    """
    docs: list[Document] = []
    seen: set[str] = set()
    for where, record in iter_jsonl(path):
        did = record.get("id", record.get("_id"))
        if not isinstance(did, str | int) or isinstance(did, bool) or not str(did).strip():
            raise DataError(f"{where}: missing or empty field 'id'")
        did = str(did).strip()
        text, title, lang = record.get("text"), record.get("title") or "", record.get("lang")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: field 'text' of document {did!r} is missing or empty")
        if not isinstance(title, str) or (lang is not None and not isinstance(lang, str)):
            raise DataError(f"{where}: fields 'title' and 'lang' must be strings")
        if did in seen:
            raise DataError(f"{where}: duplicate document id {did!r}")
        seen.add(did)
        docs.append(Document(did, f"{title.strip()} {text.strip()}".strip(), lang or None))
    if not docs:
        raise DataError(f"{path}: no documents")
    return docs


def load_documents(spec: str | Path) -> list[Document]:
    """Resolve a corpus spec to documents.

    ``spec`` is a BEIR directory (``corpus.jsonl`` inside), a JSONL file of ``{"id", "text"[, "lang"]}``
    records, or anything :func:`hybridbatch.data.load_collection` accepts (``xquad-r``, ``mlqa-r``, a
    LAReQA directory), whose candidate pools are indexed with ids ``"<lang>:<index>"``.
    """
    path = Path(spec)
    if is_beir_dir(path):
        ids, titles, texts = load_beir_corpus(path)
        return [Document(i, f"{t} {x}" if t else x) for i, t, x in zip(ids, titles, texts, strict=True)]
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz")) and _looks_like_corpus(path):
        return read_documents_jsonl(path)
    from hybridbatch.data import load_collection

    return documents_from_collection(load_collection(str(spec)))


def _looks_like_corpus(path: Path) -> bool:
    """A JSONL whose first record has a ``text`` and no ``question`` (not the parallel QA format)."""
    for _, record in iter_jsonl(path):
        return "text" in record and "question" not in record
    return True
