"""Typed evaluation results (mteb style): per language, per language pair, per dataset, per run.

Scores are score maps keyed by the names of :mod:`.registry` (``scores["multi_map"]``), with typed
properties for the headline numbers (``mono_map``, ``cross_map``, ``multi_map``, ``rank_distance``,
``main_score``) and attribute access for every registered name (``summary.multi_r10``). On disk they
are flat: ``{"mono_map": ..., "cross_map": ..., ...}`` as before, so old ``report.json`` and
``comparison.json`` files load and readers keep their keys. All scores are in ``[0, 1]`` except rank
distance (in ranks, lower is better). A score is ``None`` when its setting was not computed (e.g. dev
evaluation runs Mono and Cross only), has no queries, or was not registered when the file was written.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, PrivateAttr, computed_field, model_serializer, model_validator

from hybridbatch.evaluation.per_query import PerQueryScores
from hybridbatch.evaluation.registry import cell_keys, score_names

SETTINGS = ("mono", "cross", "multi")


class ScoreMap(BaseModel):
    """A model whose registered scores live in ``scores`` and are written as flat keys."""

    scores: dict[str, float | None] = Field(default_factory=dict)
    _derived: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def score_keys(cls) -> list[str]:
        """The registered keys of this kind of score map."""
        return score_names()

    @model_validator(mode="before")
    @classmethod
    def _nest(cls, data: Any) -> Any:
        """Accept the flat form (files, keyword arguments): every non-field key is a score."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        scores = dict(data.pop("scores", None) or {})
        for key in [k for k in data if k not in cls.model_fields]:
            value = data.pop(key)
            if key not in cls._derived:
                scores[key] = value
        data["scores"] = {k: scores.get(k) for k in cls.score_keys()} | scores
        return data

    @model_serializer(mode="wrap")
    def _flatten(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        data.pop("scores", None)
        return {**data, **self.scores, **{k: getattr(self, k) for k in self._derived}}

    def get(self, name: str) -> float | None:
        """The score ``name`` (``None`` when not computed)."""
        return self.scores.get(name)

    def __getitem__(self, name: str) -> float | None:
        return self.scores[name]

    def __getattr__(self, name: str) -> Any:
        scores = self.__dict__.get("scores")
        if scores is not None and name in scores:
            return scores[name]
        return super().__getattr__(name)


class Scores(ScoreMap):
    """Score map with the headline properties."""

    @property
    def mono_map(self) -> float | None:
        """Mono mAP (X→X)."""
        return self.scores.get("mono_map")

    @property
    def cross_map(self) -> float | None:
        """Cross mAP (X→Y, X ≠ Y)."""
        return self.scores.get("cross_map")

    @property
    def multi_map(self) -> float | None:
        """Multi mAP (X → all pools)."""
        return self.scores.get("multi_map")

    @property
    def rank_distance(self) -> float | None:
        """Mean rank distance (lower is better)."""
        return self.scores.get("rank_distance")


class Summary(Scores):
    """Macro-averaged scores of one dataset (mean over languages or language pairs).

    ``mono_*``: X→X, mean over languages; ``cross_*``: X→Y (X ≠ Y), mean over pairs; ``multi_*``, rank
    distance and the language-bias scores: X → all pools, mean over query languages.
    """

    _derived: ClassVar[tuple[str, ...]] = ("main_score",)

    @property
    def main_score(self) -> float | None:
        """``multi_map``; when Multi was not computed, the mean of the computed settings' mAP."""
        if self.multi_map is not None:
            return self.multi_map
        values = [v for v in (self.mono_map, self.cross_map) if v is not None and not math.isnan(v)]
        return sum(values) / len(values) if values else None


class LanguageRow(Scores):
    """Scores of one language as query language (Mono: X→X, Cross: mean over X→Y, Multi: X→all)."""

    lang: str
    seen_in_training: bool | None = None
    num_queries: int = 0
    num_candidates: int = 0


class PairCell(ScoreMap):
    """One cell of the X→Y matrix: queries of ``query_lang`` against the pool of ``candidate_lang``.

    The diagonal (X = Y) holds the Mono scores, the rest the Cross scores; keys are the registered
    cell keys (``map``, ``r1``, ``map20``, ``mrr10``).
    """

    query_lang: str
    candidate_lang: str
    num_queries: int

    @classmethod
    def score_keys(cls) -> list[str]:
        """The registered X→Y cell keys."""
        return cell_keys()

    @property
    def map(self) -> float | None:
        """mAP of this language pair."""
        return self.scores.get("map")


class DatasetReport(BaseModel):
    """Everything measured on one dataset."""

    dataset: str
    settings: list[str]
    num_queries: int
    num_candidates: int
    train_languages: list[str] | None = None
    summary: Summary
    summary_seen: Summary | None = Field(None, description="macro over languages seen in training")
    summary_unseen: Summary | None = Field(None, description="macro over languages not seen in training")
    languages: list[LanguageRow]
    matrix: list[PairCell] = Field(default_factory=list)
    seconds: float = Field(0.0, description="wall time: encoding + scoring")
    encode_seconds: float = 0.0
    precision: str = Field("fp32", description="encoding precision (fp32, bf16, int8, onnx-fp32, onnx-int8)")
    precision_requested: str | None = Field(
        None, description="the requested precision when it differs (auto)"
    )
    cpu: dict[str, Any] | None = Field(None, description="the CPU encoded on (models.capability)")
    _per_query: PerQueryScores | None = PrivateAttr(None)

    @property
    def per_query(self) -> PerQueryScores | None:
        """Per-query scores of the run that produced this report (not stored in ``report.json``)."""
        return self._per_query

    def cell(self, query_lang: str, candidate_lang: str) -> PairCell | None:
        """The X→Y cell, or ``None`` when absent."""
        for cell in self.matrix:
            if (cell.query_lang, cell.candidate_lang) == (query_lang, candidate_lang):
                return cell
        return None


class EvaluationReport(BaseModel):
    """One model evaluated on one or more datasets (written as ``report.json``)."""

    model: str
    datasets: dict[str, DatasetReport]
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    versions: dict[str, str] = Field(default_factory=dict)

    @computed_field
    @property
    def summary(self) -> Summary | None:
        """The first dataset's summary."""
        return next(iter(self.datasets.values())).summary if self.datasets else None

    @classmethod
    def finished(cls, out: Path, model: str, datasets: list[str], precision: str) -> EvaluationReport | None:
        """The evaluation already written to ``out`` for this model, these datasets (in order) and this
        precision, with its per-query scores (``per_query.json``); None when it must be (re)done."""
        done = out / "report.json"
        if not done.is_file() or not (out / "per_query.json").is_file():
            return None
        data = json.loads(done.read_text("utf-8"))
        data.pop("summary", None)  # computed on load
        report = cls.model_validate(data)
        same = report.model == model and list(report.datasets) == datasets
        return report if same and all(d.precision == precision for d in report.datasets.values()) else None
