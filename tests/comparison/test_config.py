"""Expanding strategies and sweeps into named runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbatch.comparison import ComparisonSettings, plan_runs
from hybridbatch.comparison.runs.config import alpha_of
from hybridbatch.errors import ConfigError


def _config(**kwargs) -> ComparisonSettings:
    return ComparisonSettings(out=Path("unused"), **kwargs)


def test_default_strategies_map_to_samplers() -> None:
    runs = {r.name: r for r in plan_runs(_config())}
    assert list(runs) == ["base", "en-en", "xx", "xy", "hybrid"]
    assert runs["base"].overrides is None
    assert runs["xy"].overrides == {"sampler": "xy"}
    assert runs["hybrid"].overrides == {"sampler": "hybrid"}


def test_alpha_sweep_reuses_the_default_hybrid_run() -> None:
    config = _config(strategies=["hybrid"], alphas=[0.3, 0.5, 0.7])
    runs = plan_runs(config)
    assert [r.name for r in runs] == ["hybrid", "hybrid-a0.3", "hybrid-a0.7"]
    assert [alpha_of(r, config) for r in runs] == [0.5, 0.3, 0.7]


def test_k_sweep_and_adaptive() -> None:
    runs = {r.name: r for r in plan_runs(_config(strategies=["hybrid-adaptive"], languages_per_batch=[2, 3]))}
    assert runs["hybrid-adaptive"].overrides == {"sampler": "hybrid", "schedule": "adaptive"}
    assert runs["hybrid-k2"].overrides["languages_per_batch"] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategies": ["mono-only"]}, "unknown strategy 'mono-only'"),
        ({"strategies": ["xx", "x-x"]}, "listed twice"),
        ({"alphas": [1.5]}, r"alpha must be in \[0, 1\], got 1.5"),
        ({"alphas": [0.3, 0.3]}, "listed twice"),
        ({"languages_per_batch": [1]}, "languages per batch must be >= 2, got 1"),
    ],
)
def test_bad_plans_are_config_errors(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        plan_runs(_config(**kwargs))
