"""Build a :class:`~hybridbatch.sampling.hybrid.BatchSampler` from a :class:`SamplerConfig` and the
training collections, raising :class:`~hybridbatch.errors.ConfigError` for settings the data cannot meet
(batch larger than a language's ids, too few languages for X-Y batches, infeasible K)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import combinations
from math import comb

from hybridbatch.data import ParallelQACollection
from hybridbatch.errors import ConfigError
from hybridbatch.sampling.config import SamplerConfig
from hybridbatch.sampling.hybrid import BatchSampler
from hybridbatch.sampling.pools import SourcePool, source_probabilities

logger = logging.getLogger(__name__)

MAX_ENUMERATED_SUBSETS = 5000


def build_sampler(
    config: SamplerConfig,
    collections: ParallelQACollection | Sequence[ParallelQACollection],
    weights: Sequence[float | None] | None = None,
) -> BatchSampler:
    """A :class:`BatchSampler` over ``collections`` (``weights``: each source's share of steps, None for
    in proportion to its size); ConfigError when the settings cannot be met."""
    if isinstance(collections, ParallelQACollection):
        collections = [collections]
    if not collections:
        raise ConfigError("no training collections given")
    weights = list(weights) if weights is not None else [None] * len(collections)
    _check_languages(config, collections)
    _check_kinds(config, collections)
    pools = [
        SourcePool(name, c, _training_languages(config, c), weight)
        for name, c, weight in zip(_unique_names(collections), collections, weights, strict=True)
    ]
    source_probabilities(pools)  # weights that leave nothing for the unweighted sources are refused here
    subsets = []
    for pool in pools:
        _check_pool(config, pool)
        subsets.append(_language_subsets(config, pool))
    return BatchSampler(config, pools, config.build_schedule(), subsets)


def _unique_names(collections: Sequence[ParallelQACollection]) -> list[str]:
    names: list[str] = []
    for c in collections:
        name, n = c.name, 2
        while name in names:
            name, n = f"{c.name}#{n}", n + 1
        names.append(name)
    return names


def _training_languages(config: SamplerConfig, collection: ParallelQACollection) -> list[str]:
    langs = [lang for lang in collection.languages if collection.ids_in(lang)]
    if config.strategy == "en-en" and collection.kind != "bitext":
        return ["en"]
    return [lang for lang in langs if config.languages is None or lang in config.languages]


def _check_languages(config: SamplerConfig, collections: Sequence[ParallelQACollection]) -> None:
    for c in collections:
        have = [lang for lang in c.languages if c.ids_in(lang)]
        if config.strategy == "en-en" and "en" not in have and c.kind != "bitext":
            raise ConfigError(
                f"sampler en-en needs English ('en') questions; {c.name} has: {', '.join(have)}"
            )
    if config.languages is not None:
        known = {lang for c in collections for lang in c.languages if c.ids_in(lang)}
        unknown = sorted(set(config.languages) - known)
        if unknown:
            raise ConfigError(
                f"languages {', '.join(unknown)} not in the training data "
                f"(available: {', '.join(sorted(known))})"
            )
        for c in collections:
            if not _training_languages(config, c):
                raise ConfigError(
                    f"{c.name} has none of the training languages {', '.join(config.languages)}"
                )


def _check_kinds(config: SamplerConfig, collections: Sequence[ParallelQACollection]) -> None:
    """A bitext source gives X-Y batches only: a sampler that draws X-X batches needs another source."""
    bitext = [c.name for c in collections if c.kind == "bitext"]
    if not bitext or not _draws_xx(config):
        return
    if len(bitext) == len(collections):
        raise ConfigError(
            f"sampler {config.strategy} draws X-X batches, which a bitext source cannot give "
            f"({', '.join(bitext)}); add a qa or pairs source or use --sampler xy"
        )
    if config.strategy != "hybrid":
        names = ", ".join(bitext)
        logger.warning(
            "sampler %s draws X-X batches only: bitext source(s) %s are never drawn", config.strategy, names
        )


def _draws_xx(config: SamplerConfig) -> bool:
    if config.strategy == "xy":
        return False
    return not (config.strategy == "hybrid" and config.schedule == "constant" and config.alpha == 0)


def _check_pool(config: SamplerConfig, pool: SourcePool) -> None:
    size = config.batch_size
    if config.strategy in ("hybrid", "xx", "en-en") and pool.serves_xx:
        for lang in pool.languages:
            capacity = pool.monolingual(lang).capacity
            if capacity < size:
                raise ConfigError(
                    f"batch size {size} exceeds the {capacity} usable ids of language {lang!r} "
                    f"in {pool.name} "
                    "(ids sharing an answer sentence count once); lower --batch-size or drop the language"
                )
    if config.strategy in ("hybrid", "xy"):
        if len(pool.languages) < 2:
            raise ConfigError(
                f"X-Y batches need at least 2 training languages; {pool.name} has {', '.join(pool.languages)}"
            )
        k = config.languages_per_batch
        if k is not None and k > len(pool.languages):
            raise ConfigError(
                f"languages per batch {k} exceeds the {len(pool.languages)} training languages of {pool.name}"
            )
        if k is None or k == len(pool.languages):
            capacity = pool.cross_lingual(tuple(pool.languages)).capacity
            if capacity < size:
                raise ConfigError(
                    f"batch size {size} exceeds the {capacity} usable ids of {pool.name} that exist in "
                    "two or more training languages"
                )


def _language_subsets(config: SamplerConfig, pool: SourcePool) -> list[tuple[str, ...]]:
    """The K-language subsets an X-Y batch may draw: those with enough ids for a full batch."""
    k = config.languages_per_batch
    if config.strategy not in ("hybrid", "xy") or k is None or k >= len(pool.languages):
        return [tuple(pool.languages)]
    if comb(len(pool.languages), k) > MAX_ENUMERATED_SUBSETS:
        if pool.complete_capacity() >= config.batch_size:
            return []  # every K-subset is feasible (e.g. FLORES-200): each X-Y step draws K languages
        raise ConfigError(
            f"languages per batch {k} of {len(pool.languages)} languages gives more than "
            f"{MAX_ENUMERATED_SUBSETS} language subsets; choose a K closer to 2 or to the number of languages"
        )
    subsets = list(combinations(pool.languages, k))
    feasible = [s for s in subsets if pool.cross_lingual(s).capacity >= config.batch_size]
    if not feasible:
        raise ConfigError(
            f"no {k} languages of {pool.name} share {config.batch_size} ids (batch size); "
            "raise --languages-per-batch or lower --batch-size"
        )
    if len(feasible) < len(subsets):
        dropped = [s for s in subsets if s not in feasible]
        logger.warning(
            "%s: %d of %d language subsets hold fewer ids than a batch and are never drawn: %s",
            pool.name,
            len(dropped),
            len(subsets),
            ", ".join("+".join(s) for s in dropped),
        )
    return feasible
