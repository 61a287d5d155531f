"""Pointwise binary cross-entropy: the classic non-contrastive baseline for the InfoNCE of
:mod:`.infonce` (cf. the pointwise ranking losses compared in LAReQA, arXiv 2004.05484).

Every cell ``(i, j)`` of the ``[B, M]`` score matrix is an independent binary decision: label 1 when
document ``j`` is query ``i``'s positive, else 0, with logit ``cos(q_i, d_j) / τ``. The loss is the mean
binary cross-entropy over the B·M cells (``balanced=True`` averages positives and negatives separately
and then takes their mean, so the B positives are not drowned by the B·(M-1) negatives).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybridbatch.training.losses.infonce import cosine_scores


class BinaryCrossEntropyLoss(nn.Module):
    """``forward(query_emb [B, d], doc_emb [M, d], labels [B]) -> scalar`` (mean BCE over all cells)."""

    def __init__(self, temperature: float = 0.05, balanced: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature
        self.balanced = balanced

    def forward(self, query_emb: Tensor, doc_emb: Tensor, labels: Tensor) -> Tensor:
        logits = cosine_scores(query_emb, doc_emb) / self.temperature
        targets = torch.zeros_like(logits)
        targets[torch.arange(len(labels), device=labels.device), labels] = 1.0
        cells = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        if not self.balanced:
            return cells.mean()
        positive = targets.bool()
        return (cells[positive].mean() + cells[~positive].mean()) / 2

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, balanced={self.balanced}"
