"""Studies take sources as train does: the recipe's ``train``/``sources`` and per-variant ``data``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.comparison.test_leakage import OTHER
from tests.conftest import write_lareqa
from tests.data.test_bitext import write_bitext

from hybridbatch.comparison.studies.study import PlannedRun, load_study, plan
from hybridbatch.errors import ConfigError
from hybridbatch.training import TrainConfig


def plan_toy_study(tmp_path: Path, variants: dict) -> dict[str, PlannedRun]:
    """The planned runs of a base/hybrid study on a toy LAReQA set plus ``variants`` (name -> overrides)."""
    study = {
        "name": "toy",
        "question": "Does it help?",
        "comparison": {
            "model": "builtin:tiny",
            "sources": [str(tmp_path / "toy")],
            "strategies": ["base", "hybrid"],
            "budget": 2,
        },
        "variants": variants,
        "evaluations": [str(write_lareqa(tmp_path / "eval", OTHER))],
        "reuse": [],
        "out": str(tmp_path / "study"),
    }
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    return {run.name: run for run in plan(load_study(path))}


def test_a_variant_trains_on_other_sources(tmp_path: Path) -> None:
    toy = str(write_lareqa(tmp_path / "toy"))
    bitext = write_bitext(tmp_path / "bt")
    runs = plan_toy_study(tmp_path, {"with-bitext": {"data": [toy, {"path": str(bitext), "weight": 0.5}]}})

    def sources(name: str) -> list[str]:
        settings = runs[name].train_settings
        return [str(spec) for spec in TrainConfig(**settings, out=tmp_path / "unused").data]

    assert sources("hybrid") == [toy]
    assert sources("with-bitext") == [toy, f"bitext:{bitext}@0.5"]  # kind detected, weight kept


def test_a_variant_may_train_longer_than_the_budget_and_epochs_are_refused(tmp_path: Path) -> None:
    write_lareqa(tmp_path / "toy")
    runs = plan_toy_study(tmp_path, {"hybrid-s4": {"steps": 4}})
    assert runs["hybrid"].train_settings["steps"] == 2 and runs["hybrid-s4"].train_settings["steps"] == 4
    with pytest.raises(ConfigError, match="run hybrid-e2: training setting 'epochs'"):
        plan_toy_study(tmp_path, {"hybrid-e2": {"epochs": 2.0}})
