"""Training: losses, the run configuration and the hybrid-batch trainer (``hybridbatch train``).

>>> from hybridbatch.training import TrainConfig, train
>>> result = train(TrainConfig(model="builtin:tiny", data=["mlqa-r"], steps=20, out="runs/x"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybridbatch.training.config import TrainConfig, load_train_config

if TYPE_CHECKING:
    from hybridbatch.training.trainer import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "load_train_config", "train"]


def __getattr__(name: str) -> Any:  # the trainer imports torch and sentence-transformers: load lazily
    if name in ("TrainResult", "train"):
        from hybridbatch.training import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
