"""Quality checks on the translation itself: outputs identical to the input, empty outputs, words the
engine marked as unknown; and the share of a record's words left untranslated (``--drop-untranslated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hybridbatch.data.translation.engines import Failure, Output


def identical(source: str, output: Output) -> bool:
    """The output repeats the input (case-insensitively) and the input has letters to translate."""
    has_letters = any(ch.isalpha() for ch in source)
    return has_letters and output.text.casefold() == " ".join(source.split()).casefold()


def untranslated_words(source: str, result: Output | Failure) -> int:
    """Words of ``source`` left untranslated: all of them for a failed, empty or identical output,
    else the words the engine marked as unknown."""
    words = len(source.split())
    if isinstance(result, Failure) or not result.text or identical(source, result):
        return words
    return min(words, result.unknown)


@dataclass
class QualityCounts:
    """Per target language: how many outputs were identical, empty, had unknown-word marks, failed."""

    outputs: int = 0
    identical: int = 0
    empty: int = 0
    unknown_marked: int = 0
    unknown_words: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def add(self, source: str, result: Output | Failure) -> None:
        """Count one source sentence and its result."""
        self.outputs += 1
        if isinstance(result, Failure):
            self.failed += 1
            if len(self.failures) < 100:
                self.failures.append({"text": source[:300], "reason": result.reason})
            return
        self.empty += not result.text
        self.identical += identical(source, result)
        self.unknown_marked += result.unknown > 0
        self.unknown_words += result.unknown

    def summary(self) -> dict[str, Any]:
        """Counts and shares (of all outputs) for ``translate.json``."""
        share = (lambda n: round(n / self.outputs, 4)) if self.outputs else (lambda n: 0.0)
        return {
            "outputs": self.outputs,
            "identical_share": share(self.identical),
            "empty_share": share(self.empty),
            "unknown_marks_share": share(self.unknown_marked),
            "failed_share": share(self.failed),
            "identical": self.identical,
            "empty": self.empty,
            "with_unknown_marks": self.unknown_marked,
            "unknown_words": self.unknown_words,
            "failed": self.failed,
        }
