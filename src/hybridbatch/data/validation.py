"""Shared checks for dataset loaders: UTF-8 decoding, typed field access and text cleaning.

Every failure raises :class:`~hybridbatch.errors.DataError` with a ``where`` prefix that names the
file (and line, id, field) so the user can find the record to fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hybridbatch.data.collection import LoadReport
from hybridbatch.errors import DataError

BOM = "\ufeff"


def read_utf8(file: Path) -> str:
    """The text of ``file`` (UTF-8, a leading byte-order mark removed); DataError if unreadable."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{file}: not valid UTF-8 (line {line}, byte offset {exc.start})") from None


def _type_name(kind: type | tuple[type, ...]) -> str:
    return kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)


def require(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``obj[key]`` checked to be an instance of ``kind`` (bools never count as ints)."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise DataError(f"{where}: missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"{where}: field '{key}' must be {_type_name(kind)}, got {type(value).__name__}")
    return value


def clean_sentence(text: str, where: str, report: LoadReport) -> str:
    """``text`` without byte-order marks and surrounding whitespace (BOM removals are counted)."""
    if BOM in text:
        report.fix("stripped byte-order mark", where)
        text = text.replace(BOM, "")
    return text.strip()


def clean_question(text: str, where: str, report: LoadReport) -> str:
    """A question on one line: BOMs removed, whitespace runs (e.g. literal newlines) collapsed."""
    text = clean_sentence(text, where, report)
    collapsed = " ".join(text.split())
    if collapsed != text and any(ch in text for ch in "\n\r\t"):
        report.fix("collapsed line break in question", where)
    return collapsed


def parse_json_object(line: str, where: str) -> dict[str, Any]:
    """One JSONL line as a dict; DataError naming ``where`` (file:line) when it is not a JSON object."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: malformed JSON at column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    return record


def select_languages(
    files: dict[str, Path], languages: list[str] | None, missing_message: str
) -> dict[str, Path]:
    """Keep the files of ``languages`` (all when None); a missing language is a DataError.

    ``missing_message`` is formatted with ``missing`` and ``found`` (comma lists).
    """
    if languages is None:
        return files
    missing = sorted(set(languages) - set(files))
    if missing:
        found = ", ".join(sorted(files)) or "none"
        raise DataError(missing_message.format(missing=", ".join(missing), found=found))
    return {lang: f for lang, f in files.items() if lang in languages}
