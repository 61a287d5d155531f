"""Distillation on a separate stream (``--distill-data SOURCE``): the draw, the term by hand, GradCache and
exact resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hybridbatch.errors import ConfigError
from hybridbatch.training import TrainConfig, train

from .test_distill import _config, _gradients, _state, crash_and_resume, same_files

LINES = {
    "en": ["The cat sleeps.", "It rains today.", "We eat bread.", "The house is red.", "Birds can fly."],
    "de": [
        "Die Katze schläft.",
        "Es regnet heute.",
        "Wir essen Brot.",
        "Das Haus ist rot.",
        "Vögel fliegen.",
    ],
    "es": ["El gato duerme.", "Hoy llueve.", "Comemos pan.", "La casa es roja.", "Los pájaros vuelan."],
}


@pytest.fixture
def bitext(tmp_path: Path) -> Path:
    """A 3-language bitext source (one ``<lang>.txt`` per language, aligned by line)."""
    root = tmp_path / "bitext"
    root.mkdir()
    for lang, lines in LINES.items():
        (root / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_draw_is_a_function_of_seed_and_step_and_ranks_split_it(bitext) -> None:
    from hybridbatch.data.registry import load_source
    from hybridbatch.training.distill_stream import DistillStream

    stream = DistillStream(load_source(str(bitext)), english=True, seed=5)
    students, targets = stream.draw(3, 8)
    assert (students, targets) == stream.draw(3, 8)
    assert stream.draw(4, 8) != (students, targets)
    assert DistillStream(load_source(str(bitext)), english=True, seed=6).draw(3, 8) != (students, targets)
    english = {de: en for en, de in zip(LINES["en"], LINES["de"], strict=True)}
    english |= {es: en for en, es in zip(LINES["en"], LINES["es"], strict=True)}
    english |= {en: en for en in LINES["en"]}
    assert [english[s] for s in students] == targets  # each text's English side
    rank0, rank1 = stream.draw(3, 8, 0, 2), stream.draw(3, 8, 1, 2)
    assert rank0[0] == students[0::2] and rank1[0] == students[1::2]
    self_stream = DistillStream(load_source(str(bitext)), english=False, seed=5)
    assert self_stream.draw(3, 8) == (students, students)


def test_both_sides_adds_each_ids_english_text_towards_itself(bitext) -> None:
    from hybridbatch.data.registry import load_source
    from hybridbatch.training.distill_stream import DistillStream

    one = DistillStream(load_source(str(bitext)), english=True, seed=5)
    both = DistillStream(load_source(str(bitext)), english=True, seed=5, both_sides=True)
    students, targets = both.draw(3, 8)
    assert len(students) == 8 and students != one.draw(3, 8)[0]
    english = set(LINES["en"])
    for i, (student, target) in enumerate(zip(students, targets, strict=True)):
        if student not in english:  # a German or Spanish text: its English side comes next, to itself
            assert target in english and (i == 7 or (students[i + 1], targets[i + 1]) == (target, target))
    assert sum(s in english for s in students) >= 4  # at least half the texts are English now
    assert both.draw(3, 8, 1, 2)[0] == students[1::2]


def test_both_sides_is_in_the_fingerprint_only_where_it_acts(bitext) -> None:
    from hybridbatch.comparison.studies.study import same_recipe
    from hybridbatch.training import TrainConfig

    base = {"model": "builtin:tiny", "data": ["x"], "steps": 2, "distill_weight": 1.0}
    stream = {**base, "distill_mode": "english", "distill_data": str(bitext)}
    assert TrainConfig(**stream, out=Path("o")).material()["distill_both_sides"] is True
    for settings in (base, {**base, "distill_mode": "english"}, {**stream, "distill_weight": 0.0}):
        assert "distill_both_sides" not in TrainConfig(**settings, out=Path("o")).material()
    # a run trained before the setting (English side only) is not today's default, but is `false`
    older = TrainConfig(**stream, out=Path("o")).material()
    older.pop("distill_both_sides")
    assert not same_recipe({"config_material": older}, stream)
    one_side = {**stream, "distill_both_sides": False}
    assert same_recipe({"config_material": older}, one_side)
    assert TrainConfig(**one_side, out=Path("o")).material() == older  # it also resumes


def test_stream_term_by_hand_and_gradcache(toy_dir, tmp_path, bitext) -> None:
    settings = {"distill_weight": 0.5, "distill_data": str(bitext), "distill_precision": "fp32"}
    plain = _state(toy_dir, tmp_path)
    streamed = _state(toy_dir, tmp_path, **settings)
    cached = _state(toy_dir, tmp_path, mini_batch_size=2, **settings)
    loss0, _ = _gradients(plain)
    loss1, grads1 = _gradients(streamed)
    loss2, grads2 = _gradients(cached)
    students, _ = streamed.distiller.stream.draw(0, streamed.config.batch_size)
    student = streamed.st_model.encode(students, prompt_name="query", normalize_embeddings=True)
    teacher = streamed.distiller.teacher.encode(students, prompt_name="query", normalize_embeddings=True)
    distance = float(np.mean(1 - (student * teacher).sum(axis=1)))
    assert distance > 1e-4
    assert streamed.step_metrics["distill"] == pytest.approx(distance, rel=1e-4)
    assert loss1 == pytest.approx(loss0 + 0.5 * distance, abs=1e-5)
    assert loss2 == pytest.approx(loss1, abs=1e-6)
    for a, b in zip(grads1, grads2, strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4)


def test_resume_with_a_distillation_stream_is_exact(toy_dir, tmp_path, bitext, monkeypatch) -> None:
    settings = {"distill_weight": 1.0, "distill_data": str(bitext), "distill_mode": "english"}
    straight = train(_config(toy_dir, tmp_path / "straight", **settings))
    assert straight.teacher_seconds is not None
    crash_and_resume(_config(toy_dir, tmp_path / "crashed", **settings), monkeypatch, at_step=4)
    assert same_files(tmp_path / "straight" / "model", tmp_path / "crashed" / "model")


def test_stream_settings_are_checked(tmp_path, bitext) -> None:
    for value, message in [
        ("xquad-r", "xquad-r is an evaluation-only dataset"),
        ("flores200:dev", "flores200:dev is an evaluation-only dataset"),
        (f"{bitext}@0.5", "takes no @weight"),
    ]:
        with pytest.raises(ConfigError, match=f"--distill-data: .*{message}"):
            TrainConfig.validated({"out": tmp_path, "distill_data": value}, flags={"distill_data": value})
    config = TrainConfig(out=tmp_path, distill_weight=1.0, distill_data="flores200:train")
    assert config.material()["distill_data"] == "flores200:train"


def test_english_stream_without_english_fails_before_the_model(
    toy_dir, tmp_path, bitext, monkeypatch
) -> None:
    import hybridbatch.models

    (bitext / "en.txt").unlink()
    monkeypatch.setattr(hybridbatch.models, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    settings = {"distill_weight": 1.0, "distill_data": str(bitext), "distill_mode": "english"}
    with pytest.raises(ConfigError, match=r"--distill-mode english: --distill-data .* has no English side"):
        train(_config(toy_dir, tmp_path / "run", **settings))
