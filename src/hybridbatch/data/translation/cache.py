"""The per-sentence translation cache: a small SQLite file (WAL journal, one commit per batch).

Each entry is keyed by engine + version + language pair + settings + source text and carries a
checksum of its key and output. A run that is killed (even ``kill -9``) loses at most the batch in
flight: the next run finds every committed batch and translates only the rest. An entry whose
checksum does not match (a damaged row) is reported as corrupt, retranslated and replaced.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from hybridbatch.data.translation.engines import Output
from hybridbatch.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    pair TEXT NOT NULL,
    output TEXT NOT NULL,
    unknown INTEGER NOT NULL,
    checksum TEXT NOT NULL
)
"""


def cache_key(engine_id: str, pair: str, text: str) -> str:
    """The key of ``text`` translated by ``engine_id`` (engine, version, settings) for ``pair``."""
    return hashlib.sha256(f"{engine_id}\0{pair}\0{text}".encode()).hexdigest()


def _checksum(key: str, output: str, unknown: int) -> str:
    return hashlib.sha256(f"{key}\0{output}\0{unknown}".encode()).hexdigest()[:16]


class TranslationCache:
    """Open (or create) the cache at ``path``; ConfigError naming ``--cache`` if it is unusable."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.execute("SELECT key, output, unknown, checksum FROM translations LIMIT 1").fetchall()
            self._db.commit()
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(
                f"--cache {self.path}: not a usable translation cache ({exc}); "
                "move it away or pass another --cache file"
            ) from None

    def get(self, keys: list[str]) -> tuple[dict[str, Output], set[str]]:
        """The valid entries among ``keys``, and the keys whose entry is corrupt."""
        found: dict[str, Output] = {}
        corrupt: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, output, unknown, checksum FROM translations WHERE key IN ({marks})", chunk
            ).fetchall()
            for key, output, unknown, checksum in rows:
                valid = isinstance(output, str) and isinstance(unknown, int)
                if valid and checksum == _checksum(key, output, unknown):
                    found[key] = Output(output, unknown)
                else:
                    corrupt.add(key)
        return found, corrupt

    def put(self, engine_id: str, pair: str, entries: Iterable[tuple[str, Output]]) -> None:
        """Store ``(key, output)`` entries and commit (one commit per batch)."""
        rows = [
            (key, engine_id, pair, out.text, out.unknown, _checksum(key, out.text, out.unknown))
            for key, out in entries
        ]
        self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?)", rows)
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()
