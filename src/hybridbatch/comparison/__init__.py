"""Strategy comparison (``hybridbatch compare``): base vs en-en vs X-X vs X-Y vs hybrid, measured."""

from hybridbatch.comparison.config import ComparisonConfig, RunSpec, plan_runs
from hybridbatch.comparison.results import ComparisonReport, StrategyResult

__all__ = ["ComparisonConfig", "ComparisonReport", "RunSpec", "StrategyResult", "compare", "plan_runs"]


def compare(config: ComparisonConfig) -> ComparisonReport:
    """Run (or resume) a comparison; see :mod:`hybridbatch.comparison.run`."""
    from hybridbatch.comparison.run import compare as _compare

    return _compare(config)
