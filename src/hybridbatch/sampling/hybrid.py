"""The hybrid batch sampler of arXiv 2408.10536 (§3), and its special cases X-X, X-Y and En-En.

One training step, as in the paper::

    source ~ Categorical(size of each training collection)        # "sampled based on dataset size"
                                                                   # (or the sources' weights, ours)
    if strategy == "hybrid": kind = "xx" with probability α(step), else "xy"
    if kind == "xx" and source is bitext: source ~ Categorical(the X-X-capable sources, renormalised)
    if kind == "xx": language L ~ Uniform(training languages)
                     B ids with a question in L; every pair is (id, L, L)
    if kind == "xy": (ours, optional) K languages ~ Uniform(K-subsets of the training languages)
                     B ids existing in ≥ 2 of those languages; per pair
                     query language X ~ Uniform(languages of the id), passage language Y ≠ X likewise
    en-en:           like xx with L = English

Ids are drawn without replacement and at most one per *answer group* (:mod:`.pools`), so no batch
holds two pairs with the same parallel id or the same positive passage. Optional hard negatives
(ours) add other sentences of each positive's paragraph.

Every step's randomness is ``numpy.random.default_rng([seed, step])``: batch ``k`` is a pure function
of (seed, k, α-schedule state). A stream resumes from any step, and all DDP ranks compute the same
global batch (see :func:`hybridbatch.sampling.shard`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridbatch.data import ParallelQACollection
from hybridbatch.errors import ConfigError
from hybridbatch.sampling.batch import Batch, Pair
from hybridbatch.sampling.pools import Eligible, SourcePool, source_probabilities
from hybridbatch.sampling.schedules import AlphaSchedule

if TYPE_CHECKING:
    from hybridbatch.sampling.config import SamplerConfig

STATE_VERSION = 1


class BatchSampler:
    """An endless (or ``config.steps``-long), seeded, resumable stream of :class:`Batch` objects.

    Build it with :func:`hybridbatch.sampling.build_sampler`. Iterating yields batches from
    :attr:`step` on; :meth:`batch_at` computes any step directly.

    Attributes:
        config: the :class:`SamplerConfig`.
        schedule: the α schedule (the trainer calls ``schedule.observe`` when it is adaptive).
        step: the next step :meth:`batches` yields (advanced while iterating, saved in the state).
    """

    def __init__(
        self,
        config: SamplerConfig,
        pools: list[SourcePool],
        schedule: AlphaSchedule,
        language_subsets: list[list[tuple[str, ...]]] | None = None,
    ) -> None:
        self.config = config
        self.pools = pools
        self.schedule = schedule
        self.step = 0
        self._source_p = source_probabilities(pools)
        xx_p = np.where([pool.serves_xx for pool in pools], self._source_p, 0.0)
        self._xx_p = xx_p / xx_p.sum() if xx_p.sum() > 0 else None
        self._subsets = language_subsets or [[tuple(pool.languages)] for pool in pools]

    # --- the algorithm ---------------------------------------------------------------------
    def batch_at(self, step: int) -> Batch:
        """The global batch of training step ``step``."""
        rng = np.random.default_rng([self.config.seed, step])
        source = int(rng.choice(len(self.pools), p=self._source_p)) if len(self.pools) > 1 else 0
        alpha = self._alpha(step)
        kind = self._kind(rng, alpha)
        if kind != "xy" and not self.pools[source].serves_xx:
            if self._xx_p is None:  # unreachable after build_sampler's checks
                raise ConfigError("an X-X batch was drawn, but every training source is bitext")
            source = int(rng.choice(len(self.pools), p=self._xx_p))  # its X-X share goes to the others
        pool = self.pools[source]
        if kind == "xy":
            language = None
            pairs = self._cross_lingual(rng, pool, self._subsets[source])
        else:
            language = "en" if kind == "en-en" else pool.languages[int(rng.integers(len(pool.languages)))]
            pairs = self._monolingual(rng, pool, language)
        if self.config.hard_negatives:
            pairs = _add_hard_negatives(rng, pool.collection, pairs, self.config)
        return Batch(step, kind, pairs, pool.name, alpha, language)

    def _alpha(self, step: int) -> float:
        """α(step) of a hybrid sampler; 1 (always X-X) or 0 (always X-Y) for the fixed strategies."""
        if self.config.strategy == "hybrid":
            return float(self.schedule.alpha(step))
        return 0.0 if self.config.strategy == "xy" else 1.0

    def _kind(self, rng: np.random.Generator, alpha: float) -> str:
        if self.config.strategy == "hybrid":
            return "xx" if rng.random() < alpha else "xy"
        return self.config.strategy

    def _monolingual(self, rng: np.random.Generator, pool: SourcePool, lang: str) -> list[Pair]:
        chosen = _take(rng, pool.monolingual(lang), self.config.batch_size)
        return [Pair(pool.monolingual(lang).ids[i], lang, lang) for i in chosen]

    def _cross_lingual(
        self, rng: np.random.Generator, pool: SourcePool, subsets: list[tuple[str, ...]]
    ) -> list[Pair]:
        if not subsets:  # too many K-subsets to list, all feasible: draw one uniformly
            k = self.config.languages_per_batch or len(pool.languages)
            chosen = sorted(rng.choice(len(pool.languages), k, replace=False).tolist())
            eligible = pool.cross_lingual(tuple(pool.languages[i] for i in chosen), cache=False)
        else:
            langs = subsets[int(rng.integers(len(subsets)))] if len(subsets) > 1 else subsets[0]
            eligible = pool.cross_lingual(langs)
        chosen = _take(rng, eligible, self.config.batch_size)
        u = rng.random((len(chosen), 2))
        pairs = []
        for i, (uq, up) in zip(chosen, u, strict=True):
            id_langs = eligible.langs[i]
            q = int(uq * len(id_langs))
            p = int(up * (len(id_langs) - 1))
            p += p >= q  # uniform over the languages other than the query's
            pairs.append(Pair(eligible.ids[i], id_langs[q], id_langs[p]))
        return pairs

    # --- iteration and state ---------------------------------------------------------------
    def batches(self, start_step: int | None = None, stop_step: int | None = None) -> Iterator[Batch]:
        """Yield batches from ``start_step`` (default: :attr:`step`) to ``stop_step`` (default:
        ``config.steps``, or forever), advancing :attr:`step`."""
        step = self.step if start_step is None else start_step
        stop = self.config.steps if stop_step is None else stop_step
        while stop is None or step < stop:
            batch = self.batch_at(step)
            step += 1
            self.step = step
            yield batch

    def __iter__(self) -> Iterator[Batch]:
        return self.batches()

    @property
    def source_shares(self) -> np.ndarray:
        """Each source's probability of being drawn for a step (before bitext sources give X-X steps up)."""
        return self._source_p

    @property
    def sources(self) -> dict[str, ParallelQACollection]:
        """``Batch.source`` name -> collection (to turn pairs into texts)."""
        return {pool.name: pool.collection for pool in self.pools}

    def state_dict(self, step: int | None = None) -> dict[str, Any]:
        """Everything needed to resume the stream at ``step`` (default: :attr:`step`)."""
        return {
            "version": STATE_VERSION,
            "step": self.step if step is None else int(step),
            "config": self.config.stream_fields(),
            "sources": {pool.name: pool.size for pool in self.pools},
            "schedule": self.schedule.state_dict(),
            **({"mix": self.mix} if self.mix else {}),
        }

    @property
    def mix(self) -> dict[str, list[Any]] | None:
        """Kind and weight per source when any source is not plain qa without a weight (else None)."""
        mix = {pool.name: [pool.kind, pool.weight] for pool in self.pools}
        return mix if any(value != ["qa", None] for value in mix.values()) else None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the step and schedule; refuses a state saved with different sampler settings."""
        if state.get("version") != STATE_VERSION:
            raise ConfigError(f"sampler state version {state.get('version')!r} is not {STATE_VERSION}")
        saved, current = state["config"], self.config.stream_fields()
        changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
        if changed:
            diff = ", ".join(f"{k}: saved {saved.get(k)!r} != now {current.get(k)!r}" for k in changed)
            raise ConfigError(f"cannot resume: sampler settings changed ({diff})")
        sources = {pool.name: pool.size for pool in self.pools}
        if state.get("sources") != sources:
            raise ConfigError(
                f"cannot resume: training data changed (saved {state.get('sources')}, now {sources})"
            )
        if state.get("mix") != self.mix:
            raise ConfigError(
                f"cannot resume: source kinds or weights changed (saved {state.get('mix')}, now {self.mix})"
            )
        self.schedule.load_state_dict(state["schedule"])
        self.step = int(state["step"])

    def __repr__(self) -> str:
        names = ", ".join(pool.name for pool in self.pools)
        return f"BatchSampler({self.config.strategy}, batch_size={self.config.batch_size}, sources=[{names}])"


def _take(rng: np.random.Generator, eligible: Eligible, size: int) -> list[int]:
    """Draw ``size`` positions of ``eligible`` without replacement, at most one per answer group."""
    chosen: list[int] = []
    seen: set[int] = set()
    groups = eligible.groups
    for i in rng.permutation(len(eligible.ids)).tolist():
        group = int(groups[i])
        if group not in seen:
            seen.add(group)
            chosen.append(i)
            if len(chosen) == size:
                return chosen
    raise ConfigError(  # unreachable after build_sampler's capacity checks
        f"only {len(chosen)} usable ids for a batch of {size}"
    )


def _add_hard_negatives(
    rng: np.random.Generator, collection: ParallelQACollection, pairs: list[Pair], config: SamplerConfig
) -> list[Pair]:
    """Hard negatives as ``config.hard_negatives_from`` asks: from the positive's paragraph, from the
    query-language paragraph of X-Y pairs instead, or both. X-X pairs (one paragraph) get the same in
    every mode, and the passage negatives are drawn first, so ``both`` keeps the default's."""
    n, source = config.hard_negatives, config.hard_negatives_from
    pairs = _with_hard_negatives(rng, collection, pairs, n)
    if source == "passage":
        return pairs
    pairs = _with_query_negatives(rng, collection, pairs, n)
    if source == "query":
        pairs = [replace(p, negatives=()) if p.query_lang != p.passage_lang else p for p in pairs]
    return pairs


