"""Encoding in token-length order returns each text's own embedding, in the caller's order."""

from __future__ import annotations

import numpy as np

from hybridbatch.models.encoding import by_token_length, encode_texts


def test_encode_texts_matches_sentence_transformers_encode(tiny_model):
    texts = ["a", "one two three four five six seven eight", "b c", "a", "東京タワーはどこですか", "x y z w"]
    ours = encode_texts(tiny_model, texts, "query", batch_size=2, show_progress=False)
    reference = tiny_model.encode(texts, prompt_name="query", batch_size=64, convert_to_numpy=True)
    reference = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(ours[0], ours[3])  # duplicate text, same vector


def test_texts_are_ordered_by_tokens_not_characters(tiny_model):
    texts = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a b c d e f g h i j k l m n o p"]
    lengths = [len(tiny_model.tokenizer(t)["input_ids"]) for t in texts]
    assert lengths[0] < lengths[1] and len(texts[0]) > len(texts[1])  # the case this is about
    assert by_token_length(tiny_model, texts, None).tolist() == [1, 0]


def test_empty_input_gives_an_empty_matrix(tiny_model):
    assert encode_texts(tiny_model, [], None, batch_size=4, show_progress=False).shape[0] == 0


def test_prompts_and_model_directory(tiny_model, tmp_path):
    from hybridbatch.models.encoding import model_directory, prompt_name, prompt_text, resolve_model

    assert (prompt_name(tiny_model, "query"), prompt_name(tiny_model, "passage")) == ("query", "passage")
    assert prompt_text(tiny_model, "query") == tiny_model.prompts["query"]

    class Bare:
        def __init__(self) -> None:
            self.prompts = {"document": "doc: "}

        def encode(self, texts, **_):
            return np.ones((len(texts), 2))

    assert prompt_name(Bare(), "query") is None and prompt_text(Bare(), "query") == ""
    assert prompt_name(Bare(), "passage") == "document"  # sentence-transformers' other name
    assert model_directory(str(tmp_path)) == tmp_path and model_directory(str(tmp_path / "no")) is None
    assert model_directory(Bare()) is None
    assert resolve_model(Bare(), "given")[1] == "given" and resolve_model(tiny_model)[1] == "builtin:tiny"


def test_encode_keeps_training_mode(tiny_model):
    from hybridbatch.models.encoding import encode

    tiny_model.train()
    try:
        vectors = encode(tiny_model, ["a b", "c"], "passage", batch_size=1)
        assert tiny_model.training and vectors.shape[0] == 2
    finally:
        tiny_model.eval()
