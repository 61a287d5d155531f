"""Pairs sources: query–passage pairs per language keyed by parallel ids (the mMARCO layout), JSONL.

Each line is one JSON object::

    {"query_id": "q1", "lang": "de", "query": "Wie hoch ist der Eiffelturm?",
     "passage_id": "p7", "passage": "Der Eiffelturm ist 330 Meter hoch."}

- ``query_id``: the parallel id: the translations of one query share it (one record per id and language);
- ``passage_id``: the passage's id, shared by its translations; records of one language naming the same
  passage id must give the same text (it is one candidate);
- ``lang``, ``query``, ``passage``: non-empty strings.

Every field is required. A passage is its own paragraph (no hard negatives); queries answered by the
same passage never share a batch (answer groups, :mod:`hybridbatch.sampling.pools`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hybridbatch.data.collection import Candidate, LoadReport, ParallelQACollection, Question
from hybridbatch.data.validation import clean_question, clean_sentence, parse_json_object, read_utf8, require
from hybridbatch.errors import DataError

FIELDS = ("query_id", "lang", "query", "passage_id", "passage")


def load_pairs(path: str | Path, languages: list[str] | None = None) -> ParallelQACollection:
    """Load a pairs JSONL file (format in the module docstring); DataError names file, line and field."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such file")
    pairs = _Pairs(LoadReport())
    for lineno, line in enumerate(read_utf8(file).splitlines(), start=1):
        if line.strip():
            pairs.add(line, f"{file}:{lineno}", languages)
    if not pairs.candidates:
        raise DataError(
            f"{file}: no records" + (f" for languages {', '.join(languages)}" if languages else "")
        )
    return ParallelQACollection(file.stem, pairs.questions, pairs.candidates, pairs.report, kind="pairs")


@dataclass
class _Pairs:
    """The questions and passage pools read so far."""

    report: LoadReport
    questions: dict[str, dict[str, Question]] = field(default_factory=dict)
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    index: dict[tuple[str, str], int] = field(default_factory=dict)  # (lang, passage_id) -> pool index

    def add(self, line: str, where: str, languages: list[str] | None) -> None:
        """Add one line's query and passage (skipped when its language is not in ``languages``)."""
        record = parse_json_object(line, where)
        values = {key: require(record, key, str, where).strip() for key in FIELDS}
        for key, value in values.items():
            if not value:
                raise DataError(f"{where}: field '{key}' is empty")
        lang = values["lang"]
        if languages is not None and lang not in languages:
            return
        answer = self._passage(values, where)
        qid = values["query_id"]
        own = self.questions.setdefault(lang, {})
        if qid in own:
            raise DataError(f"{where}: duplicate query_id {qid!r} for language {lang!r}")
        own[qid] = Question(qid, lang, clean_question(values["query"], where, self.report), answer)

    def _passage(self, values: dict[str, str], where: str) -> int:
        """The pool index of the line's passage, added on its first line."""
        lang = values["lang"]
        pool = self.candidates.setdefault(lang, [])
        passage = clean_sentence(values["passage"], f"{where}: passage", self.report)
        key = (lang, values["passage_id"])
        if key not in self.index:
            self.index[key] = len(pool)
            pool.append(Candidate(lang, passage, len(pool), passage))
        elif pool[self.index[key]].text != passage:
            raise DataError(
                f"{where}: passage_id {key[1]!r} ({lang}) has another text than on an earlier line"
            )
        return self.index[key]
