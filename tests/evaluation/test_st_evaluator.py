"""The sentence-transformers evaluator: direct call and as a trainer callback."""

from __future__ import annotations

import copy
import json

from hybridbatch.data import load_collection
from hybridbatch.evaluation.st_evaluator import LAReQAEvaluator


def test_direct_call_returns_prefixed_metrics(tiny_model, toy_dir, tmp_path):
    evaluator = LAReQAEvaluator(load_collection(str(toy_dir)), name="toy")
    metrics = evaluator(tiny_model, output_path=str(tmp_path))
    assert evaluator.primary_metric == "toy_multi_map"
    assert metrics["toy_multi_map"] == evaluator.last_report.summary.multi_map
    assert {"toy_mono_map", "toy_cross_map", "toy_rank_distance", "toy_multi_r10"} <= set(metrics)
    assert json.loads((tmp_path / "toy_report.json").read_text())["dataset"] == "toy"
    dev = LAReQAEvaluator(load_collection(str(toy_dir)), settings=("mono", "cross"), name="dev")
    assert "dev_multi_map" not in dev(tiny_model) and dev.primary_metric == "dev_main_score"


def test_called_back_by_the_trainer(tiny_model, toy_dir, tmp_path):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    collection = load_collection(str(toy_dir))
    pairs = [(q.text, collection.answer(q.id, "en").text) for q in collection.questions["en"].values()]
    train = Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]})
    model = copy.deepcopy(tiny_model)  # training must not change the shared session fixture
    calls = []

    class Spy(LAReQAEvaluator):
        def __call__(self, model, *args, **kwargs):
            calls.append(model)
            return super().__call__(model, *args, **kwargs)

    evaluator = Spy(collection, name="toy")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=4,
        eval_strategy="steps",
        eval_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        logging_steps=1,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train,
        loss=MultipleNegativesRankingLoss(model),
        evaluator=evaluator,
    )
    trainer.train()
    assert len(calls) == 2 and calls[0] is model
    logged = [entry for entry in trainer.state.log_history if "eval_toy_multi_map" in entry]
    assert len(logged) == 2 and 0 < logged[-1]["eval_toy_multi_map"] <= 1
