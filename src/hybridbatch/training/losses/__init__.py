"""Training losses over ``(query_emb [B, d], doc_emb [M, d], labels [B])``: InfoNCE with in-batch
negatives (the paper's), its symmetric variant, and a pointwise binary cross-entropy baseline."""

from __future__ import annotations

from typing import Literal

from torch import nn

from hybridbatch.training.losses.bce import BinaryCrossEntropyLoss
from hybridbatch.training.losses.distillation import DistillationLoss
from hybridbatch.training.losses.infonce import InfoNCELoss, cosine_scores, default_labels
from hybridbatch.training.losses.symmetric import SymmetricInfoNCELoss

LossName = Literal["infonce", "symmetric", "bce"]
LOSSES: dict[str, type[nn.Module]] = {
    "infonce": InfoNCELoss,
    "symmetric": SymmetricInfoNCELoss,
    "bce": BinaryCrossEntropyLoss,
}


def build_loss(name: str, temperature: float = 0.05) -> nn.Module:
    """The loss called ``name`` (``infonce``, ``symmetric`` or ``bce``) with temperature ``temperature``."""
    try:
        return LOSSES[name](temperature=temperature)
    except KeyError:
        raise ValueError(f"unknown loss {name!r} (choose from {', '.join(LOSSES)})") from None


__all__ = [
    "LOSSES",
    "BinaryCrossEntropyLoss",
    "DistillationLoss",
    "InfoNCELoss",
    "LossName",
    "SymmetricInfoNCELoss",
    "build_loss",
    "cosine_scores",
    "default_labels",
]
