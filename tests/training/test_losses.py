"""Losses against values computed by hand (numpy, written out formula by formula)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hybridbatch.training.losses import (
    BinaryCrossEntropyLoss,
    InfoNCELoss,
    SymmetricInfoNCELoss,
    build_loss,
)

# Two queries, three documents (two positives, then a hard negative). Rows are not unit length on
# purpose: the losses must use cosine, not dot product.
Q = np.array([[2.0, 0.0], [0.0, 1.0]])
D = np.array([[3.0, 0.0], [0.0, 0.5], [1.0, 1.0]])
LABELS = np.array([0, 1])
TAU = 0.5
# Cosines by hand: q0=(1,0), q1=(0,1); d0=(1,0), d1=(0,1), d2=(1,1)/sqrt2.
COS = np.array([[1.0, 0.0, 1 / math.sqrt(2)], [0.0, 1.0, 1 / math.sqrt(2)]])


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


def _lse(row: np.ndarray) -> float:
    return math.log(sum(math.exp(x) for x in row))


def test_infonce_matches_hand_computed_value():
    s = COS / TAU
    expected = np.mean([_lse(s[0]) - s[0, 0], _lse(s[1]) - s[1, 1]])
    loss = InfoNCELoss(temperature=TAU)(_t(Q), _t(D), torch.tensor(LABELS))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # A literal check of one term: query 0 sees exp(2), exp(0), exp(sqrt2).
    term0 = -math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(math.sqrt(2))))
    assert _lse(s[0]) - s[0, 0] == pytest.approx(term0)


def test_infonce_temperature_and_labels_matter():
    base = InfoNCELoss(TAU)(_t(Q), _t(D), torch.tensor(LABELS)).item()
    assert InfoNCELoss(0.05)(_t(Q), _t(D), torch.tensor(LABELS)).item() < base
    swapped = InfoNCELoss(TAU)(_t(Q), _t(D), torch.tensor([1, 0])).item()
    assert swapped > base


def test_symmetric_adds_passage_to_query_direction():
    s = COS / TAU
    q2d = np.mean([_lse(s[0]) - s[0, 0], _lse(s[1]) - s[1, 1]])
    # passage -> query over the two positives only: d0 vs (q0, q1), d1 vs (q0, q1); no hard negative.
    d2q = np.mean([_lse(s[:, 0]) - s[0, 0], _lse(s[:, 1]) - s[1, 1]])
    loss = SymmetricInfoNCELoss(TAU)(_t(Q), _t(D), torch.tensor(LABELS))
    assert loss.item() == pytest.approx((q2d + d2q) / 2, rel=1e-12)


def test_symmetric_with_permuted_positives():
    # Documents in another order: query 0's positive is row 1, query 1's is row 0.
    d = D[[1, 0, 2]]
    s = COS[:, [1, 0, 2]] / TAU
    q2d = np.mean([_lse(s[0]) - s[0, 1], _lse(s[1]) - s[1, 0]])
    d2q = np.mean([_lse(s[:, 1]) - s[0, 1], _lse(s[:, 0]) - s[1, 0]])
    loss = SymmetricInfoNCELoss(TAU)(_t(Q), _t(d), torch.tensor([1, 0]))
    assert loss.item() == pytest.approx((q2d + d2q) / 2, rel=1e-12)


def _bce(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_bce_over_all_cells():
    s = COS / TAU
    cells = [[_bce(s[i, j], 1.0 if j == LABELS[i] else 0.0) for j in range(3)] for i in range(2)]
    loss = BinaryCrossEntropyLoss(TAU)(_t(Q), _t(D), torch.tensor(LABELS))
    assert loss.item() == pytest.approx(np.mean(cells), rel=1e-12)
    balanced = BinaryCrossEntropyLoss(TAU, balanced=True)(_t(Q), _t(D), torch.tensor(LABELS))
    pos = np.mean([cells[0][0], cells[1][1]])
    neg = np.mean([cells[0][1], cells[0][2], cells[1][0], cells[1][2]])
    assert balanced.item() == pytest.approx((pos + neg) / 2, rel=1e-12)


def test_losses_backpropagate_and_factory():
    q = _t(Q).requires_grad_()
    for name in ("infonce", "symmetric", "bce"):
        q.grad = None
        build_loss(name, 0.05)(q, _t(D), torch.tensor(LABELS)).backward()
        assert q.grad is not None and torch.isfinite(q.grad).all()
    with pytest.raises(ValueError, match="unknown loss"):
        build_loss("hinge")
    with pytest.raises(ValueError, match="temperature"):
        InfoNCELoss(0)


def test_distillation_is_the_mean_cosine_distance_by_hand():
    from hybridbatch.training.losses import DistillationLoss

    student = torch.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, -2.0]], dtype=torch.float64, requires_grad=True)
    teacher = torch.tensor([[4.0, 3.0], [2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    # cos: (12 + 12) / 25 = 0.96; 1 (same direction, other length); -1 (opposite)
    expected = ((1 - 0.96) + (1 - 1) + (1 - -1)) / 3
    loss = DistillationLoss()(student, teacher)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # = ½‖ŝ − t̂‖² of the unit vectors, averaged
    halves = [0.5 * ((0.6 - 0.8) ** 2 + (0.8 - 0.6) ** 2), 0.0, 0.5 * 2.0**2]
    assert loss.item() == pytest.approx(sum(halves) / 3, rel=1e-12)
    loss.backward()
    assert student.grad is not None and torch.all(student.grad[1] == 0)  # already aligned: no pull
    empty = torch.zeros(0, 2, requires_grad=True)
    assert DistillationLoss()(empty, torch.zeros(0, 2)).item() == 0.0
    with pytest.raises(ValueError, match="differ"):
        DistillationLoss()(student, teacher[:2])
