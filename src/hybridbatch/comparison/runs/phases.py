"""Wall time of each phase of a comparison (``make demo`` prints them): model, trainings, evaluations."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from hybridbatch.comparison.runs.results import Phase


class PhaseClock:
    """Collects :class:`Phase` records; ``with clock("train hybrid"): ...`` times one phase."""

    def __init__(self) -> None:
        self.phases: list[Phase] = []

    @contextmanager
    def __call__(self, name: str, reused: bool = False) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.phases.append(Phase(name=name, seconds=round(time.perf_counter() - start, 1), reused=reused))


def phase_rows(phases: list[Phase]) -> list[tuple[str, str]]:
    """``(phase, wall time)`` rows ending with the total, e.g. ``("train hybrid", "5m 57s")``."""
    rows = [(p.name + (" (reused)" if p.reused else ""), minutes(p.seconds)) for p in phases]
    return [*rows, ("total", minutes(sum(p.seconds for p in phases)))]


def minutes(seconds: float) -> str:
    """``357.2`` → ``5m 57s``."""
    whole = round(seconds)
    return f"{whole // 60}m {whole % 60:02d}s"
