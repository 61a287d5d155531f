"""Fit sources and applying a :class:`~hybridbatch.neutrality.projection.LanguageMap` to embeddings.

A fit source is texts with their languages, never queries or relevance labels: a parallel QA
collection's candidate pools (``xquad-r``, ``mlqa-r``, a LAReQA directory), a JSONL corpus of
``{"id", "text", "lang"}`` records, or a BEIR directory whose ``corpus.jsonl`` records carry ``lang``.
Texts are encoded as passages (``passage`` prompt) through the evaluator's embedding cache.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hybridbatch.data import load_collection
from hybridbatch.data.beir import is_beir_dir, iter_jsonl
from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.errors import ConfigError, DataError
from hybridbatch.neutrality.projection import LanguageMap, check_method, fit, missing_languages

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from hybridbatch.evaluation.lareqa import CollectionEmbeddings

POOL = "pool"


def source_texts(source: str) -> tuple[str, dict[str, list[str]] | ParallelQACollection]:
    """Resolve a fit source: ``(name, collection)`` or ``(name, lang -> texts)`` for a corpus.

    Raises:
        DataError: a corpus text without a language (statistics would silently mix languages).
    """
    path = Path(source)
    if is_beir_dir(path):
        files = [f for f in (path / "corpus.jsonl", path / "corpus.jsonl.gz") if f.is_file()]
        if not files:
            raise DataError(f"--fit-on {source}: a BEIR fit source needs corpus.jsonl with a 'lang' field")
        return str(path), read_corpus(files[0])
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz")) and _looks_like_corpus(path):
        return str(path), read_corpus(path)
    collection = load_collection(source)
    return collection.name, collection


def read_corpus(path: Path) -> dict[str, list[str]]:
    """``lang -> texts`` of ``{"text"[, "title"], "lang"}`` records; every record needs both fields."""
    out: dict[str, list[str]] = {}
    for where, record in iter_jsonl(path):
        text, lang = record.get("text"), record.get("lang")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: field 'text' is missing or empty")
        if not isinstance(lang, str) or not lang.strip():
            raise DataError(
                f"{where}: no 'lang' field; per-language statistics (--fit-on) need every text's language"
            )
        title = record.get("title") if isinstance(record.get("title"), str) else ""
        out.setdefault(lang.strip(), []).append(f"{title.strip()} {text.strip()}".strip())
    return out


def _looks_like_corpus(path: Path) -> bool:
    """A JSONL whose first record has a ``text`` and no ``question`` (not the parallel QA format)."""
    for _, record in iter_jsonl(path):
        return "text" in record and "question" not in record
    return True


def check_source(source: str, rank: int | None = None) -> list[str]:
    """Validate a fit source before any encoding: at least 2 languages, ``rank`` ≤ L − 1; its languages."""
    name, texts = source_texts(source)
    if isinstance(texts, ParallelQACollection):
        langs = sorted(lang for lang, pool in texts.candidates.items() if pool)
    else:
        langs = sorted(lang for lang, items in texts.items() if items)
    if len(langs) < 2:
        raise DataError(
            f"fit source {name}: needs texts in at least 2 languages, found {len(langs)} "
            f"({', '.join(langs) or 'none'})"
        )
    if rank is not None and rank > len(langs) - 1:
        raise ConfigError(
            f"--rank must be between 1 and {len(langs) - 1} (number of fitted languages − 1), got {rank}"
        )
    return langs


def pool_only(collection: ParallelQACollection) -> ParallelQACollection:
    """The collection's candidate pools without its questions (same name: same embedding cache keys)."""
    return ParallelQACollection(collection.name, {}, collection.candidates, collection.report)


def encode_source(
    model: SentenceTransformer,
    source: str,
    batch_size: int = 64,
    cache_dir: Path | None = None,
    show_progress: bool = True,
) -> tuple[str, dict[str, np.ndarray]]:
    """``(source name, lang -> passage embeddings)`` of a fit source (cached like ``evaluate``)."""
    from hybridbatch.evaluation.encode import EncodeOptions, encode_collection
    from hybridbatch.models.embedding_cache import encode_cached, model_cache

    name, texts = source_texts(source)
    if isinstance(texts, ParallelQACollection):
        encoding = EncodeOptions(batch_size=batch_size, cache_dir=cache_dir, show_progress=show_progress)
        embeddings = encode_collection(model, pool_only(texts), encoding)
        return name, embeddings.candidates
    options = {
        "cache": model_cache(model, cache_dir),
        "batch_size": batch_size,
        "show_progress": show_progress,
    }
    return name, {
        lang: encode_cached(model, items, "passage", f"{name}:{lang}", **options)
        for lang, items in texts.items()
    }


