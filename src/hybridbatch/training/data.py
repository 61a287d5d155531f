"""Training data of a run: each source of ``TrainConfig.data`` loaded, restricted to the training
languages and split by parallel id into a training part (for the sampler) and a dev part (periodic
dev evaluation, adaptive α). The split is seeded by ``split_seed``, not the training seed, so runs with
different seeds hold out the same ids. A bitext source is trained on whole (no dev part: its X-X
retrieval would be a sentence finding itself)."""

from __future__ import annotations

from dataclasses import dataclass

from hybridbatch.data import ParallelQACollection
from hybridbatch.data.registry import load_training_source
from hybridbatch.errors import ConfigError
from hybridbatch.training.config import TrainConfig


@dataclass
class TrainingData:
    """Per dataset spec: the training and dev collections (dev may be empty)."""

    specs: list[str]
    train: list[ParallelQACollection]
    dev: list[ParallelQACollection]
    weights: list[float | None] | None = None  # each source's configured share of steps (None: by size)

    @property
    def num_pairs(self) -> int:
        """Training pairs (one per question) over all training collections: the unit of an epoch."""
        return sum(c.num_questions() for c in self.train)

    @property
    def languages(self) -> list[str]:
        """Sorted languages with training questions."""
        return sorted({lang for c in self.train for lang, qs in c.questions.items() if qs})

    def describe(self) -> list[dict[str, object]]:
        """Per dataset: spec, languages, train/dev ids and questions (for the model card)."""
        return [
            {
                "spec": spec,
                "kind": train.kind,
                "languages": train.languages,
                "train_ids": len(train.ids),
                "train_questions": train.num_questions(),
                "dev_ids": len(dev.ids),
                "dev_questions": dev.num_questions(),
            }
            for spec, train, dev in zip(self.specs, self.train, self.dev, strict=True)
        ]


def prepare_data(config: TrainConfig) -> TrainingData:
    """Load, restrict and split every training dataset (DataError/ConfigError name the dataset)."""
    train, dev = [], []
    for spec in config.data:
        collection = load_training_source(spec, config.sampling.languages)
        if config.sampling.languages:
            present = [lang for lang in config.sampling.languages if lang in collection.languages]
            if not present:
                raise ConfigError(
                    f"languages: none of {', '.join(config.sampling.languages)} is in dataset '{spec}' "
                    f"(it has {', '.join(collection.languages)})"
                )
            collection = collection.subset(collection.ids, present, name=collection.name)
        if collection.kind == "bitext":
            part_train, part_dev = collection, collection.subset([], name=f"{collection.name}:dev")
        elif config.dev_fraction > 0:
            part_train, part_dev = collection.split(config.dev_fraction, config.split_seed)
        else:
            part_train = collection.subset(collection.ids, name=f"{collection.name}:train")
            part_dev = collection.subset([], name=f"{collection.name}:dev")
        if not part_train.ids:
            raise ConfigError(f"data: dataset '{spec}' has no training questions left")
        train.append(part_train)
        dev.append(part_dev)
    names = [c.name for c in train]
    if len(set(names)) != len(names):
        raise ConfigError(f"data: two datasets share the name {names!r}; give distinct paths")
    return TrainingData([str(s) for s in config.data], train, dev, [s.weight for s in config.data])
