"""Impossible settings raise ConfigError with a message naming what to change."""

from __future__ import annotations

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import SamplerConfig, build_sampler

from .conftest import make_collection


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strategy": "zigzag"}, "unknown sampler 'zigzag'"),
        ({"schedule": "wavy"}, "unknown alpha schedule"),
        ({"alpha": 1.2}, r"alpha must be in \[0, 1\]"),
        ({"alpha": -0.1}, "alpha must be in"),
        ({"languages_per_batch": 1}, "languages per batch must be >= 2"),
        ({"batch_size": 0}, "batch size must be >= 1"),
        ({"hard_negatives": -1}, "hard negatives"),
        ({"hard_negatives_from": "query"}, "needs hard_negatives >= 1"),
        ({"hard_negatives_from": "doc", "hard_negatives": 1}, "hard_negatives_from"),
        ({"schedule": "linear"}, "alpha_end"),
        ({"schedule": "cosine", "alpha_end": 0.2}, "schedule_steps or steps"),
        ({"languages": []}, "languages must not be empty"),
    ],
)
def test_invalid_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        SamplerConfig(**settings)


def test_aliases_and_from_dict():
    assert SamplerConfig(strategy="X-Y").strategy == "xy"
    assert SamplerConfig.from_dict({"strategy": "En-En", "alpha": 0.4}).strategy == "en-en"
    with pytest.raises(ConfigError, match="batchsize"):
        SamplerConfig.from_dict({"batchsize": 3})
    with pytest.raises(ConfigError, match="batch_size"):
        SamplerConfig.from_dict({"batch_size": "many"})


def test_batch_larger_than_a_language_names_it():
    collection = make_collection(n_ids=40, langs=("en", "de", "sw"), coverage=2)  # de, sw: 20 ids each
    with pytest.raises(ConfigError, match="batch size 30 exceeds the 20 usable ids of language 'sw'"):
        build_sampler(SamplerConfig(batch_size=30, languages=["en", "sw"]), collection)
    build_sampler(SamplerConfig(batch_size=20, languages=["en", "sw"]), collection)
    build_sampler(SamplerConfig(batch_size=30, strategy="xy"), collection)  # no X-X batches: fine


def test_en_en_without_english():
    collection = make_collection(langs=("de", "es"))
    with pytest.raises(ConfigError, match="en-en needs English"):
        build_sampler(SamplerConfig(strategy="en-en", batch_size=4), collection)


def test_unknown_training_language():
    with pytest.raises(ConfigError, match="languages xx not in the training data"):
        build_sampler(SamplerConfig(languages=["en", "xx"]), make_collection())


def test_xy_needs_two_languages():
    with pytest.raises(ConfigError, match="at least 2 training languages"):
        build_sampler(SamplerConfig(languages=["en"], batch_size=4), make_collection())
    build_sampler(SamplerConfig(languages=["en"], strategy="xx", batch_size=4), make_collection())


def test_languages_per_batch_larger_than_languages():
    with pytest.raises(ConfigError, match="languages per batch 5 exceeds the 4"):
        build_sampler(SamplerConfig(languages_per_batch=5, batch_size=4), make_collection())


def test_no_language_subset_can_fill_a_batch():
    collection = make_collection(n_ids=30, langs=("en", "de", "es", "fr"), coverage=2)  # 10 ids per pair
    with pytest.raises(ConfigError, match="no 2 languages of synth share 12 ids"):
        build_sampler(SamplerConfig(strategy="xy", languages_per_batch=2, batch_size=12), collection)
