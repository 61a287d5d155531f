"""Sources of several kinds with weights: the per-step source draw, bitext X-Y only, invariants."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from tests.sampling.conftest import make_collection

from hybridbatch.data.bitext import bitext_collection
from hybridbatch.errors import ConfigError
from hybridbatch.sampling import SamplerConfig, build_sampler
from hybridbatch.sampling.pools import source_probabilities

LANGS = ("en", "de", "fr", "es", "it", "nl")


def make_bitext(n: int = 40, langs: tuple[str, ...] = LANGS, per_doc: int = 4, cover: int | None = None):
    """``n`` parallel sentences in ``langs``, ``per_doc`` per document; with ``cover`` = c, sentence i
    exists only in c languages (chosen by i), so each language holds few sentences."""
    sentences: dict[str, list[str | None]] = {lang: [] for lang in langs}
    for i in range(n):
        present = {langs[(i + k) % len(langs)] for k in range(cover or len(langs))}
        for lang in langs:
            sentences[lang].append(f"{lang} sentence {i}." if lang in present else None)
    ids = [f"s{i:03d}" for i in range(n)]
    return bitext_collection("bt", ids, sentences, [f"d{i // per_doc}" for i in range(n)])


def _stream(collections, weights=None, steps=400, **settings):
    sampler = build_sampler(SamplerConfig(steps=steps, **settings), collections, weights)
    return sampler, list(sampler)


def test_bitext_batches_are_cross_lingual_and_its_xx_share_goes_to_qa() -> None:
    qa, bitext = make_collection(name="qa"), make_bitext()
    _, batches = _stream([qa, bitext], [0.5, 0.5], batch_size=8, alpha=0.5)
    by_source = Counter((b.source, b.kind) for b in batches)
    assert by_source[("bt", "xx")] == 0 and by_source[("bt", "xy")] > 0
    assert by_source[("qa", "xx")] > 0 and by_source[("qa", "xy")] > 0
    xx = sum(n for (_, kind), n in by_source.items() if kind == "xx")
    assert by_source[("qa", "xx")] == xx  # every X-X step was served by the qa source
    for batch in batches:
        assert len({p.id for p in batch.pairs}) == len(batch.pairs)
        if batch.source == "bt":
            assert all(p.query_lang != p.passage_lang for p in batch.pairs)
    # the bitext's share: its weight on X-Y steps only (0.5 · P(xy) ≈ 0.25 of all steps)
    assert 0.18 < sum(b.source == "bt" for b in batches) / len(batches) < 0.32


def test_weights_set_the_share_of_steps() -> None:
    big, small = make_collection(n_ids=200, name="big"), make_collection(n_ids=20, name="small")
    _, by_size = _stream([big, small], steps=600, batch_size=4)
    _, weighted = _stream([big, small], [1.0, 3.0], steps=600, batch_size=4)
    assert sum(b.source == "small" for b in by_size) < 0.2 * 600  # size-proportional: ~1/11
    assert 0.68 < sum(b.source == "small" for b in weighted) / 600 < 0.82  # weights 1:3 -> 0.75


def test_partial_weights_leave_the_rest_to_the_others_by_size() -> None:
    a, b, c = (make_collection(n_ids=n, name=f"c{n}") for n in (30, 60, 90))
    sampler = build_sampler(SamplerConfig(batch_size=4), [a, b, c], [0.4, None, None])
    assert np.allclose(sampler.source_shares, [0.4, 0.6 * 60 / 150, 0.6 * 90 / 150])
    with pytest.raises(ConfigError, match="source weights sum to 1, leaving nothing"):
        build_sampler(SamplerConfig(batch_size=4), [a, b, c], [0.5, 0.5, None])


def test_one_source_draws_the_same_with_or_without_a_weight() -> None:
    qa = make_collection()
    _, plain = _stream([qa], steps=50, batch_size=8, hard_negatives=1)
    _, weighted = _stream([qa], [0.3], steps=50, batch_size=8, hard_negatives=1)
    assert [b.pairs for b in plain] == [b.pairs for b in weighted]


def test_all_qa_sources_without_weights_draw_as_before() -> None:
    """The size-proportional draw is unchanged: pinned against the probabilities of the old rule."""
    pools = build_sampler(
        SamplerConfig(batch_size=4), [make_collection(name="a"), make_collection(30, name="b")]
    )
    sizes = np.array([pool.size for pool in pools.pools], dtype=np.float64)
    assert np.array_equal(source_probabilities(pools.pools), sizes / sizes.sum())


def test_a_bitext_only_sampler_must_not_draw_xx() -> None:
    with pytest.raises(ConfigError, match="draws X-X batches, which a bitext source cannot give"):
        build_sampler(SamplerConfig(batch_size=4), make_bitext())
    with pytest.raises(ConfigError, match="bitext source cannot give"):
        build_sampler(SamplerConfig(batch_size=4, strategy="en-en"), make_bitext())
    _, batches = _stream([make_bitext()], steps=20, batch_size=8, strategy="xy")
    assert {b.kind for b in batches} == {"xy"}
    _, batches = _stream([make_bitext()], steps=20, batch_size=8, alpha=0.0)  # hybrid with α = 0: X-Y only
    assert {b.kind for b in batches} == {"xy"}


def test_a_sparse_many_language_bitext_is_accepted_where_qa_is_refused() -> None:
    """Each language holds only 2/6 of the 30 sentences (10 ids): below a batch of 16 for X-X, but every
    sentence exists in two languages, so X-Y batches of 16 are fine — and a bitext never draws X-X."""
    bitext = make_bitext(n=30, cover=2)
    assert all(len(bitext.ids_in(lang)) == 10 for lang in LANGS)
    qa = make_collection(n_ids=60, name="qa")
    _, batches = _stream([qa, bitext], steps=100, batch_size=16)
    assert {b.source for b in batches if b.kind == "xy"} == {"qa", "bt"}
    as_qa = bitext.subset(bitext.ids, name="bt-as-qa")
    as_qa.kind = "qa"
    with pytest.raises(ConfigError, match="batch size 16 exceeds the 10 usable ids"):
        build_sampler(SamplerConfig(batch_size=16), [qa, as_qa])


def test_bitext_hard_negatives_are_never_a_translation_of_a_batch_item() -> None:
    bitext = make_bitext(n=24, per_doc=6)
    _, batches = _stream([bitext], steps=200, batch_size=6, strategy="xy", hard_negatives=3)
    assert any(p.negatives for b in batches for p in b.pairs)
    for batch in batches:
        ids = {p.id for p in batch.pairs}
        for pair in batch.pairs:
            pool = bitext.candidates[pair.passage_lang]
            owners = {
                qid for qid, q in bitext.questions[pair.passage_lang].items() if q.answer in pair.negatives
            }
            assert not owners & ids, (batch.step, pair)
            assert all(
                pool[i].paragraph == bitext.answer(pair.id, pair.passage_lang).paragraph
                for i in pair.negatives
            )


def test_resume_refuses_other_kinds_or_weights() -> None:
    qa, bitext = make_collection(name="qa"), make_bitext()
    sampler = build_sampler(SamplerConfig(batch_size=4), [qa, bitext], [0.7, 0.3])
    state = sampler.state_dict(step=5)
    assert state["mix"] == {"qa": ["qa", 0.7], "bt": ["bitext", 0.3]}
    build_sampler(SamplerConfig(batch_size=4), [qa, bitext], [0.7, 0.3]).load_state_dict(state)
    with pytest.raises(ConfigError, match="source kinds or weights changed"):
        build_sampler(SamplerConfig(batch_size=4), [qa, bitext], [0.5, 0.5]).load_state_dict(state)
    plain = build_sampler(SamplerConfig(batch_size=4), qa).state_dict()
    assert "mix" not in plain  # a plain qa run keeps the state layout of older checkpoints


def test_k_languages_of_a_many_language_bitext_are_drawn_without_listing_subsets() -> None:
    """FLORES-200 has 156 training languages: C(156, 2) subsets exceed the listing limit, but every
    sentence exists in every language, so each X-Y step draws its K languages directly."""
    langs = tuple(f"l{i:03d}" for i in range(110))  # C(110, 2) = 5995 > 5000
    bitext = make_bitext(n=20, langs=langs)
    _, batches = _stream([bitext], steps=30, batch_size=8, strategy="xy", languages_per_batch=2)
    spans = [{lang for p in b.pairs for lang in (p.query_lang, p.passage_lang)} for b in batches]
    assert all(len(span) == 2 for span in spans) and len({frozenset(s) for s in spans}) > 20
    sparse = make_bitext(n=20, langs=langs, cover=109)  # no sentence in every language: refused as before
    with pytest.raises(ConfigError, match="more than 5000 language subsets"):
        build_sampler(SamplerConfig(batch_size=8, strategy="xy", languages_per_batch=2), sparse)
