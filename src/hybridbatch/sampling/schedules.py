"""α schedules: the probability that a training step draws an X-X (monolingual) batch.

The paper (arXiv 2408.10536, §3) fixes α = 0.5 (:class:`ConstantAlpha`); the schedules below are
*ours*. Every schedule maps a step number to α with ``alpha(step)`` and saves/restores its state with
``state_dict()`` / ``load_state_dict()``, so a resumed run draws the same batch types.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Annotated, Any, Protocol, runtime_checkable

from pydantic import Field, TypeAdapter, ValidationError

from hybridbatch.errors import ConfigError

if TYPE_CHECKING:
    from hybridbatch.sampling.config import SamplerConfig

logger = logging.getLogger(__name__)


@runtime_checkable
class AlphaSchedule(Protocol):
    """What the sampler needs from a schedule."""

    def alpha(self, step: int) -> float: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class ObservingSchedule(AlphaSchedule, Protocol):
    """A schedule that learns from dev scores: the trainer reports mono/cross scores every N steps."""

    def observe(self, step: int, mono_score: float, cross_score: float) -> float: ...


#: The paper's α (arXiv 2408.10536, §3): the default of every schedule and setting.
DEFAULT_ALPHA = 0.5

#: α and its bounds: a finite probability. The one declaration of "α in [0, 1]".
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
_PROBABILITY: TypeAdapter[float] = TypeAdapter(Probability)


def _check_unit(name: str, value: float) -> float:
    try:
        return float(_PROBABILITY.validate_python(value))
    except ValidationError:
        raise ConfigError(f"{name} must be in [0, 1], got {value}") from None


class ConstantAlpha:
    """α(step) = ``value`` (the paper's setting, default :data:`DEFAULT_ALPHA`)."""

    def __init__(self, value: float = DEFAULT_ALPHA) -> None:
        self.value = _check_unit("alpha", value)

    def alpha(self, step: int) -> float:
        return self.value

    def state_dict(self) -> dict[str, Any]:
        return {"type": "constant", "value": self.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = _check_unit("alpha", state["value"])

    def __repr__(self) -> str:
        return f"ConstantAlpha({self.value})"


class _Ramp:
    """α moves from ``start`` (step 0) to ``end`` (step ``steps`` and after) along ``_shape``."""

    kind = "ramp"

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = _check_unit("alpha start", start)
        self.end = _check_unit("alpha end", end)
        if steps < 1:
            raise ConfigError(f"schedule steps must be >= 1, got {steps}")
        self.steps = int(steps)

    @staticmethod
    def _shape(t: float) -> float:
        raise NotImplementedError

    def alpha(self, step: int) -> float:
        t = min(max(step, 0) / self.steps, 1.0)
        return self.start + (self.end - self.start) * self._shape(t)

    def state_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "start": self.start, "end": self.end, "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(state["start"], state["end"], state["steps"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.start} -> {self.end} over {self.steps} steps)"


class LinearAlpha(_Ramp):
    """α(step) = start + (end − start) · min(step / steps, 1)."""

    kind = "linear"

    @staticmethod
    def _shape(t: float) -> float:
        return t


class CosineAlpha(_Ramp):
    """α(step) = start + (end − start) · (1 − cos(π · min(step / steps, 1))) / 2."""

    kind = "cosine"

    @staticmethod
    def _shape(t: float) -> float:
        return (1.0 - math.cos(math.pi * t)) / 2.0


class AdaptiveAlpha:
    """α that shifts the batch mix toward the setting that lags on a held-out dev split (*ours*).

    The trainer scores a dev split every N steps in the monolingual and the cross-lingual setting
    (e.g. mAP) and calls :meth:`observe`. The update rule is::

        gap   = mono_score − cross_score
        α_new = clip(α + lr · (target_gap − gap), alpha_min, alpha_max)

    so when mono lags (gap below ``target_gap``) α grows (more X-X batches), when cross lags α shrinks
    (more X-Y batches). ``target_gap`` is the mono − cross gap considered normal (0 by default).

    α(step) is a pure function of the state: the value after the last observation made at a step
    ``≤ step`` (``initial`` before any), so batches can be replayed after a resume. Every observation
    is kept in :attr:`history`; every change of α is logged.
    """

    def __init__(
        self,
        initial: float = DEFAULT_ALPHA,
        lr: float = 0.5,
        alpha_min: float = 0.1,
        alpha_max: float = 0.9,
        target_gap: float = 0.0,
    ) -> None:
        self.alpha_min = _check_unit("alpha_min", alpha_min)
        self.alpha_max = _check_unit("alpha_max", alpha_max)
        if self.alpha_min > self.alpha_max:
            raise ConfigError(f"alpha_min ({alpha_min}) must not exceed alpha_max ({alpha_max})")
        self.initial = _check_unit("alpha", initial)
        if lr < 0:
            raise ConfigError(f"adaptive lr must be >= 0, got {lr}")
        self.lr = float(lr)
        self.target_gap = float(target_gap)
        self.history: list[dict[str, float]] = []

    @property
    def current(self) -> float:
        """α after the latest observation."""
        return self.history[-1]["alpha"] if self.history else self.initial

    def alpha(self, step: int) -> float:
        value = self.initial
        for record in self.history:
            if record["step"] > step:
                break
            value = record["alpha"]
        return value

    def observe(self, step: int, mono_score: float, cross_score: float) -> float:
        """Record dev scores measured before training step ``step``; returns α from ``step`` on."""
        if self.history and step < self.history[-1]["step"]:
            raise ConfigError(f"adaptive alpha: observation at step {step} precedes the last one")
        before = self.current
        gap = mono_score - cross_score
        after = min(max(before + self.lr * (self.target_gap - gap), self.alpha_min), self.alpha_max)
        self.history.append(
            {"step": int(step), "mono": float(mono_score), "cross": float(cross_score), "alpha": after}
        )
        if after != before:
            logger.info(
                "adaptive alpha: step %d mono %.4f cross %.4f -> alpha %.3f -> %.3f",
                step,
                mono_score,
                cross_score,
                before,
                after,
            )
        return after

    def state_dict(self) -> dict[str, Any]:
        return {
            "type": "adaptive",
            "initial": self.initial,
            "lr": self.lr,
            "alpha_min": self.alpha_min,
            "alpha_max": self.alpha_max,
            "target_gap": self.target_gap,
            "history": [dict(r) for r in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["initial"], state["lr"], state["alpha_min"], state["alpha_max"], state["target_gap"]
        )
        self.history = [dict(r) for r in state.get("history", [])]

    def __repr__(self) -> str:
        return f"AdaptiveAlpha(current={self.current}, lr={self.lr}, [{self.alpha_min}, {self.alpha_max}])"


SCHEDULES = ("constant", "linear", "cosine", "adaptive")


def build_schedule(config: SamplerConfig) -> AlphaSchedule:
    """The α schedule ``config`` describes (a ramp spans ``schedule_steps``, else ``steps``)."""
    if config.schedule == "constant":
        return ConstantAlpha(config.alpha)
    if config.schedule == "adaptive":
        return AdaptiveAlpha(
            config.alpha, config.adaptive_lr, config.alpha_min, config.alpha_max, config.target_gap
        )
    ramp = LinearAlpha if config.schedule == "linear" else CosineAlpha
    return ramp(config.alpha, config.alpha_end, config.schedule_steps or config.steps)  # type: ignore[arg-type]


def schedule_from_state(state: dict[str, Any]) -> AlphaSchedule:
    """Rebuild a schedule from its ``state_dict()``."""
    kinds = {
        "constant": ConstantAlpha,
        "linear": LinearAlpha,
        "cosine": CosineAlpha,
        "adaptive": AdaptiveAlpha,
    }
    kind = state.get("type")
    if kind not in kinds:
        raise ConfigError(f"unknown alpha schedule {kind!r} in state (choose from {', '.join(SCHEDULES)})")
    schedule = object.__new__(kinds[kind])
    schedule.load_state_dict(state)
    return schedule
