"""An index directory on disk, written atomically::

index.faiss      the faiss index (IndexFlatIP, exact; or IndexHNSWFlat, approximate)
documents.jsonl  one {"id", "text", "lang"} per vector, in vector order
index.json       metadata: model spec, precision, dim, count, kind, languages, created
neutralize.*     the language map fitted on the corpus (only with ``index --neutralize``)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import faiss
from pydantic import BaseModel, ValidationError

from hybridbatch.errors import DataError
from hybridbatch.io import artefact_directory
from hybridbatch.search.corpus import Document

FORMAT_VERSION = 1
FILES = ("index.faiss", "documents.jsonl", "index.json")


class IndexInfo(BaseModel):
    """The metadata of a saved index (``index.json``)."""

    format_version: int = FORMAT_VERSION
    model: str | None
    dim: int
    count: int
    kind: Literal["flat", "hnsw"] = "flat"
    metric: Literal["cosine"] = "cosine"
    prompts: dict[str, str | None]
    languages: dict[str, int]
    created: str
    neutralize: dict[str, Any] | None = None  # hybridbatch.neutrality map fitted on this corpus
    precision: str = "fp32"  # encoder precision of documents and queries (fp32, bf16, int8)


def write_index(path: str | Path, index: faiss.Index, documents: list[Document], info: IndexInfo,
                neutralizer: Any = None) -> Path:  # fmt: skip
    """Write the index directory: a new one (or a previous index) is replaced atomically; into any
    other directory the index files are added without touching anything else."""
    path = Path(path)
    with artefact_directory(path, "index") as tmp:
        faiss.write_index(index, str(tmp / "index.faiss"))
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as handle:
            for d in documents:
                handle.write(json.dumps({"id": d.id, "text": d.text, "lang": d.lang}, ensure_ascii=False))
                handle.write("\n")
        (tmp / "index.json").write_text(info.model_dump_json(indent=2) + "\n", encoding="utf-8")
        if neutralizer is not None:
            neutralizer.save(tmp, "neutralize")
    return path


def read_index(path: str | Path) -> tuple[faiss.Index, list[Document], IndexInfo, Any]:
    """``(faiss index, documents, info, language map or None)`` of a saved index, checked for consistency."""
    path = Path(path)
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise DataError(f"{path}: not an index directory (missing {', '.join(missing)})")
    try:
        info = IndexInfo.model_validate_json((path / "index.json").read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise DataError(f"{path / 'index.json'}: invalid index metadata ({exc.errors()[0]['msg']})") from None
    if info.format_version != FORMAT_VERSION:
        raise DataError(f"{path / 'index.json'}: unsupported format_version {info.format_version}")
    documents = _read_documents(path / "documents.jsonl")
    try:
        index = faiss.read_index(str(path / "index.faiss"))
    except RuntimeError as exc:
        raise DataError(f"{path / 'index.faiss'}: cannot read faiss index ({exc})") from None
    if index.ntotal != info.count or len(documents) != info.count or index.d != info.dim:
        raise DataError(
            f"{path}: inconsistent index ({index.ntotal} vectors of dim {index.d}, {len(documents)} "
            f"documents; index.json says {info.count} of dim {info.dim})"
        )
    from hybridbatch.neutrality.index import load_map

    return index, documents, info, load_map(path, info.neutralize)


def _read_documents(file: Path) -> list[Document]:
    from hybridbatch.data.beir import iter_jsonl

    documents = []
    for where, r in iter_jsonl(file):
        if "id" not in r or "text" not in r:
            raise DataError(f"{where}: missing field 'id' or 'text'")
        documents.append(Document(str(r["id"]), str(r["text"]), r.get("lang")))
    return documents
