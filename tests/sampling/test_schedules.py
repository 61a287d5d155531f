"""α schedules: values at given steps, the adaptive rule, state round trips."""

from __future__ import annotations

import logging

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import (
    AdaptiveAlpha,
    ConstantAlpha,
    CosineAlpha,
    LinearAlpha,
    SamplerConfig,
    schedule_from_state,
)


def test_constant():
    assert [ConstantAlpha().alpha(s) for s in (0, 10**6)] == [0.5, 0.5]


def test_linear_values():
    schedule = LinearAlpha(0.2, 0.8, steps=100)
    assert schedule.alpha(0) == pytest.approx(0.2)
    assert schedule.alpha(25) == pytest.approx(0.35)
    assert schedule.alpha(100) == pytest.approx(0.8)
    assert schedule.alpha(500) == pytest.approx(0.8)


def test_cosine_values():
    schedule = CosineAlpha(0.9, 0.1, steps=10)
    assert schedule.alpha(0) == pytest.approx(0.9)
    assert schedule.alpha(5) == pytest.approx(0.5)
    assert schedule.alpha(2) > LinearAlpha(0.9, 0.1, steps=10).alpha(2)  # slow start
    assert schedule.alpha(10) == pytest.approx(0.1) == schedule.alpha(11)


def test_adaptive_moves_toward_the_lagging_setting(caplog):
    schedule = AdaptiveAlpha(initial=0.5, lr=0.5, alpha_min=0.2, alpha_max=0.8)
    with caplog.at_level(logging.INFO, logger="hybridbatch.sampling.schedules"):
        up = schedule.observe(100, mono_score=0.40, cross_score=0.60)  # mono lags: more X-X
    assert up == pytest.approx(0.6)
    assert "0.500 -> 0.600" in caplog.text
    down = schedule.observe(200, mono_score=0.80, cross_score=0.50)  # cross lags: more X-Y
    assert down == pytest.approx(0.45)
    assert [r["alpha"] for r in schedule.history] == pytest.approx([0.6, 0.45])


def test_adaptive_is_clipped_and_unchanged_alpha_is_not_logged(caplog):
    schedule = AdaptiveAlpha(initial=0.5, lr=10.0, alpha_min=0.2, alpha_max=0.8)
    assert schedule.observe(1, mono_score=0.0, cross_score=1.0) == 0.8
    assert schedule.observe(2, mono_score=1.0, cross_score=0.0) == 0.2
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hybridbatch.sampling.schedules"):
        assert schedule.observe(3, mono_score=1.0, cross_score=0.0) == 0.2
    assert caplog.text == ""
    assert len(schedule.history) == 3


def test_adaptive_alpha_is_piecewise_in_the_step():
    schedule = AdaptiveAlpha(initial=0.5, lr=1.0, target_gap=0.1)
    schedule.observe(10, mono_score=0.5, cross_score=0.5)  # gap 0 < target 0.1: +0.1
    schedule.observe(20, mono_score=0.7, cross_score=0.4)  # gap 0.3 > 0.1: −0.2
    assert [schedule.alpha(s) for s in (0, 9, 10, 19, 20, 99)] == pytest.approx(
        [0.5, 0.5, 0.6, 0.6, 0.4, 0.4]
    )
    with pytest.raises(ConfigError):
        schedule.observe(5, 0.1, 0.1)


@pytest.mark.parametrize(
    "schedule", [ConstantAlpha(0.3), LinearAlpha(0.1, 0.9, 50), CosineAlpha(0.9, 0.2, 7), AdaptiveAlpha(0.4)]
)
def test_state_round_trip(schedule):
    if isinstance(schedule, AdaptiveAlpha):
        schedule.observe(3, 0.9, 0.1)
    restored = schedule_from_state(schedule.state_dict())
    assert type(restored) is type(schedule)
    assert [restored.alpha(s) for s in range(0, 60, 3)] == [schedule.alpha(s) for s in range(0, 60, 3)]
    assert restored.state_dict() == schedule.state_dict()


def test_config_builds_the_schedule():
    assert isinstance(SamplerConfig(schedule="cosine", alpha_end=0.1, steps=10).build_schedule(), CosineAlpha)
    linear = SamplerConfig(schedule="linear", alpha=0.0, alpha_end=1.0, schedule_steps=4).build_schedule()
    assert linear.alpha(1) == pytest.approx(0.25)
    adaptive = SamplerConfig(schedule="adaptive", alpha=0.3, alpha_min=0.25).build_schedule()
    assert adaptive.alpha(0) == 0.3 and adaptive.alpha_min == 0.25


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConstantAlpha(1.5),
        lambda: LinearAlpha(0.1, -0.1, 10),
        lambda: CosineAlpha(0.1, 0.2, 0),
        lambda: AdaptiveAlpha(alpha_min=0.8, alpha_max=0.2),
    ],
)
def test_invalid_schedules(make):
    with pytest.raises(ConfigError):
        make()
