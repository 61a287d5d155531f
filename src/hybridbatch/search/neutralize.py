"""Index-time neutralization: fit a map on the corpus being indexed, apply it to its documents and,
at search time, to the queries.

Only the corpus's own texts and languages are used (never queries or relevance labels), which is the
statistics a deployed index has. ``lsar`` needs no query language; ``center`` subtracts the query
language's mean when the request names it, else applies the shared fallback P(x − μ̄) (see
:mod:`hybridbatch.neutrality.projection`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hybridbatch.errors import DataError
from hybridbatch.neutrality.projection import LanguageMap, check_method, fit
from hybridbatch.search.corpus import Document

STEM = "neutralize"  # neutralize.json + neutralize.npz inside the index directory
FILES = (f"{STEM}.json", f"{STEM}.npz")


def check_corpus(documents: Sequence[Document], method: str) -> str:
    """Validate ``--neutralize`` against the corpus before encoding: every document needs a language."""
    method = check_method(method)
    unknown = [d.id for d in documents if not d.lang]
    if unknown:
        raise DataError(
            f"--neutralize {method}: {len(unknown)} document(s) have no language (first: {unknown[0]!r}); "
            "index-time statistics need every document's 'lang'"
        )
    langs = sorted({str(d.lang) for d in documents})
    if len(langs) < 2:
        raise DataError(
            f"--neutralize {method}: the corpus has {len(langs)} language ({', '.join(langs)}); "
            "neutralization needs at least 2"
        )
    return method


def fit_documents(
    embeddings: np.ndarray, documents: Sequence[Document], method: str, rank: int | None = None
) -> tuple[LanguageMap, np.ndarray]:
    """Fit on the documents' embeddings and languages; return the map and the mapped embeddings."""
    method = check_corpus(documents, method)
    langs = [str(d.lang) for d in documents]
    labels = np.asarray(langs)
    by_lang = {lang: embeddings[labels == lang] for lang in dict.fromkeys(langs)}
    lmap = fit(by_lang, method, rank, source="the indexed corpus")
    return lmap, np.ascontiguousarray(lmap.apply(embeddings, langs), dtype=np.float32)


def map_queries(
    lmap: LanguageMap | None, embeddings: np.ndarray, query_lang: str | Sequence[str | None] | None = None
) -> np.ndarray:
    """Query embeddings through the index's map (unchanged when it has none); ``query_lang`` is one
    language for all rows or one per row (``None``: unknown)."""
    if lmap is None:
        return embeddings
    return np.ascontiguousarray(lmap.apply(embeddings, query_lang), dtype=np.float32)


def load_map(directory: str | Path, record: dict | None) -> LanguageMap | None:
    """The index's map when ``index.json`` records one (``record``), else ``None``."""
    return LanguageMap.load(directory, STEM) if record else None
