"""LSAR and centering on synthetic embeddings with a known per-language offset (Xie et al. 2022)."""

from __future__ import annotations

import numpy as np
import pytest

from hybridbatch.errors import ConfigError, DataError
from hybridbatch.neutrality import LanguageMap, fit
from hybridbatch.neutrality.projection import normalize

DIM, LANGS, PER_LANG = 24, ["de", "en", "es", "zh"], 200


def synthetic(seed: int = 0, offset_scale: float = 3.0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Shared meanings plus one random offset per language: ``(lang -> rows, offsets)``."""
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((PER_LANG, DIM))
    offsets = rng.standard_normal((len(LANGS), DIM)) * offset_scale
    by_lang = {
        lang: meaning + offsets[i] + 0.05 * rng.standard_normal((PER_LANG, DIM))
        for i, lang in enumerate(LANGS)
    }
    return {k: v.astype(np.float32) for k, v in by_lang.items()}, offsets


def test_lsar_removes_the_language_mean_directions_exactly() -> None:
    by_lang, _ = synthetic()
    lmap = fit(by_lang, "lsar")
    assert lmap.rank == len(LANGS) - 1
    centred = lmap.means - lmap.means.mean(axis=0)
    # every centred language mean lies in the removed subspace: its projection is zero
    np.testing.assert_allclose(lmap.project(centred), 0.0, atol=1e-5)
    # after projection the per-language means of the unit embeddings coincide
    projected = [lmap.project(normalize(by_lang[lang])).mean(axis=0) for lang in LANGS]
    spread = np.ptp(np.stack(projected), axis=0).max()
    before = np.ptp(lmap.means, axis=0).max()
    assert spread < 1e-5 < before
    # the offset made languages separable; after LSAR the same meaning across languages is closest
    out = {lang: lmap.apply(by_lang[lang]) for lang in LANGS}
    cross = (out["de"] * out["zh"]).sum(axis=1).mean()
    raw = (normalize(by_lang["de"]) * normalize(by_lang["zh"])).sum(axis=1).mean()
    assert cross > 0.99 > raw


def test_projection_is_idempotent_and_orthogonal() -> None:
    lmap = fit(synthetic()[0], "lsar", rank=2)
    p = lmap.projection_matrix()
    np.testing.assert_allclose(p @ p, p, atol=1e-6)
    np.testing.assert_allclose(p, p.T, atol=1e-12)
    x = normalize(np.random.default_rng(1).standard_normal((10, DIM)).astype(np.float32))
    once = lmap.apply(x)
    np.testing.assert_allclose(lmap.apply(once), once, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(once, axis=1), 1.0, atol=1e-6)


def test_center_subtracts_each_language_mean_and_falls_back_without_one() -> None:
    by_lang, _ = synthetic()
    lmap = fit(by_lang, "center")
    x = normalize(by_lang["es"][:5])
    expected = normalize(x - lmap.means[LANGS.index("es")])
    np.testing.assert_allclose(lmap.apply(x, "es"), expected, atol=1e-6)
    # the fallback P(x − μ̄) equals P(x − μ_l) for every fitted language l
    fallback = lmap.apply(x, None)
    for i in range(len(LANGS)):
        np.testing.assert_allclose(fallback, normalize(lmap.project(x - lmap.means[i])), atol=1e-5)
    np.testing.assert_allclose(lmap.apply(x, ["xx"] * 5), fallback, atol=1e-6)


def test_round_trip_through_save_and_load(tmp_path) -> None:
    lmap = fit(synthetic()[0], "lsar", rank=2, source="toy")
    lmap.save(tmp_path)
    back = LanguageMap.load(tmp_path)
    assert (back.method, back.languages, back.rank, back.source) == ("lsar", LANGS, 2, "toy")
    x = np.random.default_rng(2).standard_normal((4, DIM)).astype(np.float32)
    np.testing.assert_array_equal(back.apply(x), lmap.apply(x))


def test_bad_inputs_are_one_line_errors(tmp_path) -> None:
    by_lang, _ = synthetic()
    with pytest.raises(DataError, match="at least 2 languages"):
        fit({"en": by_lang["en"]}, "lsar", source="one.jsonl")
    with pytest.raises(ConfigError, match="--rank must be between 1 and 3"):
        fit(by_lang, "lsar", rank=4)
    with pytest.raises(ConfigError, match="unknown method"):
        fit(by_lang, "pca")
    with pytest.raises(DataError, match="unreadable neutralization map"):
        LanguageMap.load(tmp_path)