def _with_query_negatives(
    rng: np.random.Generator, collection: ParallelQACollection, pairs: list[Pair], n: int
) -> list[Pair]:
    """Add up to ``n`` other sentences of the query-language paragraph to each X-Y pair.

    In the Multi setting these are the distractors that language bias ranks above a relevant answer in
    another language. The answer of *any* of the batch's ids in that language is relevant to one of the
    batch's queries (a translation of its positive), so none of them is drawn.
    """
    ids = [pair.id for pair in pairs]
    positive_texts = {(p.passage_lang, collection.answer(p.id, p.passage_lang).text) for p in pairs}
    out = []
    for pair in pairs:
        lang = pair.query_lang
        if lang == pair.passage_lang:
            out.append(pair)
            continue
        own, pool = collection.questions[lang], collection.candidates[lang]
        taken = {own[i].answer for i in ids if i in own}
        options = [
            i
            for i in collection.hard_negatives(pair.id, lang)
            if i not in taken and (lang, pool[i].text) not in positive_texts
        ]
        if len(options) > n:
            options = [options[j] for j in sorted(rng.choice(len(options), n, replace=False).tolist())]
        out.append(Pair(pair.id, pair.query_lang, pair.passage_lang, pair.negatives, tuple(options)))
    return out


def _with_hard_negatives(
    rng: np.random.Generator, collection: ParallelQACollection, pairs: list[Pair], n: int
) -> list[Pair]:
    """Add up to ``n`` other sentences of each positive's paragraph, never another pair's positive."""
    positives: set[tuple[str, int]] = set()
    texts: set[tuple[str, str]] = set()
    for pair in pairs:
        answer = collection.question(pair.id, pair.passage_lang).answer
        positives.add((pair.passage_lang, answer))
        texts.add((pair.passage_lang, collection.candidates[pair.passage_lang][answer].text))
    if collection.kind == "bitext":  # a neighbour may be another pair's sentence: a translation of it
        langs = {pair.passage_lang for pair in pairs}
        ids = [pair.id for pair in pairs]
        for lang in langs:
            own = collection.questions[lang]
            positives |= {(lang, own[i].answer) for i in ids if i in own}
    out = []
    for pair in pairs:
        lang, pool = pair.passage_lang, collection.candidates[pair.passage_lang]
        options = [
            i
            for i in collection.hard_negatives(pair.id, lang)
            if (lang, i) not in positives and (lang, pool[i].text) not in texts
        ]
        if len(options) > n:
            options = [options[j] for j in sorted(rng.choice(len(options), n, replace=False).tolist())]
        out.append(Pair(pair.id, pair.query_lang, pair.passage_lang, tuple(options)))
    return out
