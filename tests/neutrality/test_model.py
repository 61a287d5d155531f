"""``neutralize``: the fitted map baked into a plain sentence-transformers model that round-trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridbatch.errors import DataError
from hybridbatch.models.encoding import encode
from hybridbatch.neutrality.model import neutralize_model

TEXTS = ["Der Turm ist in Paris.", "La torre está en París.", "The tower is in Paris.", "Anna wrote it."]


def test_neutralized_model_applies_the_map_with_plain_sentence_transformers(tiny_model, toy_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    out, lmap, missing = neutralize_model("builtin:tiny", str(toy_dir), "lsar", tmp_path / "m", rank=2)
    assert (lmap.languages, lmap.rank, missing) == (["de", "en", "es"], 2, [])
    loaded = SentenceTransformer(str(out), device="cpu")
    assert [type(m).__name__ for m in loaded][-2:] == ["Dense", "Normalize"]
    got = loaded.encode(TEXTS, prompt_name="passage", convert_to_numpy=True)
    expected = lmap.apply(encode(tiny_model, TEXTS, "passage"))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    record = json.loads((out / "hybridbatch_training.json").read_text())
    assert record["neutralization"]["languages"] == ["de", "en", "es"]
    assert record["neutralization"]["rank"] == 2
    assert "lsar" in (out / "README.md").read_text()


def test_center_model_uses_the_language_free_fallback(tiny_model, toy_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    out, lmap, _ = neutralize_model("builtin:tiny", str(toy_dir), "center", tmp_path / "c")
    got = SentenceTransformer(str(out), device="cpu").encode(TEXTS, prompt_name="query")
    expected = lmap.apply(encode(tiny_model, TEXTS, "query"), None)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_fit_source_with_one_language_or_without_languages_is_an_error(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(
        "\n".join(json.dumps({"id": str(i), "text": t, "lang": "en"}) for i, t in enumerate(TEXTS))
    )
    with pytest.raises(DataError, match="at least 2 languages, found 1"):
        neutralize_model("builtin:tiny", str(one), "lsar", tmp_path / "x")
    nolang = tmp_path / "nolang.jsonl"
    nolang.write_text(
        json.dumps({"id": "a", "text": "x"}) + "\n" + json.dumps({"id": "b", "text": "y", "lang": "de"})
    )
    with pytest.raises(DataError, match="no 'lang' field"):
        neutralize_model("builtin:tiny", str(nolang), "lsar", tmp_path / "y")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
