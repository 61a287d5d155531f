"""Build the translated side of a parallel QA collection from per-sentence results.

Every question and every sentence of each paragraph is translated on its own, so a paragraph keeps
its sentence order: the answer index and the in-paragraph hard negatives carry over unchanged, and
parallel ids stay the source's. A record (one question in one language) is dropped, with its reason
counted, when its question or any sentence of its paragraph failed or came back empty (never a
silent empty sentence), and with ``--drop-untranslated`` when the share of its words left
untranslated exceeds the threshold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from hybridbatch.data.collection import Candidate, ParallelQACollection, Question
from hybridbatch.data.translation.engines import Failure, Output
from hybridbatch.data.translation.quality import untranslated_words


def normalise(text: str) -> str:
    """The form a sentence is translated and cached in: whitespace runs collapsed to one space."""
    return " ".join(text.split())


def source_texts(collection: ParallelQACollection, lang: str) -> list[str]:
    """The unique sentences to translate: ``lang``'s questions and candidates, in collection order."""
    texts = [q.text for _, q in sorted(collection.questions.get(lang, {}).items())]
    texts += [c.text for c in collection.candidates.get(lang, [])]
    return list(dict.fromkeys(normalise(t) for t in texts))


@dataclass
class TranslatedSide:
    """One target language: its questions and pool, and the records dropped by reason."""

    questions: dict[str, Question] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class DropRule:
    """``--drop-untranslated`` and its ``--max-untranslated`` threshold."""

    enabled: bool = False
    threshold: float = 0.5


def untranslated_share(texts: list[str], results: dict[str, Output | Failure]) -> float:
    """The share of the words of ``texts`` left untranslated (see :func:`.quality.untranslated_words`)."""
    words = sum(len(t.split()) for t in texts)
    left = sum(untranslated_words(t, results[t]) for t in texts)
    return left / words if words else 0.0


def broken(texts: list[str], results: dict[str, Output | Failure]) -> str | None:
    """Why the translations of ``texts`` cannot be used (a failure, an empty output), or None."""
    outputs = [results[t] for t in texts]
    if any(isinstance(o, Failure) for o in outputs):
        return "failed translation"
    if any(not o.text for o in outputs if isinstance(o, Output)):
        return "empty translation"
    return None


def translate_side(
    collection: ParallelQACollection,
    source: str,
    target: str,
    results: dict[str, Output | Failure],
    rule: DropRule = DropRule(),
) -> TranslatedSide:
    """``source``'s questions and pool translated into ``target`` (see the module docstring)."""
    pool = collection.candidates.get(source, [])
    paragraphs: dict[int, list[int]] = {}
    for index, cand in enumerate(pool):
        paragraphs.setdefault(cand.paragraph, []).append(index)
    texts = {p: [normalise(pool[i].text) for i in members] for p, members in paragraphs.items()}
    kept: dict[int, list[Question]] = {}
    side = TranslatedSide()
    for qid, question in sorted(collection.questions.get(source, {}).items()):
        paragraph = pool[question.answer].paragraph
        record = [normalise(question.text), *texts[paragraph]]
        reason = broken(record, results)
        if reason is None and rule.enabled and untranslated_share(record, results) > rule.threshold:
            reason = "untranslated share above --max-untranslated"
        if reason is not None:
            side.dropped[reason] += 1
            continue
        translated = cast(Output, results[record[0]])  # not broken: an Output
        kept.setdefault(paragraph, []).append(Question(qid, target, translated.text, question.answer))
    for paragraph, members in paragraphs.items():
        sentences = texts[paragraph]
        if paragraph not in kept and (
            broken(sentences, results)
            or (rule.enabled and untranslated_share(sentences, results) > rule.threshold)
        ):
            continue
        outputs = [results[t] for t in sentences]
        _add_paragraph(side, target, outputs, paragraph, members, kept.get(paragraph, []))
    return side


def _add_paragraph(
    side: TranslatedSide,
    target: str,
    outputs: list,
    number: int,
    members: list[int],
    questions: list[Question],
) -> None:
    """Append a translated paragraph (numbered as in the source, so translations share numbers)."""
    first = len(side.candidates)
    context = " ".join(o.text for o in outputs)
    side.candidates += [Candidate(target, o.text, number, context) for o in outputs]
    for q in questions:
        side.questions[q.id] = Question(q.id, target, q.text, first + members.index(q.answer))


def with_translations(
    collection: ParallelQACollection, sides: dict[str, TranslatedSide], name: str
) -> ParallelQACollection:
    """Every language of ``collection`` plus each translated side, as one collection."""
    questions = {lang: dict(collection.questions.get(lang, {})) for lang in collection.languages}
    candidates = {lang: list(collection.candidates.get(lang, [])) for lang in collection.languages}
    for lang, side in sides.items():
        questions[lang] = side.questions
        candidates[lang] = side.candidates
    return ParallelQACollection(name, questions, candidates, kind=collection.kind)
