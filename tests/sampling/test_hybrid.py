"""Properties of the batch stream: proportions, dedup, languages, K, determinism, resume."""

from __future__ import annotations

from collections import Counter

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import SamplerConfig, answer_groups, build_sampler

from .conftest import make_collection


def sample(collections, steps: int = 300, **settings):
    return list(build_sampler(SamplerConfig(steps=steps, **settings), collections))


def test_hybrid_xx_share_follows_alpha(synth):
    for alpha in (0.2, 0.7):
        batches = sample(synth, steps=2000, alpha=alpha, batch_size=8)
        share = sum(b.kind == "xx" for b in batches) / len(batches)
        assert abs(share - alpha) < 0.035, (alpha, share)
        assert {b.alpha for b in batches} == {alpha}


def test_xx_batches_are_monolingual_with_uniform_language(synth):
    batches = sample(synth, steps=800, strategy="xx", batch_size=10)
    assert {b.kind for b in batches} == {"xx"}
    for b in batches:
        assert len(b.pairs) == 10
        assert all(p.query_lang == p.passage_lang == b.language for p in b.pairs)
    counts = Counter(b.language for b in batches)
    assert set(counts) == {"de", "en", "es", "fr"}
    assert min(counts.values()) > 800 / 4 * 0.8


def test_xy_pairs_are_cross_lingual_and_exist():
    collection = make_collection(n_ids=80, langs=("en", "de", "es", "fr", "it"), coverage=3)
    batches = sample(collection, strategy="xy", batch_size=12)
    pair_langs = Counter()
    for b in batches:
        assert b.kind == "xy" and b.language is None
        for p in b.pairs:
            assert p.query_lang != p.passage_lang
            assert {p.query_lang, p.passage_lang} <= set(collection.languages_of(p.id))
            pair_langs[p.query_lang, p.passage_lang] += 1
    # every id has 3 languages: each ordered pair of them is drawn, in both directions
    assert pair_langs["en", "de"] > 0 and pair_langs["de", "en"] > 0


