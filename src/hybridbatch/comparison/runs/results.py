"""Typed results of ``hybridbatch compare`` (written as ``comparison.json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from hybridbatch.comparison.runs.config import ComparisonSettings
from hybridbatch.evaluation import Summary


class TrainingCost(BaseModel):
    """What training one strategy cost."""

    steps: int
    seconds: float
    pairs_per_second: float
    alpha: float | None = None
    sampler: str | None = None


class Phase(BaseModel):
    """One timed part of a comparison: the model's build (or finding it), a training, an evaluation."""

    name: str
    seconds: float
    reused: bool = False  # found finished on disk: the seconds are those of checking it


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

    @classmethod
    def from_report(
        cls,
        name: str,
        strategy: str,
        model: str,
        report: Any,
        path: str,
        training: TrainingCost | None = None,
    ) -> StrategyResult:
        """The row of an evaluation report (``EvaluationReport``): every dataset, the first as primary."""
        scores = {
            dataset: DatasetScores(
                summary=r.summary, summary_seen=r.summary_seen, summary_unseen=r.summary_unseen
            )
            for dataset, r in report.datasets.items()
        }
        primary = next(iter(scores.values()))
        return cls(
            name=name,
            strategy=strategy,
            model=model,
            summary=primary.summary,
            summary_seen=primary.summary_seen,
            summary_unseen=primary.summary_unseen,
            datasets=scores,
            training=training,
            report=path,
        )


class ComparisonReport(BaseModel):
    """Every strategy of one comparison, evaluated on held-out data."""

    config: ComparisonSettings
    train_languages: list[str]
    primary_eval: str
    strategies: dict[str, StrategyResult]
    phases: list[Phase] = Field(default_factory=list, description="wall time of each phase, in order")
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
