"""Typed evaluation results (mteb style): per language, per language pair, per dataset, per run.

All scores are in ``[0, 1]`` except rank distance (in ranks, lower is better). A field is ``None``
when its setting was not computed (e.g. dev evaluation runs Mono and Cross only) or has no queries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, computed_field

SETTINGS = ("mono", "cross", "multi")


class Summary(BaseModel):
    """Macro-averaged scores of one dataset (mean over languages or language pairs).

    ``mono_*``: X→X, mean over languages; ``cross_*``: X→Y (X ≠ Y), mean over pairs; ``multi_*``: X →
    all pools, mean over query languages; ``rank_distance``: mean over query languages of the mean RD.
    """

    mono_map: float | None = None
    cross_map: float | None = None
    multi_map: float | None = None
    mono_r1: float | None = None
    cross_r1: float | None = None
    multi_r10: float | None = None
    rank_distance: float | None = None
    mono_map20: float | None = None
    cross_map20: float | None = None
    multi_map20: float | None = None
    mono_mrr10: float | None = None
    cross_mrr10: float | None = None
    multi_mrr10: float | None = None
    main_score: float | None = Field(
        None,
        description="multi_map; when Multi was not computed, the mean of the computed settings' mAP.",
    )


class LanguageRow(BaseModel):
    """Scores of one language as query language (Mono: X→X, Cross: mean over X→Y, Multi: X→all)."""

    lang: str
    seen_in_training: bool | None = None
    num_queries: int = 0
    num_candidates: int = 0
    mono_map: float | None = None
    mono_r1: float | None = None
    mono_map20: float | None = None
    mono_mrr10: float | None = None
    cross_map: float | None = Field(None, description="mean of X→Y mAP over the other languages Y")
    cross_r1: float | None = None
    multi_map: float | None = None
    multi_r10: float | None = None
    multi_map20: float | None = None
    multi_mrr10: float | None = None
    rank_distance: float | None = None


class PairCell(BaseModel):
    """One cell of the X→Y matrix: queries of ``query_lang`` against the pool of ``candidate_lang``.

    The diagonal (X = Y) holds the Mono scores, the rest the Cross scores.
    """

    query_lang: str
    candidate_lang: str
    num_queries: int
    map: float
    r1: float
    map20: float
    mrr10: float


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
