"""A dense retrieval index: documents encoded by a model, searched with faiss by cosine similarity.

On disk an index is a directory (:mod:`hybridbatch.search.storage`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict

from hybridbatch.errors import ConfigError, DataError, ModelError
from hybridbatch.models.capability import cpu_record
from hybridbatch.models.encoding import check_precision, encode, prompt_name, resolve_model
from hybridbatch.search.corpus import Document, load_documents
from hybridbatch.search.neutralize import check_corpus, fit_documents, map_queries
from hybridbatch.search.storage import IndexInfo, read_index, write_index

HNSW_LINKS = 32  # faiss IndexHNSWFlat's M: neighbours per node (its usual default)


class Hit(BaseModel):
    """One search result: a document id, its cosine score, text and language."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float
    text: str
    lang: str | None = None


class DenseIndex:
    """Documents and their normalized embeddings in a faiss inner-product index.

    Build with :meth:`build`, persist with :meth:`save`, reopen with :meth:`load`; :meth:`search`
    encodes queries with the same model (loaded lazily from ``info.model`` after :meth:`load`).
    """

    def __init__(
        self,
        index: faiss.Index,
        documents: list[Document],
        info: IndexInfo,
        model: Any = None,
        neutralizer: Any = None,
    ):
        if index.ntotal != len(documents):
            raise DataError(f"index holds {index.ntotal} vectors but {len(documents)} documents")
        self.index = index
        self.documents = documents
        self.info = info
        self._model = model
        self._lang_ids: dict[str, np.ndarray] = {}
        self.neutralizer = neutralizer  # a hybridbatch.neutrality LanguageMap, applied to queries

    def __len__(self) -> int:
        return len(self.documents)

    # --- building -------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        model: Any,
        documents: list[Document],
        *,
        model_spec: str | None = None,
        hnsw: bool = False,
        batch_size: int = 64,
        show_progress: bool = False,
        neutralize: str | None = None,
        precision: str = "fp32",
    ) -> DenseIndex:
        """Encode ``documents`` with ``model`` (a spec or a loaded model) under its ``passage`` prompt.

        ``hnsw=True`` builds an approximate ``IndexHNSWFlat`` (``HNSW_LINKS`` links per node) instead of
        the exact ``IndexFlatIP``. ``neutralize`` (``lsar``/``center``) fits a language map on these
        documents and applies it to them and, at search time, to queries (:mod:`hybridbatch.neutrality`).
        ``precision`` (``fp32``, ``bf16``, ``int8``: :mod:`hybridbatch.models.quantize`) encodes the
        documents, is recorded, and encodes every later query too.
        """
        precision = check_precision(precision)
        if not documents:
            raise DataError("cannot build an index over an empty corpus")
        if neutralize:
            check_corpus(documents, neutralize)
        model, spec = resolve_model(model, model_spec)
        spec = _absolute_spec(spec)
        emb = encode(model, [d.text for d in documents], "passage", batch_size, show_progress, precision)
        neutralizer = None
        if neutralize:
            neutralizer, emb = fit_documents(emb, documents, neutralize)
        dim = emb.shape[1]
        if hnsw:
            index = faiss.IndexHNSWFlat(dim, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(emb)
        languages: dict[str, int] = {}
        for doc in documents:
            if doc.lang:
                languages[doc.lang] = languages.get(doc.lang, 0) + 1
        info = IndexInfo(
            model=spec,
            dim=dim,
            count=len(documents),
            kind="hnsw" if hnsw else "flat",
            prompts={k: _prompt_text(model, k) for k in ("query", "passage")},
            languages=dict(sorted(languages.items())),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            neutralize=neutralizer.describe() if neutralizer is not None else None,
            precision=precision,
            cpu=cpu_record(),
        )
        return cls(index, list(documents), info, model, neutralizer)

    # --- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the index directory (see :func:`hybridbatch.search.storage.write_index`); ``info``
        then records the files' sizes and checksums."""
        self.info = write_index(path, self.index, self.documents, self.info, self.neutralizer)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path, model: Any = None, verify: bool = True) -> DenseIndex:
        """Open a saved index; ``model`` (spec or object) overrides the one recorded in ``index.json``;
        ``verify`` checks the files' checksums (see :func:`hybridbatch.search.storage.read_index`)."""
        index, documents, info, neutralizer = read_index(path, verify)
        if model is not None:
            model, _ = resolve_model(model)
        return cls(index, documents, info, model, neutralizer)

    # --- searching ------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The query encoder (loaded from ``info.model`` on first use)."""
        if self._model is None:
            if not self.info.model:
                raise ModelError("the index does not record its model; pass one (--model SPEC)")
            try:
                self._model, _ = resolve_model(self.info.model)
            except ModelError as exc:
                raise ModelError(f"{exc} (the index's model; pass --model SPEC to use another)") from None
        return self._model

    def search(
        self,
        queries: str | list[str],
        k: int = 10,
        lang: str | None = None,
        batch_size: int = 64,
        query_lang: str | None = None,
    ) -> list[list[Hit]]:
        """Top-``k`` documents per query by cosine similarity, best first.

        ``lang`` restricts results to documents of that language. With an HNSW index a filtered
        search may return fewer than ``k`` hits. ``query_lang`` (the queries' language) is used only by
        an index built with ``neutralize="center"``.
        """
        if isinstance(queries, str):
            queries = [queries]
        if not queries:
            return []
        if lang is not None:
            self._ids_of(lang)  # an unknown language fails before the model is loaded
        return self.search_embeddings(self.encode_queries(list(queries), batch_size, query_lang), k, lang)

    def encode_queries(
        self, queries: list[str], batch_size: int = 64, query_lang: str | list[str | None] | None = None
    ) -> np.ndarray:
        """Normalized float32 query embeddings as :meth:`search` scores them (neutralized if the index is)."""
        emb = encode(self.model, list(queries), "query", batch_size, precision=self.info.precision)
        return map_queries(self.neutralizer, emb, query_lang)

    def search_embeddings(self, emb: np.ndarray, k: int = 10, lang: str | None = None) -> list[list[Hit]]:
        """Like :meth:`search`, for already encoded (normalized) query embeddings."""
        scores, rows = self.search_rows(emb, k, lang)
        docs = self.documents
        return [
            [
                Hit(id=docs[r].id, score=float(s), text=docs[r].text, lang=docs[r].lang)
                for s, r in zip(ss, rr, strict=True)
                if r >= 0
            ]
            for ss, rr in zip(scores, rows, strict=True)
        ]

    def search_rows(self, emb: np.ndarray, k: int, lang: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw faiss search: ``(scores, rows)``, each ``(n, k)``; rows index documents, -1 = no hit."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        emb = np.ascontiguousarray(emb, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[1] != self.info.dim:
            raise ModelError(
                f"query embeddings have shape {emb.shape}; the index expects dim {self.info.dim}"
            )
        if lang is None:
            return self.index.search(emb, min(k, len(self)))
        selected = self._ids_of(lang)
        selector = faiss.IDSelectorBatch(len(selected), faiss.swig_ptr(selected))  # keep alive during search
        params = faiss.SearchParametersHNSW() if self.info.kind == "hnsw" else faiss.SearchParameters()
        params.sel = selector
        return self.index.search(emb, min(k, len(selected)), params=params)

    def _ids_of(self, lang: str) -> np.ndarray:
        if lang not in self._lang_ids:
            ids = np.array([i for i, d in enumerate(self.documents) if d.lang == lang], dtype=np.int64)
            if len(ids) == 0:
                known = ", ".join(self.info.languages) or "none recorded"
                raise DataError(f"the index has no documents in language {lang!r} (languages: {known})")
            self._lang_ids[lang] = ids
        return self._lang_ids[lang]


def _absolute_spec(spec: str | None) -> str | None:
    """A local model path as an absolute path (an index opened elsewhere still finds its model)."""
    if not spec or spec.startswith("builtin:") or not Path(spec).expanduser().exists():
        return spec
    return os.path.abspath(Path(spec).expanduser())


def _prompt_text(model: Any, kind: str) -> str | None:
    name = prompt_name(model, kind)
    return model.prompts[name] if name else None


def build_index(
    model: Any,
    corpus: str | Path | list[Document],
    out: str | Path,
    *,
    hnsw: bool = False,
    batch_size: int = 64,
    neutralize: str | None = None,
    precision: str = "fp32",
) -> DenseIndex:
    """Load ``corpus`` (see :func:`hybridbatch.search.corpus.load_documents`), index it, save to ``out``."""
    documents = corpus if isinstance(corpus, list) else load_documents(corpus)
    index = DenseIndex.build(
        model,
        documents,
        hnsw=hnsw,
        batch_size=batch_size,
        show_progress=True,
        neutralize=neutralize,
        precision=precision,
    )
    index.save(out)
    return index
