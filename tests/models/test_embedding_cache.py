"""The embedding cache: keyed by weights, texts, prompt and precision; fp32 keys as in earlier versions."""

from __future__ import annotations

import hashlib

import numpy as np

from hybridbatch.models.embedding_cache import cache_file, encode_cached, model_cache, model_fingerprint

TEXTS = ["Where is the tower?", "Wo ist der Turm?"]


def test_fp32_key_is_the_one_of_earlier_versions(tmp_path):
    key = hashlib.sha256("\0".join(["f" * 32, "xquad-r", "queries", "query: ", *TEXTS]).encode()).hexdigest()
    expected = tmp_path / ("f" * 16) / f"xquad-r-queries-{key[:20]}.npy"
    assert cache_file(tmp_path, "f" * 32, "xquad-r", "query", "query: ", TEXTS, "fp32") == expected
    int8 = cache_file(tmp_path, "f" * 32, "xquad-r", "query", "query: ", TEXTS, "int8")
    assert int8 != expected and int8.name.startswith("xquad-r-queries-int8-")


def test_hits_per_precision(tiny_model, tmp_path):
    cache = model_cache(tiny_model, tmp_path)
    first = encode_cached(tiny_model, TEXTS, "passage", "toy", cache)
    assert len(list(tmp_path.rglob("*.npy"))) == 1
    np.testing.assert_array_equal(encode_cached(tiny_model, TEXTS, "passage", "toy", cache), first)
    assert len(list(tmp_path.rglob("*.npy"))) == 1
    int8 = encode_cached(tiny_model, TEXTS, "passage", "toy", cache, precision="int8")
    assert len(list(tmp_path.rglob("*.npy"))) == 2 and not np.array_equal(int8, first)
    (file,) = [f for f in tmp_path.rglob("*.npy") if "int8" not in f.name]
    np.save(file, np.zeros_like(first))  # a cache hit returns the stored vectors, not re-encoded ones
    assert not encode_cached(tiny_model, TEXTS, "passage", "toy", cache).any()
    assert file.parent.name == model_fingerprint(tiny_model)[:16]


def test_fingerprint_ignores_the_pooler_head_but_not_pooling(tiny_model):
    import copy

    import torch

    before = model_fingerprint(tiny_model)
    other = copy.deepcopy(tiny_model)
    auto = other[0].auto_model
    auto.pooler = torch.nn.Sequential(torch.nn.Linear(4, 4))  # a (random) pooler head is never used
    assert any(".pooler." in k for k in other.state_dict()) and model_fingerprint(other) == before
    other[1].pooling_mode = "cls"
    assert other[1].get_config_dict()["pooling_mode"] == "cls" and model_fingerprint(other) != before
