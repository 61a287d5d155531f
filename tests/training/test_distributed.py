"""Cross-device negatives: 2 gloo processes must reproduce the single-process loss and gradients.

One spawn runs every scenario; each rank saves its loss values and its parameter gradients after
DDP's all-reduce, and the parent compares them with a single-process run on the concatenated batch.
Two deliberately broken variants (no label offset; loss × world size) run too and must *not* match,
which shows that the comparison can catch the bugs peers shipped here.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from hybridbatch.training.distributed import (
    DistributedContext,
    DistributedLoss,
    cleanup,
    gather_with_grad,
    init_distributed,
    is_distributed,
    reduce_mean,
    wrap_model,
)
from hybridbatch.training.losses import BinaryCrossEntropyLoss, InfoNCELoss, SymmetricInfoNCELoss

WORLD = 2
DIM_IN, DIM_OUT = 6, 5
ATOL = 1e-5

# name -> (loss factory, local batch sizes per rank, hard negatives per pair)
SCENARIOS = {
    "infonce": (InfoNCELoss, (3, 3), 0),
    "infonce_hardneg": (InfoNCELoss, (3, 3), 1),
    "infonce_unequal": (InfoNCELoss, (3, 2), 1),
    "symmetric": (SymmetricInfoNCELoss, (3, 3), 0),
    "symmetric_hardneg_unequal": (SymmetricInfoNCELoss, (2, 3), 2),
    "bce": (BinaryCrossEntropyLoss, (3, 3), 1),
}
BROKEN = ("broken_no_offset", "broken_times_world")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one intra-op thread is faster and avoids spin-waiting on a shared 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_encoder() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(DIM_IN, 8), nn.Tanh(), nn.Linear(8, DIM_OUT))


def make_data(sizes: tuple[int, ...], negatives: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per rank: queries [B_r, DIM_IN] and docs [B_r * (1 + negatives), DIM_IN] (positives first)."""
    g = torch.Generator().manual_seed(sum(sizes) * 10 + negatives)
    return [
        (torch.randn(b, DIM_IN, generator=g), torch.randn(b * (1 + negatives), DIM_IN, generator=g))
        for b in sizes
    ]


def reference(name: str) -> tuple[float, list[torch.Tensor]]:
    """Single process: the loss over the concatenated batch, all positives first, then negatives."""
    factory, sizes, negatives = SCENARIOS[name]
    data = make_data(sizes, negatives)
    queries = torch.cat([q for q, _ in data])
    positives = torch.cat([d[: len(q)] for q, d in data])
    hard = torch.cat([d[len(q) :] for q, d in data])
    model = make_encoder()
    loss = factory(temperature=0.1)(
        model(queries), model(torch.cat([positives, hard])), torch.arange(len(queries))
    )
    loss.backward()
    return loss.item(), [p.grad.clone() for p in model.parameters()]


def run_rank(model: nn.Module, loss_fn: nn.Module, q: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    model.zero_grad()
    emb = model(torch.cat([q, d]))
    value = loss_fn(emb[: len(q)], emb[len(q) :], torch.arange(len(q)))
    value.backward()
    return value


def worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    ctx = init_distributed()
    assert ctx.rank == rank and ctx.world_size == WORLD and ctx.distributed and ctx.is_main == (rank == 0)
    results = {}
    for name in (*SCENARIOS, *BROKEN):
        factory, sizes, negatives = SCENARIOS["infonce_hardneg" if name in BROKEN else name]
        q, d = make_data(sizes, negatives)[rank]
        model = wrap_model(make_encoder(), ctx)
        loss = factory(temperature=0.1)
        if name == "broken_no_offset":
            wrapped = lambda qe, de, y, loss=loss: loss(qe, gather_with_grad(de), y)  # noqa: E731
        elif name == "broken_times_world":
            wrapped = lambda qe, de, y, dl=DistributedLoss(loss): dl(qe, de, y) * WORLD  # noqa: E731
        else:
            wrapped = DistributedLoss(loss)
        value = run_rank(model, wrapped, q, d)
        results[name] = {
            "loss": value.item(),
            "mean_loss": reduce_mean(value),
            "grads": [p.grad.clone() for p in model.parameters()],
        }
    torch.save(results, Path(out) / f"rank{rank}.pt")
    del model  # no DDP reducer may outlive the group (see tests/training/test_teardown.py)
    cleanup()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(worker, args=(free_port(), str(out)), nprocs=WORLD, join=True)
    return [torch.load(out / f"rank{r}.pt") for r in range(WORLD)]


def matches(result: dict, ref_loss: float, ref_grads: list[torch.Tensor], global_loss: bool) -> bool:
    loss_ok = abs((result["loss"] if global_loss else result["mean_loss"]) - ref_loss) < ATOL
    pairs = zip(result["grads"], ref_grads, strict=True)
    return loss_ok and all(torch.allclose(g, r, atol=ATOL) for g, r in pairs)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_two_processes_equal_single_process(ranks: list[dict], name: str) -> None:
    ref_loss, ref_grads = reference(name)
    global_loss = bool(getattr(SCENARIOS[name][0], "needs_all_queries", False))
    for rank in ranks:
        assert matches(rank[name], ref_loss, ref_grads, global_loss), f"{name}: rank differs from reference"


@pytest.mark.parametrize("name", BROKEN)
def test_broken_variants_are_caught(ranks: list[dict], name: str) -> None:
    ref_loss, ref_grads = reference("infonce_hardneg")
    assert not any(matches(rank[name], ref_loss, ref_grads, False) for rank in ranks)


def test_without_cross_device_negatives_only_local_docs_are_seen(ranks: list[dict]) -> None:
    # The reference must differ from a plain per-rank loss: otherwise the test could not tell.
    ref_loss, _ = reference("infonce_hardneg")
    _, sizes, negatives = SCENARIOS["infonce_hardneg"]
    data = make_data(sizes, negatives)
    model = make_encoder()
    local = [InfoNCELoss(temperature=0.1)(model(q), model(d), torch.arange(len(q))).item() for q, d in data]
    assert abs(sum(local) / len(local) - ref_loss) > 1e-3


def test_single_process_is_identity() -> None:
    assert not is_distributed()
    ctx = init_distributed()
    assert ctx == DistributedContext(device=ctx.device)
    x = torch.randn(4, 3, requires_grad=True)
    assert gather_with_grad(x) is x
    loss = InfoNCELoss()
    q, d, y = torch.randn(3, 4), torch.randn(5, 4), torch.arange(3)
    assert torch.equal(DistributedLoss(loss)(q, d, y), loss(q, d, y))
    assert DistributedLoss(SymmetricInfoNCELoss()).gather_queries
    assert wrap_model(nn.Linear(2, 2), ctx).__class__ is nn.Linear
