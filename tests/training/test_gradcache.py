"""GradCache must give the gradients of the plain computation: single process and under 2-process DDP.

With dropout off, GradCache over mini-batches equals one full-batch forward/backward. With dropout
on, the plain reference encodes the same chunks with a graph from the same seed; GradCache only
matches it if the RNG replay reproduces each chunk's dropout masks (a no-replay control must differ).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import Tensor, nn

from hybridbatch.training.distributed import DistributedLoss, cleanup, init_distributed, wrap_model
from hybridbatch.training.gradcache import RandContext, gradcache_backward, split_batch
from hybridbatch.training.losses import InfoNCELoss

from .test_distributed import free_port

ATOL = 1e-5
VOCAB, MAX_LEN = 60, 12


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one intra-op thread is faster and avoids spin-waiting on a shared 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_bert(dropout: float) -> nn.Module:
    from transformers import BertConfig, BertModel  # lazy: keeps the spawned DDP workers light

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=MAX_LEN,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    return BertModel(config, add_pooling_layer=False).train()


class ToyEncoder(nn.Module):
    """Embedding → dropout → linear: a light stand-in for BERT in the spawned DDP workers."""

    def __init__(self, dropout: float) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(VOCAB, 16)
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Linear(16, 16)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> _Output:
        return _Output(torch.tanh(self.proj(self.drop(self.embed(input_ids)))))


class _Output:
    def __init__(self, last_hidden_state: Tensor) -> None:
        self.last_hidden_state = last_hidden_state


def features(n: int, seed: int) -> dict[str, Tensor]:
    """Random token ids with varying lengths (padding id 0, attention mask)."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, MAX_LEN + 1, (n,), generator=g)
    ids = torch.randint(1, VOCAB, (n, MAX_LEN), generator=g)
    mask = (torch.arange(MAX_LEN)[None, :] < lengths[:, None]).long()
    return {"input_ids": ids * mask, "attention_mask": mask}


def mean_pool(model: nn.Module):
    def encode(f: dict[str, Tensor]) -> Tensor:
        hidden = model(**f).last_hidden_state
        mask = f["attention_mask"][..., None].float()
        return (hidden * mask).sum(1) / mask.sum(1)

    return encode


