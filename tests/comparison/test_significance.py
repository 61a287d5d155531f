"""The paired tests against scipy and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hybridbatch.comparison.significance.significance import (
    compare_paired,
    format_delta,
    mean_std,
    paired_bootstrap_ci,
    paired_randomization_test,
)
from hybridbatch.errors import ConfigError


def _scipy_p(a: np.ndarray, b: np.ndarray, n_resamples: int) -> float:
    def statistic(x, y, axis):
        return np.mean(x - y, axis=axis)

    result = stats.permutation_test(
        (a, b), statistic, permutation_type="samples", n_resamples=n_resamples, random_state=0
    )
    return float(result.pvalue)


def test_exact_randomization_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random(10), rng.random(10)
    b[:5] -= 0.3  # a real difference on some queries
    ours = paired_randomization_test(a, b, n_resamples=10_000)
    assert ours == pytest.approx(_scipy_p(a, b, 10_000), abs=1e-12)  # both enumerate the 1024 sign flips


def test_monte_carlo_randomization_close_to_scipy() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(300)
    b = a - 0.02 + rng.normal(0, 0.2, 300)
    ours = paired_randomization_test(a, b, n_resamples=20_000)
    assert ours == pytest.approx(_scipy_p(a, b, 20_000), abs=0.015)
    assert 0.0 < ours < 1.0


def test_hand_computed_randomization() -> None:
    # d = (1, 1, 1): of the 8 sign flips only +++ and --- reach |mean| = 1, so p = 2/8.
    assert paired_randomization_test([2, 2, 2], [1, 1, 1]) == pytest.approx(0.25)
    # d = (1, -1): every assignment has |mean| >= 0 = observed, p = 1.
    assert paired_randomization_test([1, 0], [0, 1]) == pytest.approx(1.0)
    # identical systems are never significant
    assert paired_randomization_test(np.ones(50), np.ones(50)) == pytest.approx(1.0)


def test_large_difference_is_significant_monte_carlo() -> None:
    a = np.linspace(0.5, 1.0, 200)
    p = paired_randomization_test(a, a - 0.1, n_resamples=2000)
    assert p == pytest.approx(1 / 2001)


def test_bootstrap_ci_close_to_scipy() -> None:
    rng = np.random.default_rng(2)
    a = rng.random(400)
    b = a - 0.05 + rng.normal(0, 0.1, 400)

    def statistic(x, y, axis):
        return np.mean(x - y, axis=axis)

    ref = stats.bootstrap(
        (a, b), statistic, paired=True, method="percentile", n_resamples=20_000, random_state=0
    ).confidence_interval
    low, high = paired_bootstrap_ci(a, b, n_resamples=20_000)
    assert low == pytest.approx(ref.low, abs=0.002)
    assert high == pytest.approx(ref.high, abs=0.002)
    assert low < float(np.mean(a - b)) < high


def test_bootstrap_constant_difference_is_a_point() -> None:
    low, high = paired_bootstrap_ci([0.5, 0.7, 0.9], [0.4, 0.6, 0.8], n_resamples=200)
    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)


def test_compare_paired_aligns_by_query_id() -> None:
    a = {"en:1": 1.0, "en:2": 0.5, "de:1": 0.25, "only-a": 9.0}
    b = {"de:1": 0.25, "en:2": 0.5, "en:1": 0.0, "only-b": -9.0}
    result = compare_paired("mono_ap", a, b, n_resamples=100)
    assert result.n == 3
    assert result.difference == pytest.approx(1 / 3)
    assert result.mean_a == pytest.approx(1.75 / 3)
    assert result.p_value == pytest.approx(1.0)  # d = (1, 0, 0): every sign flip has |mean| = 1/3
    assert not result.significant
    assert format_delta(result).endswith("(n.s.)")


def test_compare_paired_significant_is_unmarked() -> None:
    a = {str(i): 0.9 for i in range(100)}
    b = {str(i): 0.5 + 0.001 * i for i in range(100)}
    result = compare_paired("multi_ap", a, b, n_resamples=500)
    assert result.significant
    assert "n.s." not in format_delta(result)
    assert format_delta(result).startswith("+0.351 [")  # 0.9 - (0.5 + 0.001 * 49.5)


def test_mean_std() -> None:
    assert mean_std([0.5]) == (0.5, 0.0)
    mean, std = mean_std([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0) and std == pytest.approx(1.0)


@pytest.mark.parametrize(("a", "b"), [([1.0, 2.0], [1.0]), ([], []), ([float("nan")], [1.0])])
def test_bad_inputs_are_config_errors(a, b) -> None:
    with pytest.raises(ConfigError):
        paired_randomization_test(a, b)
    with pytest.raises(ConfigError):
        compare_paired("x", {}, {"q": 1.0})
