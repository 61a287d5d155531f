"""Our batch stream inside sentence-transformers' own trainer."""

from __future__ import annotations

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import SamplerConfig, build_sampler

st = pytest.importorskip("sentence_transformers")
from hybridbatch.sampling.st import HybridSTBatchSampler, st_batch_sampler, st_rows, to_st_dataset  # noqa: E402


def test_dataset_rows_cover_every_pair(toy_dir):
    from hybridbatch.data import load_lareqa

    toy = load_lareqa(toy_dir)
    sampler = build_sampler(SamplerConfig(batch_size=2), toy)
    dataset = to_st_dataset(sampler)
    assert dataset.column_names == ["anchor", "positive"]
    assert len(dataset) == sum(len(toy.languages_of(i)) ** 2 for i in toy.ids) == len(st_rows(sampler))
    row = st_rows(sampler).index((toy.name, "q1", "de", "es"))
    assert dataset[row] == {"anchor": "Wo ist der Turm?", "positive": "La torre está en París."}


def test_batch_sampler_yields_our_batches_per_epoch(mlqa):
    sampler = build_sampler(SamplerConfig(batch_size=8, seed=5), mlqa)
    dataset = to_st_dataset(sampler)
    batches = st_batch_sampler(sampler, steps_per_epoch=4)(dataset, 8, False)
    assert isinstance(batches, HybridSTBatchSampler) and len(batches) == 4
    batches.set_epoch(1)
    rows = list(batches)
    for step, indices in zip(range(4, 8), rows, strict=True):
        ours = sampler.batch_at(step)
        expected = [mlqa.question(p.id, p.query_lang).text for p in ours.pairs]
        assert [dataset[i]["anchor"] for i in indices] == expected
    with pytest.raises(ConfigError, match="batch_size 8"):
        st_batch_sampler(sampler)(dataset, 16, False)


@pytest.mark.real_model
def test_sentence_transformer_trainer_trains_on_our_batches(mlqa, tiny_model, tmp_path):
    """A 3-step SentenceTransformerTrainer run: the loss receives exactly our batches' questions."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    seen: list[list[int]] = []

    class RecordingLoss(MultipleNegativesRankingLoss):
        def forward(self, sentence_features, labels):
            seen.append(sentence_features[0]["input_ids"].tolist())
            return super().forward(sentence_features, labels)

    sampler = build_sampler(SamplerConfig(strategy="hybrid", batch_size=4, seed=1), mlqa)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "st"),
        max_steps=3,
        per_device_train_batch_size=4,
        batch_sampler=st_batch_sampler(sampler),
        learning_rate=1e-4,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=0,
    )
    trainer = SentenceTransformerTrainer(
        model=tiny_model, args=args, train_dataset=to_st_dataset(sampler), loss=RecordingLoss(tiny_model)
    )
    trainer.train()
    assert len(seen) == 3
    for step, received in enumerate(seen):
        anchors = [mlqa.question(p.id, p.query_lang).text for p in sampler.batch_at(step).pairs]
        assert received == tiny_model.tokenize(anchors)["input_ids"].tolist()


def test_batch_sampler_pickles(synth):
    import pickle

    sampler = build_sampler(SamplerConfig(strategy="hybrid", batch_size=4, seed=2), synth)
    factory = pickle.loads(pickle.dumps(st_batch_sampler(sampler, steps_per_epoch=3)))
    batches = factory(to_st_dataset(sampler), 4, False)
    assert isinstance(batches, HybridSTBatchSampler) and len(batches) == 3
    assert [list(b) for b in batches] == [
        list(b) for b in st_batch_sampler(sampler, 3)(to_st_dataset(sampler), 4, False)
    ]


def test_trainer_checkpoints_and_resumes_on_our_batches(synth, tiny_model, tmp_path):
    """save_strategy="steps" writes checkpoints (the trainer pickles its arguments, batch_sampler
    included); resuming from step 2 replays exactly the batches of steps 3 and 4."""
    import copy

    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    sampler = build_sampler(SamplerConfig(strategy="hybrid", batch_size=4, seed=1), synth)
    out = tmp_path / "st"

    def train(resume: str | None = None) -> list[list[int]]:
        model = copy.deepcopy(tiny_model)
        seen: list[list[int]] = []

        class RecordingLoss(MultipleNegativesRankingLoss):
            def forward(self, sentence_features, labels):
                seen.append(sentence_features[0]["input_ids"].tolist())
                return super().forward(sentence_features, labels)

        args = SentenceTransformerTrainingArguments(
            output_dir=str(out),
            max_steps=4,
            per_device_train_batch_size=4,
            batch_sampler=st_batch_sampler(sampler),
            learning_rate=1e-4,
            save_strategy="steps",
            save_steps=2,
            report_to=[],
            use_cpu=True,
            seed=0,
        )
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=to_st_dataset(sampler), loss=RecordingLoss(model)
        )
        trainer.train(resume_from_checkpoint=resume)
        return seen

    full = train()
    assert len(full) == 4
    for step in (2, 4):
        assert (out / f"checkpoint-{step}" / "trainer_state.json").is_file()
        assert (out / f"checkpoint-{step}" / "training_args.bin").is_file()
    assert train(resume=str(out / "checkpoint-2")) == full[2:]
