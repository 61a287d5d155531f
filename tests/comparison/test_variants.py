"""Post-processing variants of ``compare``: RUN+lsar / RUN+center (post-encode) and RUN@λ (WiSE-FT)."""

from __future__ import annotations

import pytest
import torch

from hybridbatch.comparison.runs.config import safe_name
from hybridbatch.comparison.runs.variants import check_variants, parse_variants, run_variants
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation import EncodeOptions, evaluate
from hybridbatch.models import load_model
from hybridbatch.neutrality.model import save_model


def test_parse_variants_and_bad_names() -> None:
    parsed = parse_variants(["base+lsar", "hybrid+center", "hybrid@0.5"], [0.3, 0.5])
    assert [v["name"] for v in parsed] == ["base+lsar", "hybrid+center", "hybrid@0.5", "hybrid@0.3"]
    assert parsed[0]["method"] == "lsar" and parsed[2]["weight"] == 0.5
    with pytest.raises(ConfigError, match="λ must be in"):
        parse_variants(["hybrid@1.5"])
    with pytest.raises(ConfigError, match="is not RUN"):
        parse_variants(["hybrid+pca"])
    with pytest.raises(ConfigError, match="no run named 'xx'"):
        check_variants(parse_variants(["xx+lsar"]), ["base", "hybrid"])


def test_variants_are_evaluated_next_to_their_runs(toy_dir, tmp_path) -> None:
    tuned = load_model("builtin:tiny", device="cpu")
    with torch.no_grad():
        for p in tuned.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    save_model(tuned, tmp_path / "hybrid", {}, "# tuned")

    def evaluate_fn(model, out, transform):
        cache = tmp_path / "cache"
        encoding = EncodeOptions(show_progress=False, cache_dir=cache)
        return evaluate(model, [str(toy_dir)], out, encoding=encoding, transform=transform)

    results = {}
    for name, spec in (("base", "builtin:tiny"), ("hybrid", str(tmp_path / "hybrid"))):
        results[name] = _plain(name, spec, evaluate_fn(spec, tmp_path / name, None), tmp_path)
    variants = parse_variants(["base+lsar"], [0.5])
    got = dict(run_variants(variants, results, "builtin:tiny", tmp_path, evaluate_fn))
    assert list(got) == ["base+lsar", "hybrid@0.5"]
    assert got["base+lsar"].strategy == "base +lsar" and got["base+lsar"].model == "builtin:tiny"
    assert got["base+lsar"].summary.multi_map != results["base"].summary.multi_map
    assert (tmp_path / "runs" / safe_name("hybrid@0.5") / "model" / "modules.json").is_file()
    assert got["hybrid@0.5"].strategy == "hybrid WiSE-FT λ=0.5"


def _plain(name, spec, report, where):
    from hybridbatch.comparison.runs.results import DatasetScores, StrategyResult

    (dataset,) = report.datasets.values()
    scores = DatasetScores(summary=dataset.summary)
    return StrategyResult(
        name=name,
        strategy=name,
        model=spec,
        summary=dataset.summary,
        datasets={"toy": scores},
        report=str(where),
    )


def test_compare_reports_variants_next_to_strategies(toy_dir, tmp_path) -> None:
    from hybridbatch.comparison import ComparisonSettings, compare

    def config(**extra):
        return ComparisonSettings(
            model="builtin:tiny",
            train=[str(toy_dir)],
            eval=[str(toy_dir)],
            strategies=["base"],
            out=tmp_path / "cmp",
            **extra,
        )

    with pytest.raises(ConfigError, match="no run named 'hybrid'"):
        compare(config(merge_weights=[0.5]))
    assert not (tmp_path / "cmp").exists()
    report = compare(config(variants=["base+lsar", "base+center"]))
    assert list(report.strategies) == ["base", "base+lsar", "base+center"]
    assert report.strategies["base+lsar"].summary.multi_map != report.strategies["base"].summary.multi_map
    assert "base+lsar" in (tmp_path / "cmp" / "comparison.md").read_text()
