"""evaluate_model / evaluate: encoding with prompts, each text once, the embedding cache, train languages."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from hybridbatch.data import load_collection
from hybridbatch.evaluation import evaluate, evaluate_model, read_train_languages
from hybridbatch.evaluation.encode import EncodeOptions, candidate_text
from hybridbatch.models.embedding_cache import model_fingerprint

QUIET = EncodeOptions(show_progress=False)


def _cached(cache_dir, **options) -> EncodeOptions:
    return EncodeOptions(show_progress=False, cache_dir=cache_dir, **options)


class StubModel:
    """Encodes a text as a pseudo-random unit vector of its words; records every encode call."""

    max_seq_length = 16

    def __init__(self) -> None:
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self.calls: list[tuple[str | None, list[str]]] = []

    def encode(self, texts, prompt_name=None, batch_size=32, show_progress_bar=False, convert_to_numpy=True):
        self.calls.append((prompt_name, list(texts)))
        out = []
        for text in texts:
            v = np.zeros(16, dtype=np.float32)
            for word in text.lower().split():
                seed = int(hashlib.md5(word.strip("?.¿").encode()).hexdigest()[:8], 16)
                v += np.random.default_rng(seed).standard_normal(16).astype(np.float32)
            out.append(v * 3)  # not normalised: the evaluator must normalise
        return np.stack(out)

    def __repr__(self) -> str:
        return "StubModel()"

    def get_sentence_embedding_dimension(self) -> int:
        return 16

    def state_dict(self) -> dict:
        import torch

        return {"w": torch.ones(3)}


def test_encodes_each_text_once_with_prompts(toy_dir):
    model = StubModel()
    report = evaluate_model(model, str(toy_dir), encoding=QUIET)
    prompts = [p for p, _ in model.calls]
    assert prompts == ["query", "passage"]
    collection = load_collection(str(toy_dir))
    passages = model.calls[1][1]
    assert len(passages) == len(set(passages))  # duplicate sentences encoded once
    assert len(passages) < collection.num_candidates()
    assert model.calls[0][1][0] in {q.text for qs in collection.questions.values() for q in qs.values()}
    assert report.num_candidates == collection.num_candidates() == 22
    assert 0 < report.summary.multi_map <= 1 and report.summary.mono_map is not None
    assert report.seconds >= report.encode_seconds > 0


def test_cache_hit_skips_encoding_and_gives_same_report(toy_dir, tmp_path):
    first_model, second_model = StubModel(), StubModel()
    first = evaluate_model(first_model, str(toy_dir), encoding=_cached(tmp_path / "cache"))
    files = sorted((tmp_path / "cache").rglob("*.npy"))
    assert len(files) == 2
    second = evaluate_model(second_model, str(toy_dir), encoding=_cached(tmp_path / "cache"))
    assert second_model.calls == []
    assert second.summary == first.summary
    # with context the candidate texts differ: a new entry, and the paragraph is part of the text
    third_model = StubModel()
    evaluate_model(third_model, str(toy_dir), encoding=_cached(tmp_path / "cache"), with_context=True)
    assert [p for p, _ in third_model.calls] == ["passage"]  # the questions still hit the cache
    assert "\n" in third_model.calls[0][1][0]
    assert len(sorted((tmp_path / "cache").rglob("*.npy"))) == 3


def test_candidate_text():
    assert candidate_text("A.", "A. B.", False) == "A."
    assert candidate_text("A.", "A. B.", True) == "A.\nA. B."


def test_train_languages_from_model_card(tmp_path):
    (tmp_path / "hybridbatch_training.json").write_text(json.dumps({"train_languages": ["de", "en"]}))
    assert read_train_languages(str(tmp_path)) == ["de", "en"]
    assert read_train_languages(str(tmp_path / "missing")) is None


def test_fingerprint_changes_with_weights(tiny_model):
    import torch

    before = model_fingerprint(tiny_model)
    assert model_fingerprint(tiny_model) == before
    param = next(tiny_model.parameters())
    with torch.no_grad():
        param[0].add_(1.0)
    try:
        assert model_fingerprint(tiny_model) != before
    finally:
        with torch.no_grad():
            param[0].sub_(1.0)


def test_tiny_model_end_to_end(tiny_model, toy_dir, tmp_path):
    report = evaluate(tiny_model, [str(toy_dir)], out=None, encoding=QUIET, train_languages=["en"])
    dataset = report.datasets["toy"]
    assert report.summary == dataset.summary
    assert dataset.summary_seen.mono_map == dataset.languages[1].mono_map  # en is the only seen language
    assert set(report.versions) >= {"torch", "sentence-transformers"}


def test_dev_path_skips_multi_and_keeps_training_mode(tiny_model, toy_dir):
    tiny_model.train()
    try:
        collection = load_collection(str(toy_dir))
        report = evaluate_model(tiny_model, collection, ("mono", "cross"), QUIET)
        assert tiny_model.training  # the trainer's model stays in training mode
    finally:
        tiny_model.eval()
    assert report.summary.multi_map is None and report.summary.cross_map is not None


class Centering:
    """A post-encode transform fitted on the candidates: subtract their mean, renormalise."""

    def __init__(self) -> None:
        self.fitted_on: list[str] = []
        self.calls: list[int] = []

    def fit(self, embeddings, langs):
        self.fitted_on = list(langs)
        self.mean = embeddings.mean(axis=0)

    def __call__(self, embeddings, langs):
        assert len(langs) == len(embeddings)
        self.calls.append(len(embeddings))
        out = embeddings - self.mean
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_transform_after_encoding_and_cache(toy_dir, tmp_path):
    plain = evaluate_model(StubModel(), str(toy_dir), encoding=_cached(tmp_path))
    transform, model = Centering(), StubModel()
    report = evaluate_model(model, str(toy_dir), encoding=_cached(tmp_path), transform=transform)
    assert model.calls == []  # raw vectors came from the cache
    assert len(transform.fitted_on) == report.num_candidates
    assert set(transform.fitted_on) == {"de", "en", "es"}
    assert transform.calls == [report.num_candidates, report.num_queries]
    assert report.summary != plain.summary


def test_int8_precision_is_recorded_and_close(tiny_model, toy_dir, tmp_path):
    fp32 = evaluate_model(tiny_model, str(toy_dir), encoding=_cached(tmp_path))
    int8 = evaluate_model(tiny_model, str(toy_dir), encoding=_cached(tmp_path, precision="int8"))
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    assert len(list(tmp_path.rglob("*-int8-*.npy"))) == 2  # its own cache entries
    assert abs(int8.summary.mono_map - fp32.summary.mono_map) < 0.1
