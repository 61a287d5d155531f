"""Shared fixtures: the local data mirror, a small synthetic LAReQA directory, the tiny model."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hybridbatch.cli import main

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """Import the script ``benchmarks/<name>.py`` as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "HYBRIDBATCH_DATA" not in os.environ and (SHARED_DATA / "xquad-r").is_dir():
    os.environ["HYBRIDBATCH_DATA"] = str(SHARED_DATA)

# A few parallel questions in three languages: (id, {lang: (question, [sentences], answer index)}).
TOY = {
    "q1": {
        "en": ("Where is the tower?", ["The tower is in Paris.", "It is tall."], 0),
        "de": ("Wo ist der Turm?", ["Der Turm ist in Paris.", "Er ist hoch."], 0),
        "es": ("¿Dónde está la torre?", ["La torre está en París.", "Es alta."], 0),
    },
    "q2": {
        "en": ("How tall is it?", ["The tower is in Paris.", "It is 300 metres tall."], 1),
        "de": ("Wie hoch ist er?", ["Der Turm ist in Paris.", "Er ist 300 Meter hoch."], 1),
    },
    "q3": {
        "en": ("Who wrote the book?", ["Anna wrote the book.", "It sold well."], 0),
        "es": ("¿Quién escribió el libro?", ["Anna escribió el libro.", "Se vendió bien."], 0),
        "de": ("Wer schrieb das Buch?", ["Anna schrieb das Buch.", "Es verkaufte sich gut."], 0),
    },
    "q4": {
        "en": ("When did it sell?", ["Anna wrote the book.", "It sold well in 1990."], 1),
        "de": ("Wann verkaufte es sich?", ["Anna schrieb das Buch.", "Es verkaufte sich 1990."], 1),
        "es": ("¿Cuándo se vendió?", ["Anna escribió el libro.", "Se vendió en 1990."], 1),
    },
}


def write_lareqa(root: Path, items: dict = TOY) -> Path:
    """Write ``items`` as a LAReQA directory (one ``<lang>.json`` per language) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    by_lang: dict[str, list] = {}
    for qid, langs in items.items():
        for lang, (question, sentences, answer) in langs.items():
            context, breaks = "", []
            for s in sentences:
                start = len(context) + (1 if context else 0)
                context = f"{context} {s}" if context else s
                breaks.append([start, start + len(s) - 1])
            qa = {
                "id": qid,
                "question": question,
                "answers": [{"answer_start": breaks[answer][0], "text": sentences[answer]}],
            }
            paragraph = {"context": context, "sentences": sentences, "sentence_breaks": breaks, "qas": [qa]}
            by_lang.setdefault(lang, []).append({"title": qid, "paragraphs": [paragraph]})
    for lang, articles in by_lang.items():
        (root / f"{lang}.json").write_text(
            json.dumps({"version": "1.1", "data": articles}, ensure_ascii=False), encoding="utf-8"
        )
    return root


@pytest.fixture
def toy_dir(tmp_path: Path) -> Path:
    """A tiny LAReQA directory with 4 parallel ids in en/de/es."""
    return write_lareqa(tmp_path / "toy")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The local data mirror (skip when absent)."""
    home = Path(os.environ.get("HYBRIDBATCH_DATA", SHARED_DATA))
    if not (home / "mlqa-r").is_dir():
        pytest.skip("no local data mirror (HYBRIDBATCH_DATA)")
    return home


@pytest.fixture(scope="session")
def tiny_model():
    """The builtin tiny random encoder (2 layers, real multilingual tokenizer)."""
    from hybridbatch.models import load_model

    return load_model("builtin:tiny")


CliResult = tuple[int, str, str]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """``cli(*args) -> (exit code, stdout, stderr)`` of ``hybridbatch *args`` via ``cli.main``."""

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["hybridbatch", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def afriqa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home (``HYBRIDBATCH_DATA``) whose AfriQA is the toy of ``tests/data/test_afriqa.py``,
    pinned as the only files, so no download is attempted."""
    import hashlib

    from data.test_afriqa import write_afriqa
    from hybridbatch.data import download

    home = tmp_path / "home"
    write_afriqa(home / "afriqa")
    pins = {}
    for file in (home / "afriqa").glob("gold_passages/*/*.json"):
        _, _, lang, pivot, split, _ = file.name.split(".")
        pins[(lang, pivot, split)] = hashlib.sha256(file.read_bytes()).hexdigest()
    monkeypatch.setattr(download, "AFRIQA_SHA256", pins)
    monkeypatch.setenv("HYBRIDBATCH_DATA", str(home))
    return home
