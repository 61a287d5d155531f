"""Symmetric InfoNCE: the query→passage InfoNCE of :mod:`.infonce` plus the passage→query direction
(as in CLIP, Radford et al. 2021, and sentence-transformers' MultipleNegativesSymmetricRankingLoss).

The passage→query term scores each query's positive passage ``d_{y_i}`` against the B queries and
asks it to pick ``q_i``; hard negatives take part only in the query→passage term. The loss is the mean
of the two directions.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from hybridbatch.training.losses.infonce import cosine_scores


class SymmetricInfoNCELoss(nn.Module):
    """``(InfoNCE(q→d) + InfoNCE(d→q)) / 2``.

    ``forward(query_emb [B, d], doc_emb [M, d], labels [B]) -> scalar``; ``labels[i]`` indexes query
    ``i``'s positive in ``doc_emb``. The passage→query term uses the B positive rows ``doc_emb[labels]``.
    ``needs_all_queries`` tells :class:`hybridbatch.training.distributed.DistributedLoss` to gather the
    queries of every rank too, since the passage→query term scores against all queries.
    """

    needs_all_queries = True

    def __init__(self, temperature: float = 0.05) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature

    def forward(self, query_emb: Tensor, doc_emb: Tensor, labels: Tensor) -> Tensor:
        scores = cosine_scores(query_emb, doc_emb) / self.temperature  # [B, M]
        forward = F.cross_entropy(scores, labels)
        backward_scores = scores.gather(1, labels[None, :].expand(scores.shape[0], -1)).T  # [B pos, B q]
        targets = labels.new_tensor(range(len(labels)))
        backward = F.cross_entropy(backward_scores, targets)
        return (forward + backward) / 2

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"
