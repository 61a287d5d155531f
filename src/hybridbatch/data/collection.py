"""The in-memory model of a parallel QA collection (LAReQA-style).

A *parallel QA collection* holds, per language, a pool of candidate sentences and a set of
questions. Questions that are translations of each other share a *parallel id*. Each question has
exactly one relevant candidate in its own language: the sentence that contains its answer.

This is the single data structure every other part of hybridbatch reads: samplers draw
``(id, query_lang, passage_lang)`` pairs from it, the trainer turns pairs into texts with
:meth:`ParallelQACollection.question` and :meth:`ParallelQACollection.answer`, and the evaluator
encodes :attr:`ParallelQACollection.candidates` once per language.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hybridbatch.errors import DataError


@dataclass(frozen=True, slots=True)
class Candidate:
    """A retrievable sentence of one language's pool.

    ``paragraph`` numbers the paragraph the sentence comes from (per language, from 0), so the other
    sentences of the same paragraph can serve as hard negatives; ``context`` is that paragraph's text.
    """

    lang: str
    text: str
    paragraph: int
    context: str


@dataclass(frozen=True, slots=True)
class Question:
    """A question in one language; ``answer`` indexes ``collection.candidates[lang]``."""

    id: str
    lang: str
    text: str
    answer: int


@dataclass
class LoadReport:
    """What a loader found: counts of dropped records and of text fixes by reason, and findings.

    ``dropped`` counts records left out (e.g. a question without answers); ``fixed`` counts records
    kept after a cleanup (e.g. a stripped byte-order mark). Only the first few details per reason are
    kept in ``findings``, so a report stays short on large files.
    """

    dropped: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)

    def drop(self, reason: str, detail: str) -> None:
        """Count one dropped record and remember why (the first few details are kept)."""
        self.dropped[reason] += 1
        if self.dropped[reason] <= 5:
            self.findings.append(f"dropped ({reason}): {detail}")

    def fix(self, reason: str, detail: str) -> None:
        """Count one record kept after a cleanup (the first few details are kept)."""
        self.fixed[reason] += 1
        if self.fixed[reason] <= 3:
            self.findings.append(f"fixed ({reason}): {detail}")

    def note(self, finding: str) -> None:
        """Record a finding that did not drop data (e.g. a stripped byte-order mark)."""
        self.findings.append(finding)


@dataclass
class ParallelQACollection:
    """Questions and candidate pools in several languages, linked by parallel ids.

    Attributes:
        name: dataset name (e.g. ``xquad-r``) or the path it was loaded from.
        questions: ``lang -> id -> Question``.
        candidates: ``lang -> [Candidate, ...]`` (the retrieval pool of that language).
        report: what the loader dropped or noticed.
        kind: ``qa``, ``bitext`` (sentence = question = answer: X-Y pairs only) or ``pairs``
            (see :mod:`hybridbatch.data.sources`).
    """

    name: str
    questions: dict[str, dict[str, Question]]
    candidates: dict[str, list[Candidate]]
    report: LoadReport = field(default_factory=LoadReport)
    kind: str = "qa"

    def __post_init__(self) -> None:
        self._ids_by_lang: dict[str, list[str]] = {lang: sorted(qs) for lang, qs in self.questions.items()}
        langs_of: dict[str, list[str]] = {}
        for lang in self.languages:
            for qid in self._ids_by_lang.get(lang, []):
                langs_of.setdefault(qid, []).append(lang)
        self._langs_of = langs_of
        self._paragraphs: dict[tuple[str, int], list[int]] = {}
        for lang, pool in self.candidates.items():
            for index, cand in enumerate(pool):
                self._paragraphs.setdefault((lang, cand.paragraph), []).append(index)

    # --- shape -----------------------------------------------------------------------------
    @property
    def languages(self) -> list[str]:
        """Sorted language codes that have questions or candidates."""
        return sorted(set(self.questions) | set(self.candidates))

    @property
    def ids(self) -> list[str]:
        """Sorted parallel ids over all languages."""
        return sorted(self._langs_of)

    def ids_in(self, lang: str) -> list[str]:
        """Sorted parallel ids that have a question in ``lang``."""
        return self._ids_by_lang.get(lang, [])

    def languages_of(self, qid: str) -> list[str]:
        """Sorted languages in which parallel id ``qid`` has a question."""
        return self._langs_of.get(qid, [])

    def num_questions(self) -> int:
        """Total number of questions over all languages."""
        return sum(len(qs) for qs in self.questions.values())

    def num_candidates(self) -> int:
        """Total number of candidates over all languages' pools."""
        return sum(len(pool) for pool in self.candidates.values())

    # --- access ----------------------------------------------------------------------------
    def question(self, qid: str, lang: str) -> Question:
        """The question of parallel id ``qid`` in ``lang`` (DataError if it does not exist)."""
        try:
            return self.questions[lang][qid]
        except KeyError:
            raise DataError(f"{self.name}: no question with id {qid!r} in language {lang!r}") from None

    def answer(self, qid: str, lang: str) -> Candidate:
        """The relevant candidate of parallel id ``qid`` in ``lang``."""
        return self.candidates[lang][self.question(qid, lang).answer]

    def paragraph_of(self, lang: str, index: int) -> list[int]:
        """Candidate indices (in ``lang``'s pool) of the paragraph holding candidate ``index``."""
        return self._paragraphs[(lang, self.candidates[lang][index].paragraph)]

    def hard_negatives(self, qid: str, lang: str) -> list[int]:
        """Other sentences of the positive's paragraph: candidate indices in ``lang``'s pool."""
        positive = self.question(qid, lang).answer
        return [i for i in self.paragraph_of(lang, positive) if i != positive]

    # --- derived collections ---------------------------------------------------------------
    def subset(
        self, ids: Iterable[str], languages: Iterable[str] | None = None, name: str | None = None
    ) -> ParallelQACollection:
        """The collection restricted to ``ids`` (and ``languages``).

        Pools keep only the paragraphs that hold a kept question, so a dev split is evaluated against
        the candidates of its own paragraphs; candidate indices are renumbered accordingly.
        """
        keep_ids = set(ids)
        keep_langs = set(languages) if languages is not None else set(self.languages)
        questions: dict[str, dict[str, Question]] = {}
        candidates: dict[str, list[Candidate]] = {}
        for lang in sorted(keep_langs & set(self.languages)):
            kept = [q for qid, q in self.questions.get(lang, {}).items() if qid in keep_ids]
            pool = self.candidates.get(lang, [])
            paragraphs = {pool[q.answer].paragraph for q in kept}
            remap: dict[int, int] = {}
            new_pool: list[Candidate] = []
            for index, cand in enumerate(pool):
                if cand.paragraph in paragraphs:
                    remap[index] = len(new_pool)
                    new_pool.append(cand)
            if not kept:
                continue
            candidates[lang] = new_pool
            questions[lang] = {
                q.id: Question(q.id, q.lang, q.text, remap[q.answer])
                for q in sorted(kept, key=lambda q: q.id)
            }
        return ParallelQACollection(name or self.name, questions, candidates, self.report, self.kind)

    def split(self, dev_fraction: float, seed: int = 0) -> tuple[ParallelQACollection, ParallelQACollection]:
        """Deterministic train/dev split by parallel id: no id is in both parts.

        An id goes to dev when a seeded hash of it falls below ``dev_fraction``; the split is stable
        under adding or removing other ids.
        """
        if not 0.0 <= dev_fraction < 1.0:
            raise DataError(f"dev fraction must be in [0, 1), got {dev_fraction}")
        dev = [qid for qid in self.ids if _unit_hash(qid, seed) < dev_fraction]
        dev_set = set(dev)
        train = [qid for qid in self.ids if qid not in dev_set]
        return (self.subset(train, name=f"{self.name}:train"), self.subset(dev, name=f"{self.name}:dev"))


def _unit_hash(text: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) derived from ``text`` and ``seed``."""
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
