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
from hybridbatch.evaluation.metrics import get_metric
from hybridbatch.evaluation.rank_distance import mean_rank_distance
from hybridbatch.evaluation.ranking import relevant_ranks
from hybridbatch.evaluation.results import SETTINGS, DatasetReport, LanguageRow, PairCell, Summary

AP, AP20, R1, R10, RR10 = (get_metric(name) for name in ("AP", "AP@20", "R@1", "R@10", "RR@10"))


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
    """Mono / Cross / Multi scores and rank distance of ``embeddings`` on ``collection``.

    Args:
        collection: the parallel QA collection (defines queries, pools and relevance).
        embeddings: its embeddings (see :class:`CollectionEmbeddings`).
        settings: any of ``mono``, ``cross``, ``multi``.
        train_languages: languages the model was trained on (tags rows, adds seen/unseen summaries).
        chunk_size: queries per ranking chunk (memory bound); default automatic.

    Returns:
        A :class:`DatasetReport` (``seconds`` left at 0 for the caller to fill).
    """
    settings = check_settings(settings)
    layout = _layout(collection, embeddings)
    ranks = relevant_ranks(layout.queries, layout.candidates, layout.relevant, layout.bounds, chunk_size)
    seen = set(train_languages) if train_languages is not None else None
    column = {lang: j for j, lang in enumerate(layout.pool_langs)}
    matrix: list[PairCell] = []
    rows: list[LanguageRow] = []
    for x in layout.query_langs:
        block = layout.query_rows[x]
        row = LanguageRow(
            lang=x,
            seen_in_training=None if seen is None else x in seen,
            num_queries=block.stop - block.start,
            num_candidates=len(collection.candidates.get(x, [])),
        )
        for y in layout.pool_langs:
            if (x == y and "mono" in settings) or (x != y and "cross" in settings):
                cell = _pair_cell(x, y, ranks.in_segment[block, column[y]])
                if cell is not None:
                    matrix.append(cell)
        _fill_pair_means(row, matrix)
        if "multi" in settings:
            overall = ranks.overall[block]
            row.multi_map, row.multi_r10 = AP.mean(overall), R10.mean(overall)
            row.multi_map20, row.multi_mrr10 = AP20.mean(overall), RR10.mean(overall)
            row.rank_distance = _none_if_nan(mean_rank_distance(overall))
        rows.append(row)
    summary_seen = summary_unseen = None
    if seen is not None:
        summary_seen = _summarize(
            rows, matrix, lambda lang: lang in seen, lambda x, y: x in seen and y in seen
        )
        summary_unseen = _summarize(
            rows, matrix, lambda lang: lang not in seen, lambda x, y: not (x in seen and y in seen)
        )
    return DatasetReport(
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


def _pair_cell(x: str, y: str, column: np.ndarray) -> PairCell | None:
    """Scores of X→Y from the within-pool ranks of Y's answers (queries without one skipped)."""
    ranks = column[np.isfinite(column)][:, None]
    if not len(ranks):
        return None
    return PairCell(
        query_lang=x,
        candidate_lang=y,
        num_queries=len(ranks),
        map=AP.mean(ranks),
        r1=R1.mean(ranks),
        map20=AP20.mean(ranks),
        mrr10=RR10.mean(ranks),
    )


def _fill_pair_means(row: LanguageRow, matrix: list[PairCell]) -> None:
    """Set the row's Mono scores and its mean Cross scores from the matrix cells of its language."""
    for cell in matrix:
        if cell.query_lang == row.lang == cell.candidate_lang:
            row.mono_map, row.mono_r1, row.mono_map20, row.mono_mrr10 = (
                cell.map,
                cell.r1,
                cell.map20,
                cell.mrr10,
            )
    cross = [c for c in matrix if c.query_lang == row.lang and c.candidate_lang != row.lang]
    row.cross_map = _mean(c.map for c in cross)
    row.cross_r1 = _mean(c.r1 for c in cross)


def _summarize(rows: list[LanguageRow], matrix: list[PairCell], keep_lang, keep_pair) -> Summary | None:
    """Macro averages over the kept languages (Mono, Multi, RD) and kept X→Y pairs (Cross)."""
    kept = [r for r in rows if keep_lang(r.lang)]
    mono = [c for c in matrix if c.query_lang == c.candidate_lang and keep_lang(c.query_lang)]
    cross = [
        c for c in matrix if c.query_lang != c.candidate_lang and keep_pair(c.query_lang, c.candidate_lang)
    ]
    if not kept and not cross:
        return None
    summary = Summary(
        mono_map=_mean(c.map for c in mono),
        mono_r1=_mean(c.r1 for c in mono),
        mono_map20=_mean(c.map20 for c in mono),
        mono_mrr10=_mean(c.mrr10 for c in mono),
        cross_map=_mean(c.map for c in cross),
        cross_r1=_mean(c.r1 for c in cross),
        cross_map20=_mean(c.map20 for c in cross),
        cross_mrr10=_mean(c.mrr10 for c in cross),
        multi_map=_mean(r.multi_map for r in kept),
        multi_r10=_mean(r.multi_r10 for r in kept),
        multi_map20=_mean(r.multi_map20 for r in kept),
        multi_mrr10=_mean(r.multi_mrr10 for r in kept),
        rank_distance=_mean(r.rank_distance for r in kept),
    )
    if summary.multi_map is not None:
        summary.main_score = summary.multi_map
    else:
        summary.main_score = _mean(v for v in (summary.mono_map, summary.cross_map))
    return summary


def _mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are set (``None`` when none is)."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return float(sum(kept) / len(kept)) if kept else None


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value
