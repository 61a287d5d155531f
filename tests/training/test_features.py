"""From batches of ids to texts and token features; length-sorted chunks keep the loss unchanged."""

from __future__ import annotations

from pathlib import Path

import torch

from hybridbatch.data import load_collection
from hybridbatch.sampling import Batch, Pair
from hybridbatch.training.features import (
    batch_texts,
    embed,
    embed_bucketed,
    length_sorted_chunks,
    model_prompts,
    permuted_labels,
    tokenize,
)
from hybridbatch.training.losses import InfoNCELoss, SymmetricInfoNCELoss


def test_batch_texts_with_hard_negatives(toy_dir: Path):
    toy = load_collection(str(toy_dir))
    hard = toy.hard_negatives("q3", "es")
    batch = Batch(0, "xy", [Pair("q1", "en", "de"), Pair("q3", "de", "es", tuple(hard))], source=toy.name)
    texts = batch_texts(batch, {toy.name: toy})
    assert texts.queries == ["Where is the tower?", "Wer schrieb das Buch?"]
    assert texts.docs == ["Der Turm ist in Paris.", "Anna escribió el libro.", "Se vendió bien."]
    assert texts.labels.tolist() == [0, 1]


def test_batch_texts_with_query_language_negatives(toy_dir: Path):
    toy = load_collection(str(toy_dir))
    hard = tuple(toy.hard_negatives("q3", "es"))
    batch = Batch(0, "xy", [Pair("q1", "en", "de"), Pair("q3", "es", "de", (), hard)], source=toy.name)
    texts = batch_texts(batch, {toy.name: toy})
    assert texts.queries[1] == toy.question("q3", "es").text
    assert texts.docs[2:] == ["Se vendió bien."]  # the Spanish paragraph's other sentence, after positives


def test_tokenize_dynamic_padding_and_separate_lengths(tiny_model):
    query_prompt, passage_prompt = model_prompts(tiny_model)
    assert (query_prompt, passage_prompt) == ("query: ", "passage: ")
    short = tokenize(tiny_model, ["a", "b c"], query_prompt, max_length=64)
    long = tokenize(tiny_model, ["a", "word " * 200], query_prompt, max_length=64)
    assert short["input_ids"].shape[1] < 10  # padded to the longest text, not to 64
    assert long["input_ids"].shape[1] == 64  # truncated to max_length
    fixed = tokenize(tiny_model, ["a", "b c"], query_prompt, max_length=32, padding="max_length")
    assert fixed["input_ids"].shape[1] == 32
    expected = tiny_model.tokenizer("query: a")["input_ids"]
    assert short["input_ids"][0, : len(expected)].tolist() == expected


def test_length_sorted_chunks_trim_and_keep_rows(tiny_model):
    texts = ["x", "one two three four five six seven", "a b", "alpha beta gamma delta"]
    features = tokenize(tiny_model, texts, "", max_length=64)
    chunks, order = length_sorted_chunks(features, size=2)
    lengths = features["attention_mask"].sum(1)
    assert lengths[order].tolist() == sorted(lengths.tolist(), reverse=True)
    assert chunks[1]["input_ids"].shape[1] == int(lengths[order[2:]].max())  # short chunk is trimmed
    for chunk, rows in zip(chunks, (order[:2], order[2:]), strict=True):
        width = chunk["input_ids"].shape[1]
        assert torch.equal(chunk["input_ids"], features["input_ids"][rows][:, :width])


def test_permuted_labels_leave_losses_unchanged():
    torch.manual_seed(0)
    q, d = torch.randn(4, 8), torch.randn(6, 8)
    labels = torch.tensor([0, 1, 2, 3])
    q_order, d_order = torch.tensor([2, 0, 3, 1]), torch.tensor([5, 1, 0, 4, 3, 2])
    new_labels = permuted_labels(labels, q_order, d_order)
    for loss in (InfoNCELoss(0.05), SymmetricInfoNCELoss(0.05)):
        a = loss(q, d, labels)
        b = loss(q[q_order], d[d_order], new_labels)
        assert torch.allclose(a, b, atol=1e-6)
    wrong = InfoNCELoss(0.05)(q[q_order], d[d_order], labels)  # without remapping the labels
    assert not torch.allclose(wrong, InfoNCELoss(0.05)(q, d, labels))


def test_embed_bucketed_matches_one_padded_forward(tiny_model):
    texts = ["x", "one two three four five six seven", "a b", "alpha beta gamma delta", "q", "w e r t"]
    features = tokenize(tiny_model, texts, "passage: ", max_length=64)
    tiny_model.eval()  # no dropout: both paths must give the same numbers
    weights = torch.randn(len(texts), tiny_model.get_embedding_dimension())
    probe = tiny_model[0].auto_model.encoder.layer[0].attention.self.query.weight
    grads = []
    for fn in (lambda: embed(tiny_model, features), lambda: embed_bucketed(tiny_model, features, rows=2)):
        tiny_model.zero_grad(set_to_none=True)
        out = fn()
        (out * weights).sum().backward()  # row-specific weights: a row mix-up changes the gradient
        grads.append((out.detach(), probe.grad))
    tiny_model.zero_grad(set_to_none=True)
    (full, full_grad), (bucketed, bucketed_grad) = grads
    assert torch.allclose(full, bucketed, atol=1e-5)
    assert torch.allclose(full_grad, bucketed_grad, atol=1e-5)
    assert not torch.allclose(full, full.roll(1, 0))  # rows differ, so order matters
