"""Resolve a dataset spec (a name or a path) to a collection.

``load_collection(spec)`` accepts a dataset name (``xquad-r``, ``mlqa-r``), a LAReQA directory, a
single ``<lang>.json`` file, a ``.jsonl`` file or a directory holding ``collection.jsonl``. Named
datasets live under the data home (``$HYBRIDBATCH_DATA``, default ``cache_home()/data``) and are
downloaded there when missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from hybridbatch.data.bitext import load_bitext
from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.data.download import DATASETS, ensure_afriqa, ensure_dataset, ensure_flores
from hybridbatch.data.flores import FloresSplit
from hybridbatch.data.jsonl import JSONL_DIRECTORY_FILE, load_jsonl
from hybridbatch.data.lareqa import load_lareqa
from hybridbatch.data.pairs import load_pairs
from hybridbatch.data.sources import PAIRS_DIRECTORY_FILE, SourceSpec, parse_source
from hybridbatch.errors import DataError
from hybridbatch.paths import cache_home

DATA_ENV = "HYBRIDBATCH_DATA"
NAMED_DATASETS = tuple(DATASETS)
#: Named retrieval test sets that are not parallel QA collections (:mod:`hybridbatch.data.afriqa`,
#: :mod:`hybridbatch.data.flores`).
RETRIEVAL_DATASETS = ("afriqa", "flores200")


def data_home() -> Path:
    """The directory holding named datasets: ``$HYBRIDBATCH_DATA`` or ``cache_home()/data``."""
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    return cache_home() / "data"


def load_collection(spec: str | Path, languages: list[str] | None = None) -> ParallelQACollection:
    """A collection from a dataset name or path (see module docstring).

    Args:
        spec: ``xquad-r``, ``mlqa-r``, a LAReQA directory or ``<lang>.json`` file, or a ``.jsonl`` file.
        languages: keep only these languages (a requested language without data is an error).

    Raises:
        DataError: unknown name, missing path, download failure or invalid data.
    """
    spec = str(spec)
    if spec.partition(":")[0] in RETRIEVAL_DATASETS:
        raise DataError(
            f"{spec} is a retrieval test set, not a parallel QA collection: use "
            f"`hybridbatch evaluate-retrieval --data {spec}` or `hybridbatch compare --eval {spec}`"
        )
    if spec in DATASETS:
        directory = ensure_dataset(spec, data_home(), languages)
        return load_lareqa(directory, languages, name=spec)
    path = Path(spec).expanduser()
    if not path.exists():
        known = ", ".join(NAMED_DATASETS)
        raise DataError(f"unknown dataset {spec!r}: not a known name ({known}) nor an existing path")
    if path.is_file() and path.suffix == ".jsonl":
        return load_jsonl(path, languages)
    if path.is_dir() and (path / JSONL_DIRECTORY_FILE).is_file():  # e.g. a `data translate` output
        return load_jsonl(path / JSONL_DIRECTORY_FILE, languages, name=path.name)
    return load_lareqa(path, languages)


def load_source(spec: str | SourceSpec, languages: list[str] | None = None) -> ParallelQACollection:
    """The collection of a training source (see :mod:`hybridbatch.data.sources`), of the source's kind.

    Raises:
        DataError: unknown name, missing path or invalid data (the message names file and line).
    """
    try:
        source = parse_source(spec)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    if source.name == "flores200":
        from hybridbatch.data.flores_source import load_flores_source

        return load_flores_source(data_home(), source.split or "train", languages)
    if source.kind == "bitext":
        return load_bitext(_existing(source.name), languages)
    if source.kind == "pairs":
        path = _existing(source.name)
        return load_pairs(path / PAIRS_DIRECTORY_FILE if path.is_dir() else path, languages)
    return load_collection(source.name, languages)


def load_training_source(spec: str | SourceSpec, languages: list[str] | None = None) -> ParallelQACollection:
    """A source for training on ``languages`` (None: all): FLORES-200 reads only those it has (an
    unknown FLORES code or a held-out language is an error); other sources load whole, to be
    restricted by the caller (a language may belong to another source)."""
    source = spec if isinstance(spec, SourceSpec) else parse_source(spec)
    if source.name == "flores200" and languages:
        from hybridbatch.data.flores_source import requested_languages

        return load_source(source, requested_languages(languages))
    return load_source(source)


def _existing(spec: str) -> Path:
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"unknown dataset {spec!r}: no such file or directory")
    return path


def afriqa_dir(split: str = "test") -> Path:
    """The AfriQA directory under the data home, with ``split``'s files (downloaded when missing)."""
    from hybridbatch.data.afriqa import SPLITS

    if split not in SPLITS:
        raise DataError(f"afriqa: unknown split {split!r} (choose from {', '.join(SPLITS)})")
    return ensure_afriqa(data_home(), split)


def flores_dir() -> Path:
    """The FLORES-200 directory under the data home (its files downloaded when missing)."""
    return ensure_flores(data_home())


def load_flores_split(split: str, languages: list[str] | None = None) -> FloresSplit:
    """``flores200:<split>`` (``train`` = ids 0–811, ``dev`` = ids 812–1011) from the data home."""
    from hybridbatch.data.flores import load_flores, split_ids

    split_ids(split)  # an unknown split fails before any download
    return load_flores(flores_dir(), split, languages)
