"""Index-time neutralization: fitted on the indexed corpus, stored in the index, applied to queries."""

from __future__ import annotations

import numpy as np
import pytest

from hybridbatch.errors import DataError
from hybridbatch.models.encoding import encode
from hybridbatch.search.corpus import Document
from hybridbatch.search.index import DenseIndex

DOCS = [
    Document("d1", "Der Turm ist in Paris.", "de"),
    Document("d2", "Er ist hoch.", "de"),
    Document("e1", "The tower is in Paris.", "en"),
    Document("e2", "It is tall.", "en"),
    Document("s1", "La torre está en París.", "es"),
    Document("s2", "Es alta.", "es"),
]


@pytest.mark.parametrize("method", ["lsar", "center"])
def test_index_stores_the_corpus_map_and_applies_it_to_queries(tiny_model, tmp_path, method):
    index = DenseIndex.build(tiny_model, DOCS, neutralize=method)
    lmap = index.neutralizer
    assert lmap.languages == ["de", "en", "es"] and index.info.neutralize["method"] == method
    raw = encode(tiny_model, [d.text for d in DOCS], "passage")
    stored = index.index.reconstruct_n(0, len(DOCS))
    np.testing.assert_allclose(stored, lmap.apply(raw, [d.lang for d in DOCS]), atol=1e-6)
    index.save(tmp_path / "ix")
    back = DenseIndex.load(tmp_path / "ix", model=tiny_model)
    assert back.neutralizer is not None and back.neutralizer.method == method
    assert sorted(back.info.files) == ["documents.jsonl", "index.faiss", "neutralize.json", "neutralize.npz"]
    queries = ["Wo ist der Turm?", "Where is the tower?"]
    q = encode(tiny_model, queries, "query")
    for query_lang in (None, "de"):
        got = back.encode_queries(queries, query_lang=query_lang)
        np.testing.assert_allclose(got, lmap.apply(q, query_lang), atol=1e-6)
        hits = back.search(queries, k=3, query_lang=query_lang)
        best = [DOCS[int(np.argmax(stored @ v))].id for v in got]
        assert [h[0].id for h in hits] == best
    mixed = back.encode_queries(queries, query_lang=["de", None])  # one language per row (serve batches)
    np.testing.assert_allclose(mixed[0], back.encode_queries(queries[:1], query_lang="de")[0], atol=1e-6)
    np.testing.assert_allclose(mixed[1], back.encode_queries(queries[1:])[0], atol=1e-6)
    if method == "center":  # the query language changes the query vector, the fallback is shared
        assert not np.allclose(back.encode_queries(queries, query_lang="de"), back.encode_queries(queries))


def test_plain_index_is_unchanged_and_bad_corpora_are_errors(tiny_model):
    plain = DenseIndex.build(tiny_model, DOCS)
    assert plain.neutralizer is None and plain.info.neutralize is None
    with pytest.raises(DataError, match="have no language"):
        DenseIndex.build(tiny_model, [*DOCS, Document("x", "no language")], neutralize="lsar")
    with pytest.raises(DataError, match="needs at least 2"):
        DenseIndex.build(tiny_model, DOCS[:2], neutralize="center")
