"""One step's maths: the L2-SP anchor adds exactly 2μ(θ − θ_base) to the contrastive gradient."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hybridbatch.training import TrainConfig
from hybridbatch.training.checkpoint import Checkpointer
from hybridbatch.training.distributed import DistributedContext
from hybridbatch.training.state import TrainingState, build_state
from hybridbatch.training.step import compute_gradients


def _state(toy_dir: Path, tmp_path: Path, **settings) -> TrainingState:
    config = TrainConfig(
        model="builtin:tiny",
        data=[str(toy_dir)],
        batch_size=2,
        steps=2,
        dev_fraction=0.0,
        out=tmp_path / "run",
        **settings,
    )
    ctx = DistributedContext()
    state = build_state(config, ctx, Checkpointer(config, ctx))
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():  # move θ away from θ_base the same way in every state
        for p in state.trainable:
            p.add_(torch.randn(p.shape, generator=generator) * 0.01)
    return state


def _gradients(state: TrainingState) -> tuple[float, list[torch.Tensor]]:
    loss = compute_gradients(state, state.sampler.batch_at(0))
    return loss, [p.grad.clone() for p in state.trainable]


@pytest.mark.parametrize("mini_batch_size", [None, 1])
def test_anchor_gradient_is_two_mu_theta_minus_base(toy_dir, tmp_path, mini_batch_size) -> None:
    mu = 0.3
    plain = _state(toy_dir, tmp_path, mini_batch_size=mini_batch_size)
    anchored = _state(toy_dir, tmp_path, anchor_weight=mu, mini_batch_size=mini_batch_size)
    assert plain.anchor is None and anchored.anchor is not None
    loss0, grads0 = _gradients(plain)
    loss1, grads1 = _gradients(anchored)
    penalty = 0.0
    for p, base, g0, g1 in zip(anchored.trainable, anchored.anchor, grads0, grads1, strict=True):
        theta = p.detach().clone().requires_grad_(True)
        (expected,) = torch.autograd.grad(mu * (theta - base).pow(2).sum(), theta)  # ∇ μ‖θ − θ_base‖²
        torch.testing.assert_close(g1, g0 + expected, rtol=1e-5, atol=1e-7)
        penalty += float((p.detach() - base).pow(2).sum())
    assert penalty > 0
    assert loss1 == pytest.approx(loss0 + mu * penalty, rel=1e-6)


def test_zero_anchor_weight_is_the_plain_step(toy_dir, tmp_path) -> None:
    a = _state(toy_dir, tmp_path)
    b = _state(toy_dir, tmp_path, anchor_weight=0.0)
    assert b.anchor is None
    loss_a, grads_a = _gradients(a)
    loss_b, grads_b = _gradients(b)
    assert loss_a == loss_b
    assert all(torch.equal(x, y) for x, y in zip(grads_a, grads_b, strict=True))


@pytest.mark.parametrize("mini_batch_size", [None, 1])
def test_bf16_autocast_runs_on_cpu_close_to_fp32(toy_dir, tmp_path, mini_batch_size) -> None:
    fp32 = _state(toy_dir, tmp_path, mini_batch_size=mini_batch_size)
    bf16 = _state(toy_dir, tmp_path, bf16=True, mini_batch_size=mini_batch_size)
    with bf16.autocast():
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16 and torch.is_autocast_enabled("cpu")
    loss0, grads0 = _gradients(fp32)
    loss1, grads1 = _gradients(bf16)
    assert loss1 != loss0 and loss1 == pytest.approx(loss0, rel=0.05)  # bf16 rounding, same objective
    assert all(g.dtype == torch.float32 for g in grads1)  # weights and gradients stay fp32
    flat0, flat1 = torch.cat([g.flatten() for g in grads0]), torch.cat([g.flatten() for g in grads1])
    assert torch.nn.functional.cosine_similarity(flat0, flat1, dim=0) > 0.95
