"""InfoNCE with in-batch negatives (van den Oord et al. 2018, arXiv 1807.03748), the loss of hybrid
batch training (arXiv 2408.10536, Sec. 3): per query ``i``

    L_i = -log( exp(s(q_i, d_{y_i}) / τ) / Σ_j exp(s(q_i, d_j) / τ) )

with ``s`` the cosine similarity, ``j`` over every document of the batch (the B in-batch positives,
followed by any hard negatives) and temperature τ (default 0.05, i.e. sentence-transformers' scale 20).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def cosine_scores(query_emb: Tensor, doc_emb: Tensor) -> Tensor:
    """Cosine similarity matrix ``[B, M]`` of ``query_emb [B, d]`` against ``doc_emb [M, d]``."""
    return F.normalize(query_emb, dim=-1) @ F.normalize(doc_emb, dim=-1).T


class InfoNCELoss(nn.Module):
    """Contrastive cross-entropy over cosine scores / τ.

    ``forward(query_emb [B, d], doc_emb [M, d], labels [B]) -> scalar``: ``labels[i]`` is the row of
    query ``i``'s positive in ``doc_emb`` (``i`` when documents are the B positives, in order, followed by
    hard negatives). The loss is the mean over the B queries.
    """

    def __init__(self, temperature: float = 0.05) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature

    def forward(self, query_emb: Tensor, doc_emb: Tensor, labels: Tensor) -> Tensor:
        scores = cosine_scores(query_emb, doc_emb) / self.temperature
        return F.cross_entropy(scores, labels)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"


def default_labels(batch_size: int, device: torch.device | str | None = None) -> Tensor:
    """Labels when the documents start with the B positives in query order: ``[0, 1, …, B-1]``."""
    return torch.arange(batch_size, device=device)
