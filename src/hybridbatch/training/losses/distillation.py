"""Embedding distillation: keep a student's embeddings close to a frozen teacher's (issue 22).

Per distilled text ``i`` with student embedding ``s_i`` and teacher target ``t_i``:

    L = mean_i (1 − cos(s_i, t_i)) = mean_i ½‖ŝ_i − t̂_i‖²

(``ŝ``, ``t̂`` the unit vectors). With ``t_i`` the teacher's embedding of the same text this is
self-distillation; with the teacher's embedding of the text's English translation it is multilingual
knowledge distillation (Reimers & Gurevych, EMNLP 2020, who used the MSE of raw embeddings; see
:class:`hybridbatch.training.adaptation_settings.DistillSettings` for why the cosine form here).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class DistillationLoss(nn.Module):
    """``forward(student [n, d], teacher [n, d]) -> scalar``: mean cosine distance (0 when ``n == 0``)."""

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        if student.shape != teacher.shape:
            raise ValueError(f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)} differ")
        if student.shape[0] == 0:
            return student.sum() * 0.0  # keeps the graph: a backward through an empty term is a no-op
        s = F.normalize(student, dim=-1)
        t = F.normalize(teacher.detach().to(student.dtype), dim=-1)
        return (1.0 - (s * t).sum(dim=-1)).mean()