def test_no_duplicate_id_or_positive(synth):
    for strategy in ("hybrid", "xx", "xy", "en-en"):
        for b in sample(synth, strategy=strategy, batch_size=len(synth.ids) // 2):
            assert len({p.id for p in b.pairs}) == len(b.pairs)
            positives = [(p.passage_lang, synth.question(p.id, p.passage_lang).answer) for p in b.pairs]
            assert len(set(positives)) == len(positives)


def test_ids_sharing_an_answer_never_share_a_batch():
    # q001 is answered by q000's sentence in German only; they must not meet in English batches either.
    collection = make_collection(n_ids=12, langs=("en", "de"), shared=((0, 1, "de"),))
    groups = answer_groups(collection)
    assert groups["q000"] == groups["q001"] and len(set(groups.values())) == 11
    for b in sample(collection, steps=400, batch_size=11):
        ids = {p.id for p in b.pairs}
        assert not {"q000", "q001"} <= ids
    with pytest.raises(ConfigError, match="11 usable ids"):
        build_sampler(SamplerConfig(batch_size=12), collection)


def test_mlqa_batches_have_distinct_ids_positives_and_answer_groups(mlqa):
    groups = answer_groups(mlqa)
    assert max(Counter(groups.values()).values()) >= 2  # MLQA-R has questions sharing an answer
    for b in sample(mlqa, steps=300, batch_size=64, hard_negatives=1):
        assert len({p.id for p in b.pairs}) == len(b.pairs)
        assert len({groups[p.id] for p in b.pairs}) == len(b.pairs)
        texts = [mlqa.answer(p.id, p.passage_lang).text for p in b.pairs]
        assert len(set(zip([p.passage_lang for p in b.pairs], texts, strict=True))) == len(b.pairs)
        if b.kind == "xy":
            assert all(p.query_lang != p.passage_lang for p in b.pairs)


def test_training_languages_restrict_every_pair(synth):
    for b in sample(synth, languages=["de", "fr"], batch_size=8):
        assert all({p.query_lang, p.passage_lang} <= {"de", "fr"} for p in b.pairs)


def test_languages_per_batch_limits_xy_languages():
    collection = make_collection(n_ids=60, langs=("en", "de", "es", "fr", "it"))
    seen = set()
    for b in sample(collection, strategy="xy", languages_per_batch=2, batch_size=8):
        langs = {lang for p in b.pairs for lang in (p.query_lang, p.passage_lang)}
        assert len(langs) == 2
        seen.add(frozenset(langs))
    assert len(seen) == 10  # all C(5, 2) subsets get drawn


def test_languages_per_batch_skips_subsets_too_small_for_a_batch():
    # ids exist in en + 1 other language: a {de, es} batch has no ids at all.
    collection = make_collection(n_ids=60, langs=("en", "de", "es", "fr"), coverage=2)
    for b in sample(collection, strategy="xy", languages_per_batch=2, batch_size=8):
        assert "en" in {lang for p in b.pairs for lang in (p.query_lang, p.passage_lang)}


def test_en_en_is_english_only(synth):
    batches = sample(synth, strategy="en-en", batch_size=8, steps=50)
    assert all(b.kind == "en-en" and b.language == "en" for b in batches)
    assert all(p.query_lang == p.passage_lang == "en" for b in batches for p in b.pairs)


def test_sources_drawn_in_proportion_to_size():
    big = make_collection(n_ids=90, name="big")
    small = make_collection(n_ids=30, name="small")
    batches = sample([big, small], steps=2000, batch_size=8)
    share = sum(b.source == "big" for b in batches) / len(batches)
    assert abs(share - 0.75) < 0.035
    for b in batches:
        collection = big if b.source == "big" else small
        assert all(p.id in collection.ids for p in b.pairs)


def test_same_name_sources_are_told_apart(synth):
    sampler = build_sampler(SamplerConfig(batch_size=4), [synth, make_collection(name="synth")])
    assert list(sampler.sources) == ["synth", "synth#2"]


def test_stream_is_deterministic_per_seed(synth):
    a = [b.to_json() for b in sample(synth, steps=50, batch_size=8, seed=3)]
    b = [b.to_json() for b in sample(synth, steps=50, batch_size=8, seed=3)]
    c = [b.to_json() for b in sample(synth, steps=50, batch_size=8, seed=4)]
    assert a == b and a != c


def test_batch_at_is_a_pure_function_of_the_step(synth):
    sampler = build_sampler(SamplerConfig(batch_size=8, steps=20), synth)
    stream = list(sampler)
    fresh = build_sampler(SamplerConfig(batch_size=8), synth)
    assert [fresh.batch_at(s) for s in (13, 2, 19)] == [stream[13], stream[2], stream[19]]


@pytest.mark.parametrize("schedule", ["constant", "cosine", "adaptive"])
def test_resume_from_state_reproduces_the_stream(synth, schedule):
    config = SamplerConfig(
        batch_size=8, steps=40, schedule=schedule, alpha=0.3, alpha_end=0.9, hard_negatives=1
    )

    def run(stop_at: int | None):
        sampler = build_sampler(config, synth)
        out = []
        for batch in sampler:
            out.append(batch)
            if batch.step == 9 and schedule == "adaptive":
                sampler.schedule.observe(10, mono_score=0.2, cross_score=0.6)
            if stop_at is not None and batch.step + 1 == stop_at:
                return out, sampler.state_dict()
        return out, None

    uninterrupted, _ = run(None)
    head, state = run(15)
    resumed = build_sampler(config, synth)
    resumed.load_state_dict(state)
    assert head + list(resumed) == uninterrupted
    if schedule == "adaptive":
        assert uninterrupted[9].alpha == 0.3 and uninterrupted[10].alpha > 0.3


def test_resume_refuses_changed_settings(synth):
    state = build_sampler(SamplerConfig(batch_size=8, seed=1), synth).state_dict()
    other = build_sampler(SamplerConfig(batch_size=8, seed=2), synth)
    with pytest.raises(ConfigError, match="seed"):
        other.load_state_dict(state)
    longer = build_sampler(SamplerConfig(batch_size=8, seed=1, steps=99), synth)
    longer.load_state_dict(state)  # the stream's length may change
    with pytest.raises(ConfigError, match="training data changed"):
        build_sampler(SamplerConfig(batch_size=8, seed=1), make_collection(n_ids=50)).load_state_dict(state)


def test_hard_negatives_come_from_the_positive_paragraph(synth):
    for b in sample(synth, steps=100, batch_size=10, hard_negatives=2):
        positives = {(p.passage_lang, synth.question(p.id, p.passage_lang).answer) for p in b.pairs}
        for p in b.pairs:
            assert len(p.negatives) == 2
            paragraph = synth.hard_negatives(p.id, p.passage_lang)
            assert set(p.negatives) <= set(paragraph)
            assert not {(p.passage_lang, n) for n in p.negatives} & positives
        assert "negatives" in b.to_json()["pairs"][0]


def test_hard_negatives_never_repeat_another_pairs_positive(toy_dir):
    # In the toy data, q2's paragraph holds "The tower is in Paris.", which is q1's positive.
    from hybridbatch.data import load_lareqa

    toy = load_lareqa(toy_dir)
    for b in sample(toy, steps=60, strategy="xx", batch_size=3, hard_negatives=3):
        positive_texts = {(p.passage_lang, toy.answer(p.id, p.passage_lang).text) for p in b.pairs}
        for p in b.pairs:
            for n in p.negatives:
                assert (p.passage_lang, toy.candidates[p.passage_lang][n].text) not in positive_texts


def test_query_negatives_come_from_the_query_language_paragraph(synth):
    for b in sample(synth, steps=100, batch_size=10, hard_negatives=2, hard_negatives_from="query"):
        answers = {
            (lang, synth.question(p.id, lang).answer)
            for p in b.pairs
            for lang in synth.languages
            if p.id in synth.questions[lang]
        }
        for p in b.pairs:
            if p.query_lang == p.passage_lang:  # X-X: the positive's own paragraph, as before
                assert len(p.negatives) == 2 and not p.query_negatives
                continue
            assert not p.negatives and len(p.query_negatives) == 2
            assert set(p.query_negatives) <= set(synth.hard_negatives(p.id, p.query_lang))
            # no answer of any of the batch's ids in that language: each is relevant to some query
            assert not {(p.query_lang, n) for n in p.query_negatives} & answers
        if b.kind == "xy":
            assert "query_negatives" in b.to_json()["pairs"][0]


def test_both_keeps_the_passage_negatives_of_the_default_stream(synth):
    plain = sample(synth, steps=60, batch_size=10, hard_negatives=1)
    both = sample(synth, steps=60, batch_size=10, hard_negatives=1, hard_negatives_from="both")
    assert [[p.negatives for p in b.pairs] for b in plain] == [[p.negatives for p in b.pairs] for b in both]
    assert any(p.query_negatives for b in both for p in b.pairs if b.kind == "xy")
