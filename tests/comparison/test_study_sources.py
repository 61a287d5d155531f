"""Studies take sources as train does: the recipe's ``train``/``sources`` and per-variant ``data``."""

from __future__ import annotations

from pathlib import Path

import yaml
from tests.comparison.test_leakage import OTHER
from tests.conftest import write_lareqa
from tests.data.test_bitext import write_bitext

from hybridbatch.comparison.studies.study import load_study, plan
from hybridbatch.training import TrainConfig


def test_a_variant_trains_on_other_sources(tmp_path: Path) -> None:
    toy = str(write_lareqa(tmp_path / "toy"))
    bitext = write_bitext(tmp_path / "bt")
    study = {
        "name": "mix",
        "question": "Does bitext help?",
        "comparison": {
            "model": "builtin:tiny",
            "sources": [toy],
            "strategies": ["base", "hybrid"],
            "budget": 2,
        },
        "variants": {"with-bitext": {"data": [toy, {"path": str(bitext), "weight": 0.5}]}},
        "evaluations": [str(write_lareqa(tmp_path / "eval", OTHER))],
        "reuse": [],
        "out": str(tmp_path / "study"),
    }
    path = tmp_path / "mix.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    runs = {run.name: run for run in plan(load_study(path))}

    def sources(name: str) -> list[str]:
        settings = runs[name].train_settings
        return [str(spec) for spec in TrainConfig(**settings, out=tmp_path / "unused").data]

    assert sources("hybrid") == [toy]
    assert sources("with-bitext") == [toy, f"bitext:{bitext}@0.5"]  # kind detected, weight kept
