"""The leakage guard: a run refuses training sources that share texts with its evaluation sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.comparison.test_report import old_comparison
from tests.conftest import TOY, write_lareqa
from tests.data.test_bitext import write_bitext

from hybridbatch.comparison.runs.report import OVERLAP_NOTE, render_markdown
from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.comparison.runs.run import check_leakage
from hybridbatch.data.leakage import find_overlaps
from hybridbatch.data.registry import load_source
from hybridbatch.errors import DataError

OTHER = {
    "z1": {
        "en": ("Who painted it?", ["Mia painted the wall.", "It is blue."], 0),
        "de": ("Wer hat es gemalt?", ["Mia hat die Wand gemalt.", "Sie ist blau."], 0),
    },
    "z2": {
        "en": ("What colour is it?", ["Mia painted the wall.", "It is blue."], 1),
        "de": ("Welche Farbe hat sie?", ["Mia hat die Wand gemalt.", "Sie ist blau."], 1),
    },
}


def test_shared_questions_or_answers_are_refused_and_allowed_on_request(tmp_path: Path) -> None:
    train = str(write_lareqa(tmp_path / "train"))
    held_out = {k: dict(langs) for k, langs in TOY.items() if k in ("q1", "q2")}
    evaluation = str(write_lareqa(tmp_path / "eval", held_out))
    with pytest.raises(DataError, match="shares 5 question texts and 5 answer sentences") as info:
        check_leakage([train], [evaluation], allow=False)
    assert "pass --allow-overlap" in str(info.value) and "\n" not in str(info.value)
    (allowed,) = check_leakage([train], [evaluation], allow=True)
    assert allowed.startswith(f"training source {train} shares 5 question texts")
    assert check_leakage([train], [str(write_lareqa(tmp_path / "other", OTHER)), "afriqa:test"], False) == []


def test_an_answer_sentence_alone_is_an_overlap(tmp_path: Path) -> None:
    """A bitext holding one answer sentence of the evaluation set (no question in common) leaks."""
    evaluation = load_source(str(write_lareqa(tmp_path / "eval", OTHER)))
    bitext = load_source(str(write_bitext(tmp_path / "bt", {"en": ["Mia painted the wall."], "de": ["x"]})))
    (overlap,) = find_overlaps([("bt", bitext)], [("eval", evaluation)])
    assert (overlap.questions, overlap.answers, overlap.example) == (0, 1, "mia painted the wall.")


def test_the_report_says_when_the_guard_was_overridden(tmp_path: Path) -> None:
    data = old_comparison(tmp_path)
    assert OVERLAP_NOTE not in render_markdown(ComparisonReport.model_validate(data))
    data["config"]["allow_overlap"] = True
    assert OVERLAP_NOTE in render_markdown(ComparisonReport.model_validate(data))


def test_the_shipped_splits_do_not_overlap(shared_data: Path, tmp_path: Path) -> None:
    """MLQA-R vs XQuAD-R (built from SQuAD dev) and flores200:train vs flores200:dev share no text; a
    bitext copied from FLORES-200's dev half is caught (``flores200`` evaluates ``flores200:dev``)."""
    check_leakage(["mlqa-r"], ["xquad-r"], allow=False)
    if not (shared_data / "flores200" / "devtest").is_dir():
        pytest.skip("no FLORES-200 copy in the data mirror")
    check_leakage(["flores200:train"], ["xquad-r", "flores200:dev"], allow=False)
    dev = load_source("flores200:dev")
    copied = {lang: [dev.question(i, lang).text for i in dev.ids[:3]] for lang in ("en", "de")}
    bitext = str(write_bitext(tmp_path / "copied", copied))
    with pytest.raises(
        DataError, match="shares 6 question texts and 6 answer sentences with evaluation set flores200"
    ):
        check_leakage([f"bitext:{bitext}"], ["flores200"], allow=False)