def batch(n_queries: int, negatives: int, seed: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Queries and docs (``n_queries`` positives followed by the hard negatives)."""
    return features(n_queries, seed), features(n_queries * (1 + negatives), seed + 1)


def plain(encode, queries, docs, loss_fn, chunk: int | None) -> float:
    """Reference: every chunk encoded with a graph (one chunk = the full batch), one backward."""
    q_chunks = [queries] if chunk is None else split_batch(queries, chunk)
    d_chunks = [docs] if chunk is None else split_batch(docs, chunk)
    q = torch.cat([encode(c) for c in q_chunks])
    d = torch.cat([encode(c) for c in d_chunks])
    loss = loss_fn(q, d, torch.arange(len(q)))
    loss.backward()
    return loss.item()


def cached(encode, queries, docs, loss_fn, chunk: int, model=None, replay_rng: bool = True) -> float:
    n = len(queries["input_ids"])
    loss = gradcache_backward(
        encode,
        split_batch(queries, chunk),
        split_batch(docs, chunk),
        loss_fn,
        torch.arange(n),
        model=model,
        replay_rng=replay_rng,
    )
    return loss.item()


def grads(model: nn.Module) -> list[Tensor]:
    return [p.grad.clone() for p in model.parameters() if p.grad is not None]


def same(a: list[Tensor], b: list[Tensor]) -> bool:
    return len(a) == len(b) and all(torch.allclose(x, y, atol=ATOL) for x, y in zip(a, b, strict=True))


def run(fn, dropout: float, seed: int = 7, factory=make_bert, **kwargs) -> tuple[float, list[Tensor]]:
    model = factory(dropout)
    torch.manual_seed(seed)
    value = fn(mean_pool(model), **kwargs)
    return value, grads(model)


def test_split_batch() -> None:
    f = features(5, 0)
    chunks = split_batch(f, 2)
    assert [len(c["input_ids"]) for c in chunks] == [2, 2, 1]
    assert torch.equal(torch.cat([c["attention_mask"] for c in chunks]), f["attention_mask"])
    assert split_batch(["a", "b", "c"], 2) == [["a", "b"], ["c"]]
    with pytest.raises(ValueError):
        split_batch(f, 0)


def test_rand_context_replays_and_restores() -> None:
    torch.manual_seed(1)
    state = RandContext()
    first = torch.rand(3)
    after = torch.get_rng_state()
    with state:
        assert torch.equal(torch.rand(3), first)
    assert torch.equal(torch.get_rng_state(), after)


@pytest.mark.parametrize("negatives", [0, 1])
def test_equals_full_batch_without_dropout(negatives: int) -> None:
    queries, docs = batch(6, negatives, seed=3)
    loss_fn = InfoNCELoss(temperature=0.1)
    ref_loss, ref = run(plain, 0.0, queries=queries, docs=docs, loss_fn=loss_fn, chunk=None)
    loss, got = run(cached, 0.0, queries=queries, docs=docs, loss_fn=loss_fn, chunk=4)
    assert abs(loss - ref_loss) < ATOL
    assert same(got, ref)


def test_equals_plain_chunks_with_dropout_and_needs_rng_replay() -> None:
    queries, docs = batch(6, 1, seed=4)
    loss_fn = InfoNCELoss(temperature=0.1)
    ref_loss, ref = run(plain, 0.2, queries=queries, docs=docs, loss_fn=loss_fn, chunk=2)
    loss, got = run(cached, 0.2, queries=queries, docs=docs, loss_fn=loss_fn, chunk=2)
    assert abs(loss - ref_loss) < ATOL
    assert same(got, ref)
    # Controls: dropout is really on, and without the RNG replay the gradients differ.
    _, no_dropout = run(plain, 0.0, queries=queries, docs=docs, loss_fn=loss_fn, chunk=2)
    _, no_replay = run(cached, 0.2, queries=queries, docs=docs, loss_fn=loss_fn, chunk=2, replay_rng=False)
    assert not same(no_dropout, ref)
    assert not same(no_replay, ref)


def test_tiny_model_with_dropout(request) -> None:
    pytest.importorskip("hybridbatch.models")
    try:
        model = request.getfixturevalue("tiny_model")
    except (ImportError, AttributeError) as exc:  # the builtin model may not exist yet
        pytest.skip(f"builtin:tiny unavailable: {exc}")
    model.train()
    if not any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules()):
        pytest.skip("builtin:tiny has no dropout")
    texts_q = [f"query: question number {i} about item {i * 7}" for i in range(4)]
    texts_d = [f"passage: answer {i} " + "word " * i for i in range(4)]

    def encode(texts: list[str]) -> Tensor:
        return model(model.tokenize(texts))["sentence_embedding"]

    loss_fn = InfoNCELoss()
    results = []
    for use_cache in (False, True):
        model.zero_grad()
        torch.manual_seed(11)
        if use_cache:
            loss = gradcache_backward(
                encode, split_batch(texts_q, 2), split_batch(texts_d, 2), loss_fn, torch.arange(4)
            ).item()
        else:
            q = torch.cat([encode(c) for c in split_batch(texts_q, 2)])
            d = torch.cat([encode(c) for c in split_batch(texts_d, 2)])
            value = loss_fn(q, d, torch.arange(4))
            value.backward()
            loss = value.item()
        results.append((loss, grads(model)))
    model.zero_grad()
    assert abs(results[0][0] - results[1][0]) < 1e-4
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(results[0][1], results[1][1], strict=True))


# ---- 2 processes (gloo, DDP) -----------------------------------------------------------------------

SIZES = (3, 2)  # unequal local batches: the ranks run different numbers of chunks
NEGATIVES, CHUNK = 1, 2


def ddp_worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=len(SIZES))
    ctx = init_distributed()
    queries, docs = batch(SIZES[rank], NEGATIVES, seed=100 + rank)
    results = {}
    for name, dropout, use_cache in [
        ("nodrop_cache", 0.0, True),
        ("drop_cache", 0.2, True),
        ("drop_plain", 0.2, False),
    ]:
        ddp = wrap_model(ToyEncoder(dropout), ctx)
        calls: list[int] = []

        def counting_allreduce(state, bucket, calls=calls):
            from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

            calls.append(1)
            return allreduce_hook(None, bucket)

        ddp.register_comm_hook(None, counting_allreduce)
        loss_fn = DistributedLoss(InfoNCELoss(temperature=0.1))
        torch.manual_seed(1000 + rank)
        encode = mean_pool(ddp)
        if use_cache:
            value = cached(encode, queries, docs, loss_fn, CHUNK, model=ddp)
        else:
            value = plain(encode, queries, docs, loss_fn, CHUNK)
        results[name] = {"loss": value, "grads": grads(ddp.module), "allreduce_calls": len(calls)}
    torch.save(results, Path(out) / f"rank{rank}.pt")
    del ddp, encode  # no DDP reducer may outlive the group (see tests/training/test_teardown.py)
    dist.barrier()
    cleanup()


@pytest.fixture(scope="module")
def ddp_ranks(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("gradcache_ddp")
    mp.spawn(ddp_worker, args=(free_port(), str(out)), nprocs=len(SIZES), join=True)
    return [torch.load(out / f"rank{r}.pt") for r in range(len(SIZES))]


def test_ddp_gradcache_equals_single_process_full_batch(ddp_ranks: list[dict]) -> None:
    parts = [batch(n, NEGATIVES, seed=100 + r) for r, n in enumerate(SIZES)]
    queries = {k: torch.cat([q[k] for q, _ in parts]) for k in parts[0][0]}
    positives = [{k: v[:n] for k, v in d.items()} for (_, d), n in zip(parts, SIZES, strict=True)]
    hard = [{k: v[n:] for k, v in d.items()} for (_, d), n in zip(parts, SIZES, strict=True)]
    docs = {k: torch.cat([p[k] for p in positives] + [h[k] for h in hard]) for k in queries}
    ref_loss, ref = run(
        plain, 0.0, factory=ToyEncoder, queries=queries, docs=docs, loss_fn=InfoNCELoss(0.1), chunk=None
    )
    # DistributedLoss weights each rank's share by N·B_r/ΣB, so the plain mean over ranks is global.
    mean = sum(r["nodrop_cache"]["loss"] for r in ddp_ranks) / len(ddp_ranks)
    assert abs(mean - ref_loss) < ATOL
    for r in ddp_ranks:
        assert same(r["nodrop_cache"]["grads"], ref)


def test_ddp_gradcache_with_dropout_equals_plain_ddp(ddp_ranks: list[dict]) -> None:
    for r in ddp_ranks:
        assert abs(r["drop_cache"]["loss"] - r["drop_plain"]["loss"]) < ATOL
        assert same(r["drop_cache"]["grads"], r["drop_plain"]["grads"])
        assert not same(r["drop_cache"]["grads"], r["nodrop_cache"]["grads"])


def test_ddp_gradcache_all_reduces_once_per_step(ddp_ranks: list[dict]) -> None:
    # no_sync on every chunk but the last: as many bucket all-reduces as one plain backward.
    for r in ddp_ranks:
        assert r["drop_cache"]["allreduce_calls"] == r["drop_plain"]["allreduce_calls"] > 0
