"""A sentence-transformers evaluator that runs the LAReQA settings during training.

``LAReQAEvaluator(collection)`` can be passed as ``evaluator=`` to a ``SentenceTransformerTrainer``:
at each evaluation it encodes the collection with the model being trained and returns the summary
metrics (``<name>_mono_map``, ``<name>_multi_map``, ...). The primary metric is ``multi_map`` (or
``main_score`` when Multi is not among the settings); higher is better.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.evaluation.encode import EncodeOptions
from hybridbatch.evaluation.evaluate import evaluate_model
from hybridbatch.evaluation.lareqa import check_settings
from hybridbatch.evaluation.results import SETTINGS, DatasetReport
from hybridbatch.io import atomic_write_text

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class LAReQAEvaluator(BaseEvaluator):
    """Mono / Cross / Multi mAP and rank distance of the model on ``collection``.

    Args:
        collection: the evaluation collection (e.g. a dev split).
        settings: which settings to run (all three share one ranking pass).
        name: prefix of the metric names.
        batch_size: encoding batch size.
        show_progress: show encoding progress bars.
        train_languages: languages seen in training (adds seen/unseen summaries to the report).
    """

    def __init__(
        self,
        collection: ParallelQACollection,
        settings: Sequence[str] = SETTINGS,
        name: str = "lareqa",
        batch_size: int = 64,
        show_progress: bool = False,
        train_languages: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        self.collection = collection
        self.settings = check_settings(settings)
        self.name = name
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.train_languages = list(train_languages) if train_languages is not None else None
        self.primary_metric = "multi_map" if "multi" in self.settings else "main_score"
        self.last_report: DatasetReport | None = None

    def __call__(
        self,
        model: SentenceTransformer,
        output_path: str | None = None,
        epoch: int = -1,
        steps: int = -1,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, float]:
        """Evaluate ``model``; write ``<name>_report.json`` into ``output_path`` when given."""
        report = evaluate_model(
            model,
            self.collection,
            settings=self.settings,
            encoding=EncodeOptions(batch_size=self.batch_size, show_progress=self.show_progress),
            train_languages=self.train_languages,
        )
        self.last_report = report
        if output_path is not None:
            atomic_write_text(
                Path(output_path) / f"{self.name}_report.json", report.model_dump_json(indent=2)
            )
        values = {k: v for k, v in report.summary.model_dump().items() if v is not None}
        metrics = self.prefix_name_to_metrics(values, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def get_config_dict(self) -> dict[str, Any]:
        """Configuration shown in the model card."""
        return {"settings": list(self.settings), "dataset": self.collection.name}