def check_coverage(lmap: LanguageMap, languages: Sequence[str], what: str) -> list[str]:
    """Report languages of ``what`` that the map was not fitted on.

    ``center`` cannot centre a language without its mean (mixing centred and uncentred languages makes
    retrieval worse), so missing languages are an error there; LSAR's shared projection applies to
    every language, and the missing ones are reported on stderr.
    """
    missing = missing_languages(lmap, languages)
    if missing and lmap.method == "center":
        raise DataError(
            f"--fit-on {lmap.source}: no statistics for language(s) {', '.join(missing)} of {what}; "
            "centering needs every language's mean (fit on the evaluated pools, or use lsar)"
        )
    if missing:
        print(
            f"note: LSAR fitted on {', '.join(lmap.languages)} ({lmap.source}); {what} also has "
            f"{', '.join(missing)}, projected with the same map",
            file=sys.stderr,
        )
    return missing


def neutralize_collection(
    lmap: LanguageMap, collection: ParallelQACollection, embeddings: CollectionEmbeddings
) -> CollectionEmbeddings:
    """The collection's query and candidate embeddings mapped by ``lmap`` (language = the pool's)."""
    from hybridbatch.evaluation.lareqa import CollectionEmbeddings

    check_coverage(lmap, collection.languages, collection.name)
    return CollectionEmbeddings(
        queries={lang: lmap.apply(x, lang) for lang, x in embeddings.queries.items()},
        candidates={lang: lmap.apply(x, lang) for lang, x in embeddings.candidates.items()},
    )


class Neutralizer:
    """An evaluation transform (:class:`hybridbatch.evaluation.EmbeddingTransform`): fitted on the
    evaluated candidate pools, or pre-fitted on another source, then applied row by row."""

    def __init__(self, method: str, rank: int | None = None, fitted: LanguageMap | None = None) -> None:
        self.method, self.rank, self.fixed = method, rank, fitted
        self.lmap: LanguageMap | None = fitted
        self.fits: list[dict] = [fitted.describe()] if fitted is not None else []
        self._reported: set[tuple[str, ...]] = set()

    def fit(self, embeddings: np.ndarray, langs: list[str]) -> Neutralizer:
        """Fit on candidate embeddings (one language per row) unless pre-fitted."""
        if self.fixed is None:
            self.lmap = fit(group_by_language(embeddings, langs), self.method, self.rank, "candidate pools")
            self.fits.append(self.lmap.describe())
        return self

    def __call__(self, embeddings: np.ndarray, langs: list[str]) -> np.ndarray:
        if self.lmap is None:
            raise DataError("the neutralization was used before it was fitted")
        wanted = tuple(sorted(set(langs)))
        if wanted not in self._reported:
            self._reported.add(wanted)
            check_coverage(self.lmap, wanted, "the evaluated data")
        return self.lmap.apply(embeddings, langs)


def group_by_language(embeddings: np.ndarray, langs: Sequence[str]) -> dict[str, np.ndarray]:
    """``lang -> rows`` of ``embeddings`` (``langs`` gives each row's language)."""
    labels = np.asarray(langs)
    return {lang: embeddings[labels == lang] for lang in dict.fromkeys(langs)}


def evaluation_transform(
    spec: str,
    method: str,
    fit_on: str = POOL,
    rank: int | None = None,
    batch_size: int = 64,
    cache_dir: Path | None = None,
    data: Sequence[str] = (),
) -> tuple[str | SentenceTransformer, Neutralizer]:
    """``(model, transform)`` for ``evaluate --neutralize``: fit on the pools, or pre-fit on ``fit_on``
    (then the model is loaded here, once, and returned for the evaluation to reuse)."""
    method = check_method(method)
    if fit_on == POOL:
        _check_pool_rank(data, rank)
        return spec, Neutralizer(method, rank)
    check_source(fit_on, rank)  # a bad source fails before the model is loaded
    from hybridbatch.neutrality.model import load_clean

    model = load_clean(spec)
    name, by_lang = encode_source(model, fit_on, batch_size, cache_dir)
    return model, Neutralizer(method, rank, fit(by_lang, method, rank, source=name))


def _check_pool_rank(data: Sequence[str], rank: int | None) -> None:
    """``--rank`` against the evaluated pools' languages, before anything is encoded."""
    if rank is None:
        return
    for spec in data:
        collection = load_collection(spec)
        pools = [lang for lang in collection.languages if collection.candidates.get(lang)]
        if rank > len(pools) - 1:
            raise ConfigError(
                f"--rank must be between 1 and {len(pools) - 1} (number of fitted languages − 1), got {rank} "
                f"({collection.name} has {len(pools)} candidate pools)"
            )
