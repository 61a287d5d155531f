"""Translation engines of ``data translate``: the common interface, the ``apertium`` engine and the
engine lookup (``apertium`` or ``hf:MODEL``, see :mod:`.hf`).

An engine translates a batch of sentences of one language pair and returns one :class:`Output` per
sentence. :func:`translate_batch` isolates failures: a batch that fails (the engine crashed, timed
out or returned the wrong number of sentences) is split in halves until the sentence that fails is
alone; that sentence is recorded as failed with the reason, and every other one is translated.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Protocol

from hybridbatch.data.translation.languages import APERTIUM_PIVOTS, Language, apertium_hint, language
from hybridbatch.errors import ConfigError


@dataclass(frozen=True)
class Output:
    """One translated sentence: the clean ``text`` and the number of words the engine marked as
    unknown (Apertium's ``*``/``#``/``@`` marks, removed from ``text``)."""

    text: str
    unknown: int = 0


@dataclass(frozen=True)
class Failure:
    """A sentence the engine could not translate, and why."""

    reason: str


class EngineError(Exception):
    """One engine call failed (the batch is split and retried; a single sentence is recorded)."""


class Engine(Protocol):
    """What :mod:`.run` needs from an engine."""

    spec: str
    default_batch_size: int

    def version(self) -> str:
        """Engine (and model) version: part of every cache key and of ``translate.json``."""
        ...

    def check(self, source: Language, targets: list[Language]) -> None:
        """Raise a ConfigError naming what to install when a pair or model is missing."""
        ...

    def pair_id(self, source: Language, target: Language) -> str:
        """How this engine translates the pair (e.g. ``eng-spa`` or ``eng-spa|es-pt``)."""
        ...

    def translate(self, texts: list[str], source: Language, target: Language) -> list[Output]:
        """One call: ``len(texts)`` outputs, or EngineError."""
        ...


def translate_batch(
    engine: Engine, texts: list[str], source: Language, target: Language
) -> list[Output | Failure]:
    """``texts`` translated; failing sentences isolated by bisection (see the module docstring)."""
    try:
        outputs = engine.translate(texts, source, target)
        if len(outputs) != len(texts):
            raise EngineError(f"engine returned {len(outputs)} sentences for {len(texts)}")
        return list(outputs)
    except EngineError as exc:
        if len(texts) == 1:
            return [Failure(str(exc))]
    half = len(texts) // 2
    return translate_batch(engine, texts[:half], source, target) + translate_batch(
        engine, texts[half:], source, target
    )


def resolve_engine(spec: str, beam_size: int = 4, max_length: int = 256) -> Engine:
    """The engine of ``--engine``: ``apertium`` or ``hf:MODEL`` (nothing is loaded yet)."""
    if spec == "apertium":
        return ApertiumEngine()
    if spec.startswith("hf:") and spec[3:].strip():
        from hybridbatch.data.translation.hf import HFEngine

        return HFEngine(spec, beam_size=beam_size, max_length=max_length)
    raise ConfigError(f"--engine: unknown engine {spec!r} (use apertium or hf:MODEL)")


# --- Apertium ------------------------------------------------------------------------------------
_SEGMENT_BREAK = re.compile(r"\n[ \t]*\n")
_MARKED = re.compile(r"(?<![\w*#@])([*#@])(\w[\w'’-]*)")


def apertium_marks(source: str, output: str) -> Output:
    """``output`` without Apertium's unknown-word marks (``*word``, ``#word``, ``@word``, also inside
    brackets or quotes), and their count; a mark the source already had (``#hashtag``) is text."""
    count = 0

    def unmark(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) in source:
            return match.group(0)
        count += 1
        return match.group(2)

    return Output(" ".join(_MARKED.sub(unmark, output).split()), count)


class ApertiumEngine:
    """Apertium (rule-based, offline) through its ``apertium`` command, many sentences per call.

    Sentences are sent separated by blank lines (Apertium keeps blank lines as they are) with the
    unknown-word marks on; a pair without a direct mode goes through a pivot (en → es → pt).
    """

    spec = "apertium"
    default_batch_size = 500  # one call costs ~0.3 s of CPU to start: amortised over many sentences

    def __init__(self, timeout_per_sentence: float = 2.0) -> None:
        self.timeout_per_sentence = timeout_per_sentence
        self._modes: list[str] | None = None

    def _command(self) -> str:
        found = shutil.which("apertium")
        if found is None:
            raise ConfigError(
                "--engine apertium: the apertium command is not installed "
                "(apt-get install apertium apertium-eng-spa apertium-eng-cat …, or `make system-deps`)"
            )
        return found

    def modes(self) -> list[str]:
        """The installed pair modes (``apertium -l``)."""
        if self._modes is None:
            result = subprocess.run([self._command(), "-l"], capture_output=True, text=True, timeout=60)
            self._modes = result.stdout.split()
        return self._modes

    def version(self) -> str:
        result = subprocess.run([self._command(), "-V"], capture_output=True, text=True, timeout=60)
        return " ".join((result.stdout or result.stderr).split()) or "apertium (unknown version)"

    def _mode(self, source: Language, target: Language) -> str | None:
        for a in source.apertium_names:
            for b in target.apertium_names:
                if f"{a}-{b}" in self.modes():
                    return f"{a}-{b}"
        return None

    def route(self, source: Language, target: Language) -> list[str]:
        """The modes that translate ``source -> target``: one, or two through a pivot ([] if none)."""
        direct = self._mode(source, target)
        if direct:
            return [direct]
        for pivot in (language(p) for p in APERTIUM_PIVOTS if p not in (source.code, target.code)):
            first, second = self._mode(source, pivot), self._mode(pivot, target)
            if first and second:
                return [first, second]
        return []

    def check(self, source: Language, targets: list[Language]) -> None:
        for target in targets:
            if not self.route(source, target):
                raise ConfigError(
                    f"--engine apertium: no {source.code}→{target.code} pair installed "
                    f"({apertium_hint(source, target)})"
                )

    def pair_id(self, source: Language, target: Language) -> str:
        return "|".join(self.route(source, target))

    def translate(self, texts: list[str], source: Language, target: Language) -> list[Output]:
        current = [Output(" ".join(t.split())) for t in texts]
        for mode in self.route(source, target):
            raw = self._run(mode, [o.text for o in current])
            current = [
                Output(marked.text, before.unknown + marked.unknown)
                for before, marked in (
                    (o, apertium_marks(o.text, r)) for o, r in zip(current, raw, strict=True)
                )
            ]
        return current

    def _run(self, mode: str, texts: list[str]) -> list[str]:
        timeout = 30 + self.timeout_per_sentence * len(texts)
        try:
            text = "\n\n".join(texts) + "\n"
            command = [self._command(), mode]
            result = subprocess.run(command, input=text, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EngineError(f"apertium {mode} timed out after {timeout:.0f} s") from None
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise EngineError(f"apertium {mode} exited with {result.returncode}: {last[:200]}")
        parts = [p.strip() for p in _SEGMENT_BREAK.split(result.stdout.strip("\n"))]
        if len(parts) != len(texts):
            raise EngineError(f"apertium {mode} returned {len(parts)} segments for {len(texts)}")
        return parts
