"""Named datasets and the data home.

``load_collection(spec)`` accepts a dataset name (``xquad-r``, ``mlqa-r``), a LAReQA directory, a
single ``<lang>.json`` file or a JSONL file. Named datasets live under the data home
(``$HYBRIDBATCH_DATA``, default the user cache directory) and are downloaded there when missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.data.lareqa import load_lareqa
from hybridbatch.errors import DataError

DATA_ENV = "HYBRIDBATCH_DATA"
NAMED_DATASETS = ("xquad-r", "mlqa-r")


def data_home() -> Path:
    """The directory holding named datasets: ``$HYBRIDBATCH_DATA`` or ``~/.cache/hybridbatch/data``."""
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "hybridbatch" / "data"


def load_collection(spec: str, languages: list[str] | None = None) -> ParallelQACollection:
    """Resolve a dataset name or path to a collection (see module docstring)."""
    if spec in NAMED_DATASETS:
        return load_lareqa(data_home() / spec, languages, name=spec)
    path = Path(spec)
    if not path.exists():
        known = ", ".join(NAMED_DATASETS)
        raise DataError(f"unknown dataset {spec!r}: not a known name ({known}) nor an existing path")
    return load_lareqa(path, languages)
