"""Strategy comparison (``hybridbatch compare``): base vs en-en vs X-X vs X-Y vs hybrid, measured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybridbatch.comparison.runs.config import ComparisonSettings, RunSpec, plan_runs

if TYPE_CHECKING:
    from hybridbatch.comparison.runs.results import ComparisonReport, StrategyResult

__all__ = ["ComparisonReport", "ComparisonSettings", "RunSpec", "StrategyResult", "compare", "plan_runs"]


def compare(config: ComparisonSettings) -> ComparisonReport:
    """Run (or resume) a comparison; see :mod:`hybridbatch.comparison.runs.run`."""
    from hybridbatch.comparison.runs.run import compare as _compare

    return _compare(config)


def __getattr__(name: str) -> Any:  # results import the evaluation stack (torch): load lazily
    if name in ("ComparisonReport", "StrategyResult"):
        from hybridbatch.comparison import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
