"""Entry points: evaluate a model on one collection, or on several datasets with a written report."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hybridbatch import models  # models.load_model looked up per call (tests replace it)
from hybridbatch.data import load_collection
from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation.encode import EmbeddingTransform, EncodeOptions, encode_collection
from hybridbatch.evaluation.lareqa import check_settings, score_collection
from hybridbatch.evaluation.report import write_report
from hybridbatch.evaluation.results import SETTINGS, DatasetReport, EvaluationReport
from hybridbatch.models.capability import cpu_record
from hybridbatch.models.encoding import check_precision, model_directory
from hybridbatch.models.metadata import TrainingMetadata

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def evaluate_model(
    model: str | SentenceTransformer,
    data: str | ParallelQACollection,
    settings: Sequence[str] = SETTINGS,
    encoding: EncodeOptions | None = None,
    train_languages: Iterable[str] | None = None,
    with_context: bool = False,
    chunk_size: int | None = None,
    transform: EmbeddingTransform | None = None,
) -> DatasetReport:
    """Evaluate ``model`` on one LAReQA-style collection: Mono / Cross / Multi, rank distance.

    Args:
        model: a model spec/path (loaded with :func:`hybridbatch.models.load_model`) or a loaded model.
        data: a dataset name or path (see :func:`hybridbatch.data.load_collection`) or a collection.
        settings: any of ``mono``, ``cross``, ``multi`` (all three share one ranking pass).
        encoding: batch size, precision (``fp32``, ``bf16``, ``int8``, ``onnx-fp32``, ``onnx-int8`` or
            ``auto``; the report records the CPU and what ``auto`` chose), embedding cache directory
            (``None`` disables the cache) and progress bars; default :class:`EncodeOptions`.
        train_languages: languages seen in training; default read from the model directory's
            ``hybridbatch_training.json`` (key ``train_languages``) when there is one.
        with_context: encode candidates with their paragraph (off by default).
        chunk_size: queries per ranking chunk (memory bound).
        transform: applied to the embeddings after encoding and caching (see :class:`EmbeddingTransform`).

    Returns:
        The :class:`DatasetReport`, with per-query scores in ``per_query``.
    """
    settings = check_settings(settings)
    encoding = encoding or EncodeOptions()
    requested = encoding.precision
    encoding = encoding.model_copy(update={"precision": check_precision(requested)})  # auto: this CPU's
    started = time.perf_counter()
    st_model = load(model)
    collection = _collection(data)
    if train_languages is None:
        train_languages = read_train_languages(model if isinstance(model, str) else st_model)
    embeddings = encode_collection(st_model, collection, encoding, with_context, transform)
    encoded = time.perf_counter()
    report = score_collection(collection, embeddings, settings, train_languages, chunk_size)
    report.precision = encoding.precision
    report.precision_requested = requested if requested != encoding.precision else None
    report.cpu = cpu_record()
    report.encode_seconds = round(encoded - started, 3)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def evaluate(
    model: str | SentenceTransformer,
    datasets: list[str | ParallelQACollection],
    out: Path | None = None,
    settings: Sequence[str] = SETTINGS,
    encoding: EncodeOptions | None = None,
    train_languages: Iterable[str] | None = None,
    with_context: bool = False,
    transform: EmbeddingTransform | None = None,
) -> EvaluationReport:
    """Evaluate ``model`` on each dataset; write ``report.json``, ``report.md``, plots and per-query
    scores (``per_query_<dataset>.npz``) to ``out``. See :func:`evaluate_model` for the arguments
    (``encoding`` was validated when built: before the model loads; ``auto`` resolved per dataset)."""
    if not datasets:
        raise ConfigError("datasets: none given")
    settings = check_settings(settings)
    collections = [_collection(d) for d in datasets]  # fail on a bad dataset before loading the model
    st_model = load(model)
    if train_languages is None:
        train_languages = read_train_languages(model if isinstance(model, str) else st_model)
    reports: dict[str, DatasetReport] = {}
    for collection in collections:
        report = evaluate_model(
            st_model, collection, settings, encoding, train_languages, with_context, transform=transform
        )
        reports[_unique_name(report.dataset, reports)] = report
    result = EvaluationReport(model=_model_name(model), datasets=reports, versions=_versions())
    if out is not None:
        write_report(result, out)
    return result


def load(model: str | SentenceTransformer) -> SentenceTransformer:
    """The model itself, or the model a spec names."""
    if not isinstance(model, str):
        return model
    return models.load_model(model)


def read_train_languages(model: str | SentenceTransformer) -> list[str] | None:
    """``train_languages`` from the model directory's training metadata, if there is one."""
    directory = model_directory(model)
    meta = TrainingMetadata.read(directory) if directory is not None else None
    return meta.train_languages if meta is not None else None


def _collection(data: str | ParallelQACollection) -> ParallelQACollection:
    if isinstance(data, ParallelQACollection):
        return data
    return load_collection(data)


def _model_name(model: str | SentenceTransformer) -> str:
    if isinstance(model, str):
        return model
    directory = model_directory(model)
    return str(directory) if directory is not None else type(model).__name__


def _unique_name(name: str, taken: dict[str, object]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}#{n}", n + 1
    return candidate


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("hybridbatch", "sentence-transformers", "transformers", "torch", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            continue
    return out
