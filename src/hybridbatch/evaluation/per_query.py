"""Per-query scores of one LAReQA evaluation, for paired significance tests over the same queries.

Kept by :func:`hybridbatch.evaluation.score_collection` as ``DatasetReport.per_query`` and written
beside ``report.json`` as ``per_query.json``: ``{dataset: {metric: {"<lang>:<id>": value}}}`` (see
:meth:`PerQueryScores.table`). A query is one question (id ``qids[i]`` in language
``query_langs[i]``); two evaluations of the same collection list the same queries in the same order,
so their arrays pair up element by element (:meth:`PerQueryScores.paired`).

- ``pair[key]``: ``Q × L`` X→Y values of a cell key (``map`` = AP, ``r1``, ...), column ``j`` = the
  pool of ``pool_langs[j]``; the query's own language is Mono, the others Cross; ``nan`` where the id
  has no answer in that pool or the setting was not computed.
- ``multi[name]``: per-query values of each Multi score (``multi_map`` = AP, ``rank_distance``,
  ``lpr``, ``tlr10``, ...); ``nan`` where undefined or not computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hybridbatch.errors import DataError


@dataclass(eq=False)
class PerQueryScores:
    """Per-query values of every registered score (see the module docstring)."""

    dataset: str
    qids: list[str]
    query_langs: list[str]
    pool_langs: list[str]
    pair: dict[str, np.ndarray] = field(default_factory=dict)
    multi: dict[str, np.ndarray] = field(default_factory=dict)

    def own_column(self) -> np.ndarray:
        """Per query, the column of its own language in ``pool_langs`` (``-1`` when none)."""
        index = {lang: j for j, lang in enumerate(self.pool_langs)}
        return np.array([index.get(lang, -1) for lang in self.query_langs], dtype=np.int64)

    def values(self, setting: str, key: str = "map") -> np.ndarray:
        """A flat array of one score: ``mono`` / ``cross`` take a cell key (``map``), ``multi`` a
        Multi score name (``multi_map``, ``rank_distance``, ...); Cross lists every (query, other
        language) unit row by row. ``nan`` marks units without a value."""
        if setting == "multi":
            return self._get(self.multi, key).astype(np.float64)
        matrix = self._get(self.pair, key).astype(np.float64)
        own = self.own_column()
        if setting == "mono":
            return np.where(own >= 0, matrix[np.arange(len(own)), np.maximum(own, 0)], np.nan)
        if setting == "cross":
            mine = np.arange(matrix.shape[1])[None, :] == own[:, None]
            return np.where(mine, np.nan, matrix).ravel()
        raise ValueError(f"unknown setting {setting!r} (mono, cross or multi)")

    def paired(self, other: PerQueryScores, setting: str, key: str = "map") -> tuple[np.ndarray, np.ndarray]:
        """This run's and ``other``'s values on the units both have, in the same order."""
        if (self.qids, self.query_langs, self.pool_langs) != (
            other.qids,
            other.query_langs,
            other.pool_langs,
        ):
            raise DataError(
                f"per-query scores of {self.dataset!r} and {other.dataset!r} cover different queries"
            )
        a, b = self.values(setting, key), other.values(setting, key)
        both = ~np.isnan(a) & ~np.isnan(b)
        return a[both], b[both]

    def table(self) -> dict[str, dict[str, float]]:
        """``{metric: {"<lang>:<id>": value}}`` without undefined values: ``mono_ap``, ``cross_ap`` (mean
        over the other pools of X→Y AP), ``multi_ap`` and every other Multi score by name."""
        keys = [f"{lang}:{qid}" for lang, qid in zip(self.query_langs, self.qids, strict=True)]
        columns = {"mono_ap": self.values("mono", "map"), "cross_ap": self._cross_mean("map")}
        columns |= {"multi_ap" if k == "multi_map" else k: v for k, v in self.multi.items()}
        return {
            metric: {key: float(v) for key, v in zip(keys, values, strict=True) if not np.isnan(v)}
            for metric, values in columns.items()
        }

    def _cross_mean(self, key: str) -> np.ndarray:
        cross = self.values("cross", key).reshape(len(self.qids), len(self.pool_langs))
        counts = (~np.isnan(cross)).sum(axis=1)
        sums = np.nansum(cross, axis=1)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def _get(self, table: dict[str, np.ndarray], key: str) -> np.ndarray:
        if key not in table:
            raise KeyError(f"no per-query values for {key!r} (have: {', '.join(table) or 'none'})")
        return table[key]
