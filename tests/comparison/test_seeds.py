"""``hybridbatch compare --seeds 0,1`` on the tiny model: per-seed run dirs, CIs, p-values, seed spread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import TOY, write_lareqa


def _args(tmp_path: Path) -> list[str]:
    settings = {"train_settings": {"batch_size": 2, "dev_fraction": 0.0, "checkpoint_every": 0}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    held_out = {k: dict(langs) for k, langs in TOY.items()}
    return [
        "compare",
        "--model",
        "builtin:tiny",
        "--train",
        str(write_lareqa(tmp_path / "train")),
        "--eval",
        str(write_lareqa(tmp_path / "heldout", held_out)),
        "--strategies",
        "base,xy,hybrid",
        "--budget",
        "2",
        "--config",
        str(tmp_path / "recipe.yaml"),
        "--out",
        str(tmp_path / "cmp"),
        "--allow-overlap",  # the held-out toy repeats the training texts (the leakage guard would refuse)
    ]


def test_compare_two_seeds_reports_significance(tmp_path: Path, tiny_model, cli, afriqa_home: Path) -> None:
    code, printed, err = cli(*_args(tmp_path), "--seeds", "0,1", "--eval", "afriqa")
    assert code == 0, err
    out = tmp_path / "cmp"
    assert (out / "runs" / "hybrid" / "model").is_dir()  # seed 0 = the plain comparison's runs
    assert (out / "seeds" / "seed-1" / "runs" / "hybrid" / "model").is_dir()
    assert "Δ vs hybrid" in printed and "2 seeds" in printed and "p=" in printed and " ± " in printed
    data = json.loads((out / "significance.json").read_text())
    assert data["seeds"] == [0, 1] and data["reference"] == "hybrid"
    multi = data["tables"][0]["rows"]["xy"]["Multi mAP"]
    assert 0.0 < multi["test"]["p_value"] <= 1.0
    assert multi["test"]["ci_low"] <= multi["test"]["difference"] <= multi["test"]["ci_high"]
    assert multi["seed_std"] is not None and multi["delta_std"] is not None
    markdown = (out / "comparison.md").read_text()
    assert "## Significance" in markdown and "Across seeds 0, 1" in markdown and "p=" in markdown
    assert "### AfriQA test (seed 0)" in markdown and "### afriqa test: against hybrid" in markdown
    assert (out / "seeds" / "seed-1" / "runs" / "xy" / "afriqa-test" / "report.json").is_file()
    assert [t["dataset"] for t in data["tables"]] == ["heldout", "afriqa test"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seeds", "0,zero"], "--seeds: 'zero' is not a non-negative integer"),
        (["--reference", "xx"], "--reference: 'xx' is not one of the runs (base, xy, hybrid)"),
        (["--eval", "afriqa:val"], "AfriQA has no split 'val'"),
    ],
)
def test_bad_significance_flags_fail_before_training(tmp_path: Path, cli, flags, message) -> None:
    code, _, err = cli(*_args(tmp_path), *flags)
    assert code == 2 and err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cmp" / "runs").exists()
