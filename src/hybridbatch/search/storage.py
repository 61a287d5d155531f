"""An index directory on disk, written atomically::

index.faiss      the faiss index (IndexFlatIP, exact; or IndexHNSWFlat, approximate)
documents.jsonl  one {"id", "text", "lang"} per vector, in vector order
index.json       metadata: model spec, precision, dim, count, kind, languages, created, and ``files``:
                 the size and SHA-256 of every other file, recorded when the index is written
neutralize.*     the language map fitted on the corpus (only with ``index --neutralize``)

Loading checks every file against ``files`` (sizes always; SHA-256, streamed, unless ``verify`` is off:
``search``/``serve --no-verify``), reads ``index.json`` and every document record strictly, and turns
each failure into one :class:`DataError` naming the file. An index written before checksums were
recorded (no ``files``) still loads, with a warning that it is not verified.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from hybridbatch.data.beir import iter_jsonl
from hybridbatch.errors import DataError
from hybridbatch.io import artefact_directory
from hybridbatch.search.corpus import Document
from hybridbatch.search.neutralize import load_map
from hybridbatch.settings import Settings

if TYPE_CHECKING:
    import faiss

FORMAT_VERSION = 1
FILES = ("index.faiss", "documents.jsonl", "index.json")
METADATA = "index.json"
REBUILD = "rebuild it with hybridbatch index"
logger = logging.getLogger(__name__)


class FileDigest(BaseModel):
    """Size and SHA-256 (hex) of one file of an index directory."""

    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


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
    cpu: dict[str, Any] | None = None  # the CPU the documents were encoded on (models.capability)
    files: dict[str, FileDigest] | None = None  # every file but index.json; None: an older index


class IndexLoading(Settings):
    """How ``search`` and ``serve`` open an index (declared once: both commands' flags come from here)."""

    verify: bool = Field(
        True,
        description="Check the SHA-256 of the index files before use; --no-verify checks sizes only "
        "(cost: docs/search.md)",
    )


# --- writing ------------------------------------------------------------------------------------
def write_index(
    path: str | Path, index: faiss.Index, documents: list[Document], info: IndexInfo, neutralizer: Any = None
) -> IndexInfo:
    """Write the index directory and return its metadata as written (with ``files``): a new one (or a
    previous index) is replaced atomically; into any other directory the index files are added
    without touching anything else."""
    import json

    import faiss

    with artefact_directory(Path(path), "index") as tmp:
        faiss.write_index(index, str(tmp / "index.faiss"))
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as handle:
            for d in documents:
                handle.write(json.dumps({"id": d.id, "text": d.text, "lang": d.lang}, ensure_ascii=False))
                handle.write("\n")
        if neutralizer is not None:
            neutralizer.save(tmp, "neutralize")
        files = {f.name: digest(f) for f in sorted(tmp.iterdir()) if f.is_file() and f.name != METADATA}
        info = info.model_copy(update={"files": files})
        (tmp / METADATA).write_text(info.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return info


def digest(file: Path) -> FileDigest:
    """Size and SHA-256 of ``file``, read in chunks."""
    with file.open("rb") as handle:
        sha = hashlib.file_digest(handle, "sha256").hexdigest()
        return FileDigest(bytes=handle.tell(), sha256=sha)


# --- reading ------------------------------------------------------------------------------------
def read_index(path: str | Path, verify: bool = True) -> tuple[faiss.Index, list[Document], IndexInfo, Any]:
    """``(faiss index, documents, info, language map or None)`` of a saved index, checked for damage
    and consistency; ``verify`` also checks the SHA-256s."""
    import faiss

    path = Path(path)
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise DataError(f"{path}: not an index directory (missing {', '.join(missing)})")
    info = read_info(path / METADATA)
    verify_files(path, info, verify)
    documents = read_documents(path / "documents.jsonl")
    try:
        index = faiss.read_index(str(path / "index.faiss"))
    except RuntimeError as exc:
        raise DataError(f"{path / 'index.faiss'}: cannot read faiss index ({exc})") from None
    if index.ntotal != info.count or len(documents) != info.count or index.d != info.dim:
        raise DataError(
            f"{path}: inconsistent index ({index.ntotal} vectors of dim {index.d}, {len(documents)} "
            f"documents; index.json says {info.count} of dim {info.dim})"
        )
    return index, documents, info, load_map(path, info.neutralize)


def read_info(file: Path) -> IndexInfo:
    """``index.json``: UTF-8 JSON matching :class:`IndexInfo` of a supported format version."""
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{file}: invalid index metadata (not UTF-8 at byte {exc.start}); {REBUILD}"
        ) from None
    try:
        info = IndexInfo.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(
            f"{file}: invalid index metadata ({where + ': ' if where else ''}{first['msg']})"
        ) from None
    if info.format_version != FORMAT_VERSION:
        raise DataError(f"{file}: unsupported format_version {info.format_version}")
    return info


def verify_files(path: Path, info: IndexInfo, verify: bool = True) -> None:
    """Each file of the index against the size and (``verify``) SHA-256 that ``index.json`` records."""
    if info.files is None:
        if verify:
            logger.warning(
                "%s: index.json records no checksums (an index written before they were added), so its "
                "files are not verified; rebuild it with hybridbatch index to add them",
                path,
            )
        return
    unrecorded = [name for name in FILES[:2] if name not in info.files]
    if unrecorded:
        raise DataError(f"{path / METADATA}: records no checksum of {', '.join(unrecorded)}; {REBUILD}")
    for name, recorded in info.files.items():
        file = path / name
        if Path(name).name != name or not file.is_file():
            raise DataError(f"{file}: missing (index.json lists it); {REBUILD}")
        size = file.stat().st_size
        if size != recorded.bytes:
            raise DataError(
                f"{file}: {size} bytes, but index.json records {recorded.bytes}: "
                f"the index is damaged; {REBUILD}"
            )
        if verify and digest(file).sha256 != recorded.sha256:
            raise DataError(
                f"{file}: SHA-256 differs from the one index.json records: the file is damaged or was "
                f"modified; {REBUILD}"
            )


def read_documents(file: Path) -> list[Document]:
    """The document records, each checked: a non-empty string ``id``, a string ``text``, a string or
    null ``lang``."""
    documents = []
    for where, record in iter_jsonl(file):
        did, text, lang = record.get("id"), record.get("text"), record.get("lang")
        if not isinstance(did, str) or not did:
            raise DataError(f"{where}: field 'id' must be a non-empty string; {REBUILD}")
        if not isinstance(text, str):
            raise DataError(f"{where}: field 'text' of document {did!r} must be a string; {REBUILD}")
        if lang is not None and not isinstance(lang, str):
            raise DataError(f"{where}: field 'lang' of document {did!r} must be a string or null; {REBUILD}")
        documents.append(Document(did, text, lang))
    return documents
