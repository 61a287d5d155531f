"""Training sources: a dataset (name or path) with a *kind* and an optional *weight*, declared once.

A source is written ``NAME[:SPLIT][@WEIGHT]`` for a named dataset (``mlqa-r``, ``flores200:train@0.3``)
and ``[KIND:]PATH[@WEIGHT]`` for a path (``bitext:corpus/@0.2``); in YAML it may also be a mapping
(``{name: flores200, split: train, weight: 0.3}`` or ``{path: corpus/, kind: bitext}``). Kinds:

- ``qa``: parallel QA (LAReQA directory or JSONL): X-X and X-Y pairs, in-paragraph hard negatives;
- ``bitext``: multi-way parallel sentences (one ``<lang>.txt`` per language, aligned by line): X-Y
  pairs only, hard negatives from the same document;
- ``pairs``: query–passage pairs per language keyed by a parallel id (JSONL, the mMARCO layout).

A named dataset has a fixed kind; a path without a kind is detected from its layout (a directory of
``.txt`` files and no ``<lang>.json`` is bitext, a ``.jsonl`` file whose first record has ``passage``
or a directory holding ``pairs.jsonl`` is pairs, anything else qa). The canonical string
(:meth:`SourceSpec.__str__`) is what run fingerprints hold: a plain qa path or name stays as written,
so runs from before sources had kinds keep their fingerprints.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from hybridbatch.data.lareqa import LANG_FILE

KINDS = ("qa", "bitext", "pairs")
#: A directory holding this file is a pairs source (the layout ``data translate`` writes for one).
PAIRS_DIRECTORY_FILE = "pairs.jsonl"
#: Named datasets: name -> (kind, splits; the first split is the default, empty for none).
NAMED_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "mlqa-r": ("qa", ()),
    "xquad-r": ("qa", ()),
    "flores200": ("bitext", ("train", "dev")),
}
SPEC_FORMS = "NAME[:SPLIT][@WEIGHT] or [KIND:]PATH[@WEIGHT]"
_MAPPING_KEYS = ("name", "path", "split", "kind", "weight")


class SourceSpec(BaseModel):
    """One training source: ``name`` (dataset name or path), ``split``, ``kind`` and ``weight``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    split: str | None = None
    weight: float | None = None

    @property
    def named(self) -> bool:
        """Whether this is a named dataset (not a path)."""
        return self.name in NAMED_SOURCES

    @property
    def dataset(self) -> str:
        """The dataset without weight: ``name[:split]`` (the loader's spec for named datasets)."""
        return f"{self.name}:{self.split}" if self.split else self.name

    def __str__(self) -> str:
        text = self.dataset
        if not self.named and self.kind != "qa":
            text = f"{self.kind}:{text}"
        return text if self.weight is None else f"{text}@{self.weight!r}"


