"""The registry of evaluation scores: one registration per reported number.

A registered score has a name (its key in ``report.json``, ``comparison.json`` and metric dicts,
e.g. ``multi_map``), a setting (``mono``, ``cross`` or ``multi``), a per-query function and how it
is shown. Scoring (:mod:`.lareqa`), the result models (:mod:`.results`), the Markdown/terminal
reports and the comparison tables all iterate over this registry: adding a metric is one
:func:`register` call (or one :func:`register_pair` for Mono + Cross) plus its tests.

Per-query functions take ``ranks`` (``Q × L`` 1-based ranks of each query's relevant candidates,
``inf``-padded; for Multi one column per pool language) and ``own`` (per query, the column of its own
language, ``-1`` when none) and return one value per query, ``nan`` where undefined (left out of the
means). Mono and Cross scores are computed per X→Y cell (one relevant candidate per query) and
stored under ``cell_key`` in the matrix cells; Multi scores per query language.

Scores of another task carry its name in ``task`` and stay out of the LAReQA listings
(:func:`scores`, :func:`score_names` list ``task="lareqa"`` unless asked): the FLORES-200 ``bitext``
scores (:mod:`.flores`) get ``ranks`` ``Q × 2``, the rank of a sentence's translation among the
split's sentences, xx→eng in column 0 and eng→xx in column 1. The ``retrieval`` scores of BEIR and
AfriQA (``ndcg10``, ``mrr10``, ``r100``) are computed by ``pytrec_eval`` and registered for their
names, titles and order. Names follow the one style of :mod:`.metrics` (``map20``, shown ``mAP@20``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hybridbatch.evaluation.language_bias import language_preference, target_language_recall
from hybridbatch.evaluation.metrics import Metric, get_metric, metric_title
from hybridbatch.evaluation.rank_distance import rank_distance

Setting = Literal["mono", "cross", "multi", "bitext", "retrieval"]
PerQuery = Callable[[np.ndarray, np.ndarray], np.ndarray]
Table = Literal["main", "extra"]


@dataclass(frozen=True)
class Score:
    """One registered score.

    Attributes:
        name: key in the reports (``mono_map``).
        title: column header (``Mono mAP``).
        setting: ``mono``, ``cross``, ``multi`` (LAReQA) or ``bitext`` (FLORES-200).
        per_query: ``(ranks, own) -> values`` (see the module docstring); ``None`` for ``retrieval``.
        cell_key: for Mono/Cross, the key of the X→Y cell value (``map``); ``None`` for Multi.
        table: ``main`` (headline tables) or ``extra`` (the report's second table).
        lower_is_better: e.g. rank distance.
        in_ranks: the value is in ranks (shown with thousands separators), not in ``[0, 1]``.
        headline: shown in the compact tables (seen vs unseen, plots).
        description: one line for the docs.
        task: ``lareqa`` or the task the score belongs to (``flores200``).
    """

    name: str
    title: str
    setting: Setting
    per_query: PerQuery | None  # None: scored elsewhere (pytrec_eval for task ``retrieval``)
    cell_key: str | None = None
    table: Table = "main"
    lower_is_better: bool = False
    in_ranks: bool = False
    headline: bool = False
    description: str = ""
    task: str = "lareqa"

    @property
    def header(self) -> str:
        """The title with ``↓`` when lower is better."""
        return f"{self.title} ↓" if self.lower_is_better else self.title

    def format(self, value: float | None, compact: bool = False) -> str:
        """3 decimals, ranks with thousands separators and 1 decimal (none if ``compact``), ``–`` when
        missing."""
        if value is None:
            return "–"
        if self.in_ranks:
            return f"{value:,.0f}" if compact else f"{value:,.1f}"
        return f"{value:.3f}"


SCORES: dict[str, Score] = {}


def register(score: Score) -> Score:
    """Add ``score`` to the registry (its name must be new)."""
    if score.name in SCORES:
        raise ValueError(f"score {score.name!r} is already registered")
    if score.task == "lareqa" and (score.setting == "multi") != (score.cell_key is None):
        raise ValueError(f"score {score.name!r}: Mono/Cross scores need a cell_key, Multi ones none")
    SCORES[score.name] = score
    return score


def register_pair(
    cell_key: str,
    table: Table = "main",
    description: str = "",
    headline: bool = False,
    metric: Metric | None = None,
) -> None:
    """Register ``mono_<cell_key>`` and ``cross_<cell_key>`` from the ranking metric named ``cell_key``
    (or ``metric``), titled by :func:`~.metrics.metric_title`."""
    metric = metric or get_metric(cell_key)
    title = metric_title(metric.name)
    for setting in ("mono", "cross"):
        register(
            Score(
                f"{setting}_{cell_key}",
                f"{setting.capitalize()} {title}",
                setting,
                _ignore_own(metric),
                cell_key=cell_key,
                table=table,
                headline=headline,
                description=description,
            )
        )


def register_multi(metric: str, table: Table = "main", headline: bool = False) -> None:
    """Register ``multi_<metric>`` (``Multi <title>``) from the ranking metric named ``metric``."""
    title = f"Multi {metric_title(metric)}"
    register(Score(f"multi_{metric}", title, "multi", _multi(metric), table=table, headline=headline))


def scores(
    setting: Setting | None = None,
    table: Table | None = None,
    headline: bool | None = None,
    task: str = "lareqa",
) -> list[Score]:
    """Registered scores of ``task``, in registration order, optionally of one setting, table and/or
    headline."""
    return [
        s
        for s in SCORES.values()
        if s.task == task
        and setting in (None, s.setting)
        and table in (None, s.table)
        and headline in (None, s.headline)
    ]


def score_names(task: str = "lareqa") -> list[str]:
    """Names of the registered scores of ``task`` (for LAReQA: the score keys of summaries and rows)."""
    return [s.name for s in SCORES.values() if s.task == task]


def cell_keys() -> list[str]:
    """Keys of the X→Y cell values (``map``, ``r1``, ...), in registration order."""
    return list(dict.fromkeys(s.cell_key for s in SCORES.values() if s.cell_key is not None))


def get_score(name: str) -> Score:
    """The registered score ``name``."""
    if name not in SCORES:
        raise KeyError(f"unknown score {name!r} (registered: {', '.join(SCORES)})")
    return SCORES[name]


def _ignore_own(metric: Metric) -> PerQuery:
    def per_query(ranks: np.ndarray, own: np.ndarray) -> np.ndarray:
        return metric(ranks)

    return per_query


def _multi(metric: str) -> PerQuery:
    return _ignore_own(get_metric(metric))


def _rank_distance(ranks: np.ndarray, own: np.ndarray) -> np.ndarray:
    return rank_distance(ranks)


# --- the registered scores (order = column and JSON key order) ------------------------------------
register_pair("map", description="mean average precision", headline=True)
register_multi("map", headline=True)
register_pair("r1")
register_multi("r10")
register(
    Score(
        "rank_distance",
        "Rank dist.",
        "multi",
        _rank_distance,
        lower_is_better=True,
        in_ranks=True,
        headline=True,
        description="max − min rank of a query's relevant candidates in the Multi pool (arXiv 2408.10536)",
    )
)
register(
    Score(
        "lpr",
        "LPR",
        "multi",
        language_preference,
        lower_is_better=True,
        headline=True,
        description="share of Multi queries whose best-ranked relevant candidate is in their own language",
    )
)
register(
    Score(
        "tlr10",
        "TLR@10",
        "multi",
        target_language_recall(10),
        headline=True,
        description="Multi recall@10 counting only relevant candidates not in the query's language",
    )
)
register_pair("map20", "extra", "XTREME-R's mAP@20")
register_multi("map20", "extra")
register_pair("mrr10", "extra")
register_multi("mrr10", "extra")


# --- FLORES-200 bitext retrieval (evaluation.flores): ranks are Q × 2 (xx→eng, eng→xx) ------------
def _direction(column: int) -> PerQuery:
    def per_query(ranks: np.ndarray, own: np.ndarray) -> np.ndarray:
        return get_metric("r1")(ranks[:, column : column + 1])

    return per_query


def _both_directions(ranks: np.ndarray, own: np.ndarray) -> np.ndarray:
    return (_direction(0)(ranks, own) + _direction(1)(ranks, own)) / 2


for _name, _title, _fn, _text in (
    ("x2en_r1", "xx→eng acc.", _direction(0), "top-1 accuracy finding the English translation of a sentence"),
    (
        "en2x_r1",
        "eng→xx acc.",
        _direction(1),
        "top-1 accuracy finding the translation of an English sentence",
    ),
    ("bitext_r1", "bitext acc.", _both_directions, "mean of the xx→eng and eng→xx top-1 accuracy"),
):
    register(Score(_name, _title, "bitext", _fn, headline=True, description=_text, task="flores200"))


# --- ranked retrieval with graded judgements (evaluation.beir, evaluation.afriqa): pytrec_eval -------
for _name, _text in (
    ("ndcg10", "nDCG@10 of the top-10 run"),
    ("mrr10", "reciprocal rank of the first relevant passage within the top 10"),
    ("r100", "recall of the relevant passages within the top 100"),
):
    register(
        Score(
            _name, metric_title(_name), "retrieval", None, headline=True, description=_text, task="retrieval"
        )
    )
