"""Which parallel ids a batch may draw from, and which ids must never share a batch.

*Answer groups* (ours): SQuAD-style data has several questions answered by the same sentence, and a
translation of a positive is a near-duplicate of it. Ids whose answers coincide — the same candidate
(or the same sentence text) in any language — form one group, and a batch holds at most one pair per
group. So no batch repeats a parallel id, a positive passage, or a translation of a positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from hybridbatch.data import ParallelQACollection
from hybridbatch.errors import ConfigError


def answer_groups(collection: ParallelQACollection) -> dict[str, int]:
    """Map every parallel id to its answer group (ids sharing an answer sentence in any language)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for lang, questions in collection.questions.items():
        owner: dict[object, str] = {}
        pool = collection.candidates[lang]
        for qid in sorted(questions):
            index = questions[qid].answer
            for key in ((lang, index), (lang, " ".join(pool[index].text.split()).casefold())):
                if key in owner:
                    parent[find(qid)] = find(owner[key])
                else:
                    owner[key] = qid
    roots = {qid: find(qid) for qid in collection.ids}
    numbers = {root: n for n, root in enumerate(sorted(set(roots.values())))}
    return {qid: numbers[root] for qid, root in roots.items()}


@dataclass(frozen=True)
class Eligible:
    """Ids a batch may draw from: ``ids[i]`` has answer group ``groups[i]`` and languages ``langs[i]``."""

    ids: list[str]
    groups: np.ndarray
    langs: list[tuple[str, ...]]

    @cached_property
    def capacity(self) -> int:
        """The largest batch these ids allow: the number of distinct answer groups."""
        return len(np.unique(self.groups))


class SourcePool:
    """One training collection seen through the training languages, with cached eligible-id lists.

    ``weight`` is the source's share of steps as configured (None: in proportion to :attr:`size`);
    ``kind`` is the collection's (a ``bitext`` pool serves X-Y steps only).
    """

    def __init__(
        self, name: str, collection: ParallelQACollection, languages: list[str], weight: float | None = None
    ) -> None:
        self.name = name
        self.collection = collection
        self.languages = languages
        self.weight = weight
        self.group_of = answer_groups(collection)
        self.size = sum(len(collection.ids_in(lang)) for lang in languages)
        self._cache: dict[tuple[str, ...], Eligible] = {}

    @property
    def kind(self) -> str:
        """``qa``, ``bitext`` or ``pairs`` (see :mod:`hybridbatch.data.sources`)."""
        return self.collection.kind

    @property
    def serves_xx(self) -> bool:
        """Whether this pool can give X-X batches (a bitext X-X pair would be a sentence and itself)."""
        return self.kind != "bitext"

    def monolingual(self, lang: str) -> Eligible:
        """Ids with a question (hence an answer) in ``lang``."""
        key = ("mono", lang)
        if key not in self._cache:
            ids = self.collection.ids_in(lang)
            self._cache[key] = self._eligible(ids, [(lang,)] * len(ids))
        return self._cache[key]

    def cross_lingual(self, langs: tuple[str, ...], cache: bool = True) -> Eligible:
        """Ids existing in at least two of ``langs`` (sorted), with their languages among ``langs``."""
        key = ("cross", *langs)
        if key in self._cache:
            return self._cache[key]
        chosen = set(langs)
        ids, id_langs = [], []
        for qid in self.collection.ids:
            within = tuple(lang for lang in self.collection.languages_of(qid) if lang in chosen)
            if len(within) >= 2:
                ids.append(qid)
                id_langs.append(within)
        eligible = self._eligible(ids, id_langs)
        if cache:
            self._cache[key] = eligible
        return eligible

    def complete_capacity(self) -> int:
        """The largest batch from ids present in every training language (any K of them offer as many)."""
        everywhere = set(self.languages)
        ids = [qid for qid in self.collection.ids if everywhere <= set(self.collection.languages_of(qid))]
        return len({self.group_of[qid] for qid in ids})

    def _eligible(self, ids: list[str], langs: list[tuple[str, ...]]) -> Eligible:
        groups = np.fromiter((self.group_of[qid] for qid in ids), dtype=np.int64, count=len(ids))
        return Eligible(list(ids), groups, langs)


def source_probabilities(pools: list[SourcePool]) -> np.ndarray:
    """Each pool's probability of serving a step.

    Without weights: in proportion to size (the paper's rule). With weights on every pool: the weights,
    normalised. With weights on some: the weighted pools get their weight (the weights must sum to
    less than 1) and the others share the rest in proportion to their sizes.
    """
    sizes = np.array([pool.size for pool in pools], dtype=np.float64)
    weights = [pool.weight for pool in pools]
    if all(w is None for w in weights):
        return sizes / sizes.sum()
    if all(w is not None for w in weights):
        given = np.array(weights, dtype=np.float64)
        return given / given.sum()
    fixed = sum(w for w in weights if w is not None)
    if fixed >= 1.0:
        raise ConfigError(
            f"source weights sum to {fixed:g}, leaving nothing for the unweighted sources "
            "(weights are shares of steps: give every source a weight, or keep their sum below 1)"
        )
    rest = np.array([0.0 if w is not None else s for w, s in zip(weights, sizes, strict=True)])
    shares = rest / rest.sum() * (1.0 - fixed)
    return np.array([w if w is not None else r for w, r in zip(weights, shares, strict=True)])
