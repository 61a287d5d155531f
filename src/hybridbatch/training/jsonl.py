"""Append-only JSONL logs keyed by step (``metrics.jsonl``, ``--log-batches``) that survive resume.

A run killed after step ``s`` may have logged steps past its last checkpoint ``c < s``. On resume the
log is first cut back to the records with ``step <= c`` (rewritten atomically), then appended to, so
every step appears exactly once in the final file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TextIO

from hybridbatch.io import atomic_write_text


class StepLog:
    """A JSONL file of records with an integer ``step`` field, opened for appending after ``keep_upto``.

    Records of steps ``> keep_upto`` already in the file are dropped (``keep_upto=-1`` empties it).
    Each record is flushed as it is written, so a crash loses at most the line being written.
    """

    def __init__(self, path: str | Path, keep_upto: int) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        truncate_jsonl(self.path, keep_upto)
        self._handle: TextIO | None = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a line of JSON."""
        if self._handle is None:
            raise ValueError(f"{self.path}: log is closed")
        self._handle.write(json.dumps(finite(record), ensure_ascii=False, allow_nan=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def finite(value: Any) -> Any:
    """``value`` with NaN and ±infinity replaced by ``None`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def truncate_jsonl(path: Path, keep_upto: int) -> None:
    """Rewrite ``path`` keeping only complete records with ``step <= keep_upto`` (no-op if absent)."""
    if not path.exists():
        return
    kept: list[str] = []
    changed = False
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a crash
            changed = True
            continue
        if isinstance(record, dict) and int(record.get("step", -1)) <= keep_upto:
            kept.append(line)
        else:
            changed = True
    if changed:
        atomic_write_text(path, "".join(f"{line}\n" for line in kept))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """All records of a JSONL file."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
