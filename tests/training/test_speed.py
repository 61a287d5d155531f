"""Speed levers keep the numbers: packed forward, fused AdamW and foreach clipping vs the plain paths."""

from __future__ import annotations

import copy

import pytest
import torch

from hybridbatch.training.features import embed, embed_bucketed, model_prompts, tokenize
from hybridbatch.training.losses import InfoNCELoss
from hybridbatch.training.speed import (
    can_pack,
    clip_grad_norm,
    embed_packed,
    embed_sides,
    make_adamw,
    pack_rows,
)

QUERIES = ["x", "one two three four five six seven", "a b", "alpha beta gamma delta"]
DOCS = ["le chat", "der Hund ist gross und braun und alt", "y", "z w", "Se vendió bien en todo el mundo."]


def test_pack_rows_fits_every_text_once():
    lengths = [9, 3, 7, 2, 5, 1, 8]
    rows = pack_rows(lengths, capacity=10)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 10 for row in rows)
    assert len(rows) == 4  # 35 tokens need at least 4 rows of 10; first-fit decreasing finds 4


def _sides(model):
    query_prompt, passage_prompt = model_prompts(model)
    return tokenize(model, QUERIES, query_prompt, 64), tokenize(model, DOCS, passage_prompt, 64)


def _loss_and_grads(model, fn):
    """InfoNCE of the embeddings from ``fn`` and the gradient of every trainable parameter."""
    model.zero_grad(set_to_none=True)
    q, d = fn()
    loss = InfoNCELoss(0.05)(q, d, torch.arange(len(QUERIES)))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return (q.detach(), d.detach()), grads


def test_embed_packed_equals_padded_forward_and_gradients(tiny_model):
    assert can_pack(tiny_model)
    tiny_model.eval()  # no dropout: both paths compute the same function
    queries, docs = _sides(tiny_model)
    plain, plain_grads = _loss_and_grads(
        tiny_model, lambda: (embed(tiny_model, queries), embed(tiny_model, docs))
    )
    packed, packed_grads = _loss_and_grads(tiny_model, lambda: embed_packed(tiny_model, [queries, docs]))
    for a, b in zip(plain, packed, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
    assert plain_grads.keys() == packed_grads.keys() and len(plain_grads) > 10
    for name, grad in plain_grads.items():
        assert torch.allclose(grad, packed_grads[name], atol=1e-5, rtol=1e-4), name
    shuffled = embed_packed(tiny_model, [docs, queries])  # order of sides and rows is kept
    assert torch.allclose(shuffled[0], packed[1], atol=1e-5)
    assert not torch.allclose(packed[1], packed[1].roll(1, 0))


def test_embed_packed_eager_attention_and_small_capacity(tiny_model):
    tiny_model.eval()
    _, docs = _sides(tiny_model)
    reference = embed(tiny_model, docs)
    longest = int(docs["attention_mask"].sum(1).max())
    config = tiny_model[0].auto_model.config
    try:
        config._attn_implementation = "eager"
        (eager,) = embed_packed(tiny_model, [docs], capacity=longest)
    finally:
        config._attn_implementation = "sdpa"
    assert torch.allclose(eager, reference, atol=1e-5)


def test_can_pack_only_plain_bert_sentence_transformers(tiny_model):
    assert not can_pack(torch.nn.Linear(2, 2))
    wrapped = torch.nn.Sequential(tiny_model)  # e.g. a wrapper: falls back to the bucketed path
    assert not can_pack(wrapped)


def _seeded(fn):
    torch.manual_seed(0)
    return fn()


def test_embed_sides_packs_only_batches_that_are_bucketed(tiny_model):
    tiny_model.train()  # dropout on: which path ran shows in the (seeded) numbers
    try:
        queries, docs = _sides(tiny_model)
        small = _seeded(lambda: embed_sides(tiny_model, queries, docs, rows=8))
        bucketed = _seeded(
            lambda: (embed_bucketed(tiny_model, queries, 8), embed_bucketed(tiny_model, docs, 8))
        )
        large = _seeded(lambda: embed_sides(tiny_model, queries, docs, rows=2))
        packed = _seeded(lambda: embed_packed(tiny_model, [queries, docs]))
    finally:
        tiny_model.eval()
    assert all(torch.equal(a, b) for a, b in zip(small, bucketed, strict=True))  # as before packing
    assert all(torch.equal(a, b) for a, b in zip(large, packed, strict=True))
    assert not torch.allclose(small[1], large[1])


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_make_adamw_matches_default_adamw(weight_decay):
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 4))
    models = [copy.deepcopy(base), copy.deepcopy(base)]
    optimizers = [
        torch.optim.AdamW(models[0].parameters(), lr=1e-2, weight_decay=weight_decay),
        make_adamw([{"params": list(models[1].parameters()), "weight_decay": weight_decay}], lr=1e-2),
    ]
    x = torch.randn(8, 16)
    for _ in range(5):
        for model, optimizer in zip(models, optimizers, strict=True):
            model(x).pow(2).sum().backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)  # on CPU: the multi-tensor kernel, bitwise the default loop
    assert not torch.allclose(next(models[0].parameters()), next(base.parameters()))  # it did train


def test_clip_grad_norm_matches_plain_clipping():
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(5, 3)) for _ in range(3)]
    for p in params:
        p.grad = torch.randn_like(p) * 10
    copies = [torch.nn.Parameter(p.detach().clone()) for p in params]
    for p, c in zip(params, copies, strict=True):
        c.grad = p.grad.clone()
    norm = clip_grad_norm(params, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(copies, 1.0, foreach=False)
    assert torch.allclose(norm, expected)
    for p, c in zip(params, copies, strict=True):
        assert torch.allclose(p.grad, c.grad)
    assert torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in params])) <= 1.0 + 1e-5


def test_embed_packed_on_a_bf16_model_with_eager_attention(tiny_model):
    """A bf16 model (e.g. a distillation teacher) gets its additive eager mask in bf16, not fp32."""
    from hybridbatch.models.quantize import bfloat16_copy

    teacher = bfloat16_copy(tiny_model)
    teacher[0].auto_model.set_attn_implementation("eager")
    texts = [f"Sentence {i} " + "word " * (i % 5) for i in range(12)]
    features = tokenize(teacher, texts, "query: ", 32)
    with torch.no_grad():
        (packed,) = embed_packed(teacher, [features])
        padded = embed(teacher, features)
    assert packed.dtype == torch.bfloat16
    torch.testing.assert_close(packed.float(), padded.float(), atol=2e-2, rtol=0)
