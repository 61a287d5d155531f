"""Engines: failure isolation by bisection, Apertium's unknown-word marks, the real Apertium command
(skipped with the reason when its packages are missing: ``make system-deps`` installs them)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hybridbatch.data.translation.engines import (
    ApertiumEngine,
    EngineError,
    Failure,
    Output,
    apertium_marks,
    translate_batch,
)
from hybridbatch.data.translation.languages import LANGUAGES, apertium_hint, language
from hybridbatch.errors import ConfigError

EN, ES, CA = LANGUAGES["en"], LANGUAGES["es"], LANGUAGES["ca"]


class Upper:
    """A Python engine that fails any call holding a sentence with 'boom'."""

    spec = "upper"

    def __init__(self) -> None:
        self.calls = 0

    def translate(self, texts, source, target):
        self.calls += 1
        if any("boom" in t for t in texts):
            raise EngineError("boom inside")
        return [Output(t.upper()) for t in texts]


def test_a_failing_sentence_is_isolated_and_the_others_translated():
    engine = Upper()
    texts = [f"s{i}" for i in range(7)] + ["boom"] + ["s8"]
    results = translate_batch(engine, texts, EN, ES)
    assert results[7] == Failure("boom inside")
    assert [r.text for i, r in enumerate(results) if i != 7] == [t.upper() for t in texts if t != "boom"]
    assert engine.calls <= 2 * 4 + 1  # bisection: a few calls per level, not one per sentence


def test_apertium_marks_are_counted_and_removed_but_source_symbols_kept():
    assert apertium_marks("the xyzzy tower", "la *xyzzy torre") == Output("la xyzzy torre", 1)
    assert apertium_marks("he is", "#ser @él") == Output("ser él", 2)
    assert apertium_marks("3 * 4 # items", "3 * 4 # artículos") == Output("3 * 4 # artículos", 0)
    assert apertium_marks("#hashtag now", "#hashtag ahora") == Output("#hashtag ahora", 0)
    assert apertium_marks("[approx] (Xyz)", "[*approx] (*Xyz) «*Qq»") == Output("[approx] (Xyz) «Qq»", 3)
    assert apertium_marks("l'Xyz", "de *l'Xyz") == Output("de l'Xyz", 1)


def test_language_table_and_install_hints():
    assert language("gl").apertium_names == ("glg", "gl")
    assert language("hr").apertium_names == ("hbs_HR", "hr")
    assert apertium_hint(EN, CA) == "apt-get install apertium-eng-cat"
    assert apertium_hint(EN, language("gl")) == "apt-get install apertium-en-gl"
    assert apertium_hint(EN, language("ro")) == "Debian packages no such Apertium pair; use --engine hf:MODEL"
    with pytest.raises(ConfigError, match="--to: unknown language code 'xx'"):
        language("xx")


def _has_modes(*modes: str) -> bool:
    if shutil.which("apertium") is None:
        return False
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True).stdout.split()
    return all(mode in listed for mode in modes)


needs_apertium = pytest.mark.skipif(
    not _has_modes("eng-spa", "eng-cat"),
    reason="apertium with eng-spa and eng-cat is not installed (make system-deps installs them)",
)


@needs_apertium
def test_real_apertium_keeps_one_output_per_sentence_in_a_batch():
    engine = ApertiumEngine()
    texts = ["The tower is in Paris.", "Where is the xyzzyq tower?", "It is tall", "1990", "Hello.\n\nWorld."]
    outputs = engine.translate(texts, EN, ES)
    assert len(outputs) == len(texts)
    assert outputs[0].text == "La torre es en París." and outputs[0].unknown == 0
    assert "xyzzyq" in outputs[1].text and "*" not in outputs[1].text and outputs[1].unknown == 1
    assert outputs[3].text == "1990"
    assert engine.route(EN, CA) == ["eng-cat"]
    assert engine.version().startswith("Apertium")


@needs_apertium
def test_real_apertium_missing_pair_names_the_package():
    engine = ApertiumEngine()
    engine._modes = [m for m in engine.modes() if m != "eng-cat"]
    with pytest.raises(ConfigError, match=r"no en→ca pair installed \(apt-get install apertium-eng-cat\)"):
        engine.check(EN, [ES, CA])
