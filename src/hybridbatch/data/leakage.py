"""The leakage guard: no run trains on text it is evaluated on.

A training source *overlaps* an evaluation set when they share a question text (any language), or
when one of the evaluation set's answer sentences is a sentence of the source's pools (a positive or
hard negative the model was trained on). Texts are compared with whitespace collapsed and case folded.
This catches the cases a name check cannot: a user's JSONL built from SQuAD dev (XQuAD-R's source), a
bitext copied from FLORES-200's dev half, ``flores200:dev`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.errors import DataError

ALLOW_FLAG = "--allow-overlap"


@dataclass(frozen=True)
class Overlap:
    """Texts a training source shares with an evaluation set (counts and one example)."""

    source: str
    evaluation: str
    questions: int
    answers: int
    example: str

    def describe(self) -> str:
        """``source shares N question texts and M answer sentences with evaluation (e.g. '…')``."""
        shown = self.example if len(self.example) <= 60 else self.example[:57] + "..."
        return (
            f"training source {self.source} shares {self.questions} question texts and {self.answers} "
            f"answer sentences with evaluation set {self.evaluation} (e.g. {shown!r})"
        )


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _question_texts(collection: ParallelQACollection) -> set[str]:
    return {_normal(q.text) for questions in collection.questions.values() for q in questions.values()}


def _sentences(collection: ParallelQACollection) -> set[str]:
    return {_normal(c.text) for pool in collection.candidates.values() for c in pool}


def _answers(collection: ParallelQACollection) -> set[str]:
    return {
        _normal(collection.candidates[lang][q.answer].text)
        for lang, questions in collection.questions.items()
        for q in questions.values()
    }


def find_overlaps(
    train: Sequence[tuple[str, ParallelQACollection]], evaluation: Sequence[tuple[str, ParallelQACollection]]
) -> list[Overlap]:
    """Every (training source, evaluation set) pair that shares texts; arguments are (name, collection)."""
    found: list[Overlap] = []
    eval_texts = [(name, _question_texts(c), _answers(c)) for name, c in evaluation]
    for source, collection in train:
        questions, sentences = _question_texts(collection), _sentences(collection)
        for name, eval_questions, eval_answers in eval_texts:
            shared_q, shared_a = questions & eval_questions, sentences & eval_answers
            if shared_q or shared_a:
                example = min(shared_q or shared_a)
                found.append(Overlap(source, name, len(shared_q), len(shared_a), example))
    return found


def check_overlap(
    train: Sequence[tuple[str, ParallelQACollection]],
    evaluation: Sequence[tuple[str, ParallelQACollection]],
    allow: bool = False,
) -> list[Overlap]:
    """The overlaps; a DataError (one line) when there is any and ``allow`` is False."""
    overlaps = find_overlaps(train, evaluation)
    if overlaps and not allow:
        more = f" (and {len(overlaps) - 1} more)" if len(overlaps) > 1 else ""
        raise DataError(
            f"{overlaps[0].describe()}{more}: training on evaluation text inflates its scores; "
            f"pass {ALLOW_FLAG} to train anyway"
        )
    return overlaps
