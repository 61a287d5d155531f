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
    """One training collection seen through the training languages, with cached eligible-id lists."""

    def __init__(self, name: str, collection: ParallelQACollection, languages: list[str]) -> None:
        self.name = name
        self.collection = collection
        self.languages = languages
        self.group_of = answer_groups(collection)
        self.size = sum(len(collection.ids_in(lang)) for lang in languages)
        self._cache: dict[tuple[str, ...], Eligible] = {}

    def monolingual(self, lang: str) -> Eligible:
        """Ids with a question (hence an answer) in ``lang``."""
        key = ("mono", lang)
        if key not in self._cache:
            ids = self.collection.ids_in(lang)
            self._cache[key] = self._eligible(ids, [(lang,)] * len(ids))
        return self._cache[key]

    def cross_lingual(self, langs: tuple[str, ...]) -> Eligible:
        """Ids existing in at least two of ``langs`` (sorted), with their languages among ``langs``."""
        key = ("cross", *langs)
        if key not in self._cache:
            chosen = set(langs)
            ids, id_langs = [], []
            for qid in self.collection.ids:
                within = tuple(lang for lang in self.collection.languages_of(qid) if lang in chosen)
                if len(within) >= 2:
                    ids.append(qid)
                    id_langs.append(within)
            self._cache[key] = self._eligible(ids, id_langs)
        return self._cache[key]

    def _eligible(self, ids: list[str], langs: list[tuple[str, ...]]) -> Eligible:
        groups = np.fromiter((self.group_of[qid] for qid in ids), dtype=np.int64, count=len(ids))
        return Eligible(list(ids), groups, langs)
