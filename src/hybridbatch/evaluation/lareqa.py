"""The three LAReQA retrieval settings on a parallel QA collection (Roy et al. 2020; arXiv 2408.10536).

From query embeddings (per language, one row per parallel id) and candidate embeddings (per language
pool):

- **Mono**: queries of X against the pool of X; macro over languages.
- **Cross**: queries of X against the pool of Y, X ≠ Y; queries whose id has no answer in Y are
  skipped; macro over language pairs.
- **Multi**: queries of X against the union of all pools; the relevant candidates are the answers of
  the id in every language; macro over query languages. Rank distance comes from the same ranks.

All three come from one ranking pass over the multilingual pool (:mod:`.ranking`): the rank of the
answer in Y *within Y's pool* is the X→Y (or X→X) rank, and its rank in the union is the Multi rank.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.errors import ConfigError, DataError
from hybridbatch.evaluation.per_query import PerQueryScores
from hybridbatch.evaluation.ranking import relevant_ranks
from hybridbatch.evaluation.registry import cell_keys, scores
from hybridbatch.evaluation.results import SETTINGS, DatasetReport, LanguageRow, PairCell, Summary


@dataclass
class CollectionEmbeddings:
    """L2-normalised embeddings of a collection's texts.

    Attributes:
        queries: ``lang -> array``; row i embeds the question of ``collection.ids_in(lang)[i]``.
        candidates: ``lang -> array``; row i embeds ``collection.candidates[lang][i]``.
    """

    queries: dict[str, np.ndarray]
    candidates: dict[str, np.ndarray]


@dataclass
class _Layout:
    """The collection flattened: query rows grouped by language, candidate pools concatenated."""

    query_langs: list[str]
    query_rows: dict[str, slice]
    pool_langs: list[str]
    bounds: list[int]
    queries: np.ndarray
    candidates: np.ndarray
    relevant: np.ndarray  # Q × len(pool_langs): column j = answer index in pool_langs[j], or -1


def check_settings(settings: Iterable[str]) -> tuple[str, ...]:
    """Validate and order setting names (``mono``, ``cross``, ``multi``)."""
    chosen = tuple(dict.fromkeys(s.strip().lower() for s in settings))
    unknown = [s for s in chosen if s not in SETTINGS]
    if unknown or not chosen:
        raise ConfigError(
            f"settings: unknown or empty {unknown or list(chosen)} "
            f"(--settings: choose from {', '.join(SETTINGS)})"
        )
    return tuple(s for s in SETTINGS if s in chosen)


def score_collection(
    collection: ParallelQACollection,
    embeddings: CollectionEmbeddings,
    settings: Sequence[str] = SETTINGS,
    train_languages: Iterable[str] | None = None,
    chunk_size: int | None = None,
) -> DatasetReport:
    """Mono / Cross / Multi scores, rank distance and the language-bias scores of ``embeddings``.

    Args:
        collection: the parallel QA collection (defines queries, pools and relevance).
        embeddings: its embeddings (see :class:`CollectionEmbeddings`).
        settings: any of ``mono``, ``cross``, ``multi``.
        train_languages: languages the model was trained on (tags rows, adds seen/unseen summaries).
        chunk_size: queries per ranking chunk (memory bound); default automatic.

    Returns:
        A :class:`DatasetReport` (``seconds`` left at 0 for the caller to fill) whose ``per_query``
        holds every query's scores (:class:`~hybridbatch.evaluation.per_query.PerQueryScores`).
    """
    settings = check_settings(settings)
    layout = _layout(collection, embeddings)
    ranks = relevant_ranks(layout.queries, layout.candidates, layout.relevant, layout.bounds, chunk_size)
    per_query = _per_query(collection, layout, ranks.in_segment, ranks.overall, settings)
    matrix = _cells(layout, per_query)
    seen = set(train_languages) if train_languages is not None else None
    rows = [_row(collection, layout, x, seen, matrix, per_query) for x in layout.query_langs]
    summary_seen = summary_unseen = None
    if seen is not None:
        summary_seen = _summarize(
            rows, matrix, lambda lang: lang in seen, lambda x, y: x in seen and y in seen
        )
        summary_unseen = _summarize(
            rows, matrix, lambda lang: lang not in seen, lambda x, y: not (x in seen and y in seen)
        )
    report = DatasetReport(
        dataset=collection.name,
        settings=list(settings),
        num_queries=len(layout.queries),
        num_candidates=len(layout.candidates),
        train_languages=sorted(seen) if seen is not None else None,
        summary=_summarize(rows, matrix, lambda lang: True, lambda x, y: True) or Summary(),
        summary_seen=summary_seen,
        summary_unseen=summary_unseen,
        languages=rows,
        matrix=matrix,
    )
    report._per_query = per_query
    return report


def _per_query(
    collection: ParallelQACollection,
    layout: _Layout,
    in_segment: np.ndarray,
    overall: np.ndarray,
    settings: tuple[str, ...],
) -> PerQueryScores:
    """Every registered score per query: X→Y cell values from the within-pool ranks, Multi from the
    ranks in the union of the pools."""
    num_queries, num_pools = in_segment.shape
    own = np.array(
        [layout.pool_langs.index(x) if x in layout.pool_langs else -1 for x in _query_langs(layout)]
    )
    wanted = np.zeros((num_queries, num_pools), dtype=bool)
    if "mono" in settings:
        wanted[own >= 0, own[own >= 0]] = True
    if "cross" in settings:
        wanted |= np.arange(num_pools)[None, :] != own[:, None]
    wanted &= np.isfinite(in_segment)
    pair = {}
    for key in cell_keys():
        score = next(s for s in scores() if s.cell_key == key)
        values = np.full((num_queries, num_pools), np.nan)
        values[wanted] = score.per_query(in_segment[wanted][:, None], own[np.nonzero(wanted)[0]])
        pair[key] = values
    multi = {
        s.name: s.per_query(overall, own) if "multi" in settings else np.full(num_queries, np.nan)
        for s in scores("multi")
    }
    qids = [qid for x in layout.query_langs for qid in collection.ids_in(x)]
    return PerQueryScores(collection.name, qids, _query_langs(layout), list(layout.pool_langs), pair, multi)


def _query_langs(layout: _Layout) -> list[str]:
    return [
        x for x in layout.query_langs for _ in range(layout.query_rows[x].stop - layout.query_rows[x].start)
    ]


def _cells(layout: _Layout, per_query: PerQueryScores) -> list[PairCell]:
    """The X→Y cells that have queries: the mean of each cell key over the queries with an answer."""
    matrix = []
    for x in layout.query_langs:
        block = layout.query_rows[x]
        for j, y in enumerate(layout.pool_langs):
            values = {key: table[block, j] for key, table in per_query.pair.items()}
            count = int((~np.isnan(next(iter(values.values())))).sum()) if values else 0
            if count:
                means = {key: _mean(v) for key, v in values.items()}
                matrix.append(PairCell(query_lang=x, candidate_lang=y, num_queries=count, scores=means))
    return matrix


def _row(
    collection: ParallelQACollection,
    layout: _Layout,
    x: str,
    seen: set[str] | None,
    matrix: list[PairCell],
    per_query: PerQueryScores,
) -> LanguageRow:
    """One query language: its Mono cell, the mean of its Cross cells, the mean of its Multi values."""
    block = layout.query_rows[x]
    values: dict[str, float | None] = {}
    for score in scores():
        if score.setting == "multi":
            values[score.name] = _mean(per_query.multi[score.name][block])
            continue
        cells = [
            c for c in matrix if c.query_lang == x and (c.candidate_lang == x) == (score.setting == "mono")
        ]
        values[score.name] = _mean(c.get(score.cell_key) for c in cells)
    return LanguageRow(
        lang=x,
        seen_in_training=None if seen is None else x in seen,
        num_queries=block.stop - block.start,
        num_candidates=len(collection.candidates.get(x, [])),
        scores=values,
    )


def _layout(collection: ParallelQACollection, embeddings: CollectionEmbeddings) -> _Layout:
    """Flatten queries and pools; build the ``Q × languages`` table of relevant candidate indices."""
    query_langs = [lang for lang in collection.languages if collection.ids_in(lang)]
    pool_langs = [lang for lang in collection.languages if collection.candidates.get(lang)]
    if not query_langs or not pool_langs:
        raise DataError(f"{collection.name}: nothing to evaluate (no questions or no candidates)")
    bounds = [0]
    for lang in pool_langs:
        bounds.append(bounds[-1] + len(collection.candidates[lang]))
    offset = dict(zip(pool_langs, bounds, strict=False))
    query_rows: dict[str, slice] = {}
    relevant_rows: list[list[int]] = []
    for lang in query_langs:
        start = len(relevant_rows)
        for qid in collection.ids_in(lang):
            langs = set(collection.languages_of(qid))
            relevant_rows.append(
                [offset[y] + collection.question(qid, y).answer if y in langs else -1 for y in pool_langs]
            )
        query_rows[lang] = slice(start, len(relevant_rows))
    queries = np.concatenate(
        [
            _embedding(embeddings.queries, lang, len(collection.ids_in(lang)), "queries")
            for lang in query_langs
        ]
    )
    candidates = np.concatenate(
        [
            _embedding(embeddings.candidates, lang, len(collection.candidates[lang]), "candidates")
            for lang in pool_langs
        ]
    )
    return _Layout(
        query_langs,
        query_rows,
        pool_langs,
        bounds,
        queries,
        candidates,
        np.array(relevant_rows, dtype=np.int64),
    )


def _embedding(table: dict[str, np.ndarray], lang: str, expected: int, kind: str) -> np.ndarray:
    """The ``kind`` embeddings of ``lang``, checked to have ``expected`` rows."""
    if lang not in table:
        raise DataError(f"no {kind} embeddings for language {lang!r}")
    array = np.asarray(table[lang], dtype=np.float32)
    if array.ndim != 2 or len(array) != expected:
        raise DataError(f"{kind} embeddings of {lang!r}: shape {array.shape}, expected {expected} rows")
    return array


def _summarize(rows: list[LanguageRow], matrix: list[PairCell], keep_lang, keep_pair) -> Summary | None:
    """Macro averages over the kept languages (Mono, Multi) and kept X→Y pairs (Cross)."""
    kept = [r for r in rows if keep_lang(r.lang)]
    mono = [c for c in matrix if c.query_lang == c.candidate_lang and keep_lang(c.query_lang)]
    cross = [
        c for c in matrix if c.query_lang != c.candidate_lang and keep_pair(c.query_lang, c.candidate_lang)
    ]
    if not kept and not cross:
        return None
    values: dict[str, float | None] = {}
    for score in scores():
        if score.setting == "multi":
            values[score.name] = _mean(r.get(score.name) for r in kept)
        else:
            values[score.name] = _mean(
                c.get(score.cell_key) for c in (mono if score.setting == "mono" else cross)
            )
    return Summary(scores=values)


def _mean(values: Iterable[float | None] | np.ndarray) -> float | None:
    """Mean of the values that are set and not ``nan`` (``None`` when none is)."""
    kept = [float(v) for v in values if v is not None and not math.isnan(v)]
    return float(sum(kept) / len(kept)) if kept else None
