"""``compare`` with several seeds on the tiny model: per-seed run dirs, CIs, p-values, seed spread."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TOY, write_lareqa
from hybridbatch.comparison import ComparisonConfig
from hybridbatch.comparison.seeds import compare_seeds, print_significance


def test_compare_two_seeds_reports_significance(tmp_path: Path, tiny_model, capsys) -> None:
    held_out = {k: dict(langs) for k, langs in TOY.items()}
    config = ComparisonConfig(
        model="builtin:tiny",
        train=[str(write_lareqa(tmp_path / "train"))],
        eval=[str(write_lareqa(tmp_path / "heldout", held_out))],
        strategies=["base", "xy", "hybrid"],
        budget=2,
        out=tmp_path / "cmp",
        train_settings={"batch_size": 2, "dev_fraction": 0.0, "checkpoint_every": 0, "show_progress": False},
    )
    result = compare_seeds(config, [0, 1], n_resamples=199)
    out = config.out
    assert (out / "runs" / "hybrid" / "model").is_dir()  # seed 0 = the plain comparison's runs
    assert (out / "seeds" / "seed-1" / "runs" / "hybrid" / "model").is_dir()
    assert (out / "runs" / "hybrid" / "eval" / "per_query.json").is_file()
    sig = result.significance[0]
    assert sig.reference == "hybrid" and sig.seeds == [0, 1]
    multi = sig.rows["xy"]["Multi mAP"]
    assert multi.test is not None and 0.0 < multi.test.p_value <= 1.0
    assert multi.test.ci_low <= multi.test.difference <= multi.test.ci_high
    assert multi.seed_mean is not None and multi.seed_std is not None and multi.delta_std is not None
    markdown = (out / "comparison.md").read_text()
    assert "## Significance" in markdown and "Across seeds 0, 1" in markdown and "p=" in markdown
    assert json.loads((out / "significance.json").read_text())["seeds"] == [0, 1]
    print_significance(result)
    printed = capsys.readouterr().out
    assert "Δ vs hybrid" in printed and "2 seeds" in printed and "p=" in printed
