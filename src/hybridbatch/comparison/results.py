"""Typed results of ``hybridbatch compare`` (written as ``comparison.json``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from hybridbatch.comparison.config import ComparisonConfig
from hybridbatch.evaluation import Summary


class TrainingCost(BaseModel):
    """What training one strategy cost."""

    steps: int
    seconds: float
    pairs_per_second: float
    alpha: float | None = None
    sampler: str | None = None


class DatasetScores(BaseModel):
    """One strategy's scores on one evaluation dataset."""

    summary: Summary
    summary_seen: Summary | None = None
    summary_unseen: Summary | None = None


class StrategyResult(BaseModel):
    """One strategy: its summary on the primary (first) evaluation dataset, all datasets, its cost."""

    name: str
    strategy: str
    model: str
    summary: Summary
    summary_seen: Summary | None = None
    summary_unseen: Summary | None = None
    datasets: dict[str, DatasetScores]
    training: TrainingCost | None = None
    report: str = Field(description="path of this strategy's report.json")


class ComparisonReport(BaseModel):
    """Every strategy of one comparison, evaluated on held-out data."""

    config: ComparisonConfig
    train_languages: list[str]
    primary_eval: str
    strategies: dict[str, StrategyResult]
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
