"""Paired significance tests on per-query scores of two systems over the same queries.

In the style of ranx (Bassani, ECIR 2022) and of Smucker et al. (CIKM 2007, "A comparison of
statistical significance tests for IR evaluation"):

- the **p-value** comes from a two-sided *paired randomization (permutation) test*: under H0 the two
  systems are exchangeable on every query, so each per-query difference keeps or flips its sign with
  probability 1/2; the p-value is the share of sign assignments whose mean difference is at least as
  far from 0 as the observed one. All ``2^n`` assignments are enumerated when that is at most
  ``n_resamples`` (exact test), otherwise ``n_resamples`` random ones are drawn and the p-value is
  ``(hits + 1) / (n_resamples + 1)`` (Phipson & Smyth 2010; what ``scipy.stats.permutation_test``
  does with ``permutation_type="samples"``);
- the **95% confidence interval** of the mean difference comes from a *paired percentile bootstrap*
  (Efron & Tibshirani 1993): queries are resampled with replacement, keeping each query's two scores
  together (``scipy.stats.bootstrap(..., paired=True, method="percentile")``).

Both are seeded, so a report is reproducible.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel

from hybridbatch.errors import ConfigError

N_RESAMPLES = 10_000
ALPHA = 0.05
_CHUNK = 512


class PairedComparison(BaseModel):
    """System A against reference B on one metric over the same ``n`` queries."""

    metric: str
    n: int
    mean_a: float
    mean_b: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float = 0.95
    test: str = "paired randomization (sign-flip); CI: paired percentile bootstrap"

    @property
    def significant(self) -> bool:
        """Whether the difference is significant at level ``1 - confidence`` (two-sided)."""
        return self.p_value < 1.0 - self.confidence + 1e-12


def paired_randomization_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> float:
    """Two-sided p-value of H0 "A and B are exchangeable per query" for the mean difference."""
    diff = _differences(a, b)
    n = len(diff)
    observed = abs(float(diff.mean()))
    tolerance = 1e-12 * max(1.0, observed)
    if n <= 20 and 2**n <= n_resamples:  # exact: every sign assignment once
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        null = np.abs(signs @ diff) / n
        return float(np.mean(null >= observed - tolerance))
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, _CHUNK):
        size = min(_CHUNK, n_resamples - start)
        signs = rng.choice((-1.0, 1.0), size=(size, n))
        hits += int(np.sum(np.abs(signs @ diff) / n >= observed - tolerance))
    return (hits + 1) / (n_resamples + 1)


def paired_bootstrap_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(A - B), resampling queries with both scores together."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    diff = _differences(a, b)
    n = len(diff)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, _CHUNK):
        size = min(_CHUNK, n_resamples - start)
        means[start : start + size] = diff[rng.integers(0, n, size=(size, n))].mean(axis=1)
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def compare_paired(
    metric: str,
    a: Mapping[str, float],
    b: Mapping[str, float],
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedComparison:
    """Test A against B on the queries both scored (keys are query ids, e.g. ``"de:56be4db0"``)."""
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ConfigError(f"{metric}: the two systems share no scored query, nothing to compare")
    x = np.array([a[k] for k in keys], dtype=np.float64)
    y = np.array([b[k] for k in keys], dtype=np.float64)
    low, high = paired_bootstrap_ci(x, y, confidence, n_resamples, seed)
    return PairedComparison(
        metric=metric,
        n=len(keys),
        mean_a=float(x.mean()),
        mean_b=float(y.mean()),
        difference=float((x - y).mean()),
        ci_low=low,
        ci_high=high,
        p_value=paired_randomization_test(x, y, n_resamples, seed),
        confidence=confidence,
    )


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value) of per-seed results."""
    if not values:
        raise ConfigError("mean_std: no values")
    array = np.asarray(values, dtype=np.float64)
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return float(array.mean()), std


def format_delta(result: PairedComparison, digits: int = 3) -> str:
    """``+0.012 [+0.004, +0.020] p=0.003``; a non-significant difference is marked ``(n.s.)``."""
    if math.isnan(result.difference):
        return "–"
    f = f"{{:+.{digits}f}}"
    text = f"{f.format(result.difference)} [{f.format(result.ci_low)}, {f.format(result.ci_high)}]"
    text += f" p={_p(result.p_value)}"
    return text if result.significant else text + " (n.s.)"


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _differences(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ConfigError(f"paired test: A and B need the same queries, got shapes {x.shape} and {y.shape}")
    if len(x) == 0:
        raise ConfigError("paired test: no queries")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ConfigError("paired test: per-query scores must be finite numbers")
    return x - y