def parse_source(value: Any) -> SourceSpec:
    """A :class:`SourceSpec` from a spec string, a YAML mapping or a SourceSpec (ValueError if invalid)."""
    if isinstance(value, SourceSpec):
        return value
    if isinstance(value, dict):
        return _from_mapping(value)
    if not isinstance(value, str):
        raise ValueError(f"a source is a string ({SPEC_FORMS}) or a mapping, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError(f"empty source (expected {SPEC_FORMS})")
    if Path(text).expanduser().exists():
        return _path_source(text, None, None)
    text, weight = _split_weight(text)
    head, sep, rest = text.partition(":")
    if head in KINDS and sep:
        kind, target = head, rest
    elif head in NAMED_SOURCES:
        return _named_source(head, rest if sep else None, None, weight)
    elif sep and not Path(text).expanduser().exists():
        raise ValueError(
            f"unknown source kind {head!r} in {value!r} (kinds: {', '.join(KINDS)}; "
            f"named datasets: {', '.join(NAMED_SOURCES)})"
        )
    else:
        kind, target = None, text
    name, _, split = target.partition(":")
    if name in NAMED_SOURCES:
        return _named_source(name, split or None, kind, weight)
    return _path_source(target, kind, weight)


def _split_weight(text: str) -> tuple[str, float | None]:
    body, sep, tail = text.rpartition("@")
    if not sep:
        return text, None
    try:
        weight = float(tail)
    except ValueError:
        raise ValueError(f"weight {tail!r} of source {text!r} is not a number") from None
    return body, check_weight(weight, text)


def check_weight(weight: Any, source: str) -> float:
    """``weight`` as a float when it is finite and > 0 (ValueError naming the source otherwise)."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise ValueError(f"weight of source {source!r} must be a number, got {weight!r}")
    if not math.isfinite(weight) or weight <= 0:
        raise ValueError(f"weight of source {source!r} must be a finite number > 0, got {weight!r}")
    return float(weight)


def _named_source(name: str, split: str | None, kind: str | None, weight: float | None) -> SourceSpec:
    own_kind, splits = NAMED_SOURCES[name]
    if kind is not None and kind != own_kind:
        raise ValueError(f"{name} is a {own_kind} source, not {kind}")
    if split is not None and split not in splits:
        choices = f"choose from {', '.join(splits)}" if splits else "it has no named splits"
        raise ValueError(f"{name}: unknown split {split!r} ({choices})")
    if split is None and splits:
        split = splits[0]
    return SourceSpec(name=name, kind=own_kind, split=split, weight=weight)


def _path_source(path: str, kind: str | None, weight: float | None) -> SourceSpec:
    if not path:
        raise ValueError(f"empty path in source (expected {SPEC_FORMS})")
    return SourceSpec(name=path, kind=kind or detect_kind(Path(path).expanduser()), weight=weight)


def _from_mapping(value: dict[str, Any]) -> SourceSpec:
    unknown = sorted(set(value) - set(_MAPPING_KEYS))
    if unknown:
        raise ValueError(f"unknown source key {unknown[0]!r} (known: {', '.join(_MAPPING_KEYS)})")
    if ("name" in value) == ("path" in value):
        raise ValueError("a source mapping needs exactly one of 'name' (a named dataset) or 'path'")
    target = str(value.get("name") or value.get("path") or "")
    kind = value.get("kind")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown source kind {kind!r} (choose from {', '.join(KINDS)})")
    weight = None if value.get("weight") is None else check_weight(value["weight"], target)
    if "name" in value:
        if target not in NAMED_SOURCES:
            raise ValueError(
                f"unknown dataset name {target!r} (known: {', '.join(NAMED_SOURCES)}; or use 'path')"
            )
        return _named_source(target, value.get("split"), kind, weight)
    if value.get("split") is not None:
        raise ValueError(f"source {target!r}: 'split' applies to named datasets only")
    return _path_source(target, kind, weight)


def detect_kind(path: Path) -> str:
    """The kind of a source path from its layout (see the module docstring); ``qa`` when unsure."""
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file()]
        if (path / PAIRS_DIRECTORY_FILE).is_file():  # e.g. a `data translate` output of a pairs source
            return "pairs"
        lareqa = any(LANG_FILE.match(p.name) for p in files)  # <lang>.json (not translate.json)
        return "bitext" if any(p.suffix == ".txt" for p in files) and not lareqa else "qa"
    if path.is_file() and path.suffix == ".jsonl":
        try:
            with path.open(encoding="utf-8") as handle:
                first = next((line for line in handle if line.strip()), "")
            record = json.loads(first) if first else {}
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return "qa"  # the loader reports the damage
        return "pairs" if isinstance(record, dict) and "passage" in record else "qa"
    return "qa"


#: The settings type of a source: parsed from a string or mapping, written as its canonical string.
Source = Annotated[SourceSpec, BeforeValidator(parse_source), PlainSerializer(str, return_type=str)]
