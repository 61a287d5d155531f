"""Post-processing variants in ``hybridbatch compare``, reported next to the trained strategies.

- ``NAME+lsar`` / ``NAME+center``: the run NAME's model with LSAR (Xie et al. 2022) or per-language
  centering (Libovický et al. 2020) fitted on the evaluated candidate pools, applied after encoding
  (its cached embeddings are reused: seconds);
- ``NAME@λ``: WiSE-FT (Wortsman et al. 2022), (1 − λ)·base + λ·NAME, saved to ``OUT/runs/NAME@λ/model``
  and evaluated like a strategy (one re-encode). ``--merge-weights 0.3,0.5,0.7`` adds ``hybrid@λ``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hybridbatch.comparison.runs.config import safe_name
from hybridbatch.comparison.runs.results import StrategyResult
from hybridbatch.errors import ConfigError
from hybridbatch.neutrality.embeddings import Neutralizer
from hybridbatch.neutrality.merge import merge_models

PATTERN = re.compile(r"^(?P<run>[\w.-]+?)(?:\+(?P<method>lsar|center)|@(?P<weight>[0-9.]+))$")


def parse_variants(variants: Sequence[str], merge_weights: Sequence[float] = ()) -> list[dict[str, Any]]:
    """``[{name, run, method|weight}]`` from ``--variants`` names and the ``--merge-weights`` sweep."""
    names = list(dict.fromkeys([*variants, *(f"hybrid@{w:g}" for w in merge_weights)]))
    out = []
    for name in names:
        match = PATTERN.match(name.strip())
        if match is None:
            raise ConfigError(f"--variants: {name!r} is not RUN+lsar, RUN+center or RUN@λ (e.g. hybrid@0.5)")
        weight = match["weight"]
        if weight is not None and not 0.0 <= float(weight) <= 1.0:
            raise ConfigError(f"--variants/--merge-weights: λ must be in [0, 1], got {weight} in {name!r}")
        out.append(
            {
                "name": name.strip(),
                "run": match["run"],
                "method": match["method"],
                "weight": float(weight) if weight is not None else None,
            }
        )
    return out


def check_variants(variants: list[dict[str, Any]], run_names: Sequence[str]) -> None:
    """Every variant must build on a run of this comparison (checked before any training)."""
    for v in variants:
        if v["run"] not in run_names:
            raise ConfigError(
                f"--variants {v['name']}: no run named {v['run']!r} (runs: {', '.join(run_names)})"
            )
        if v["weight"] is not None and v["run"] == "base":
            raise ConfigError(f"--variants {v['name']}: merging base with itself is base")


def run_variants(
    variants: list[dict[str, Any]],
    results: dict[str, StrategyResult],
    base_model: str,
    out: Path,
    evaluate_fn: Any,
    eval_name: str = "eval",
) -> Iterator[tuple[str, StrategyResult]]:
    """Evaluate each variant; ``evaluate_fn(model, out_dir, transform)`` returns an EvaluationReport.

    Yields ``(name, result)`` one variant at a time (so a partial comparison can be written).
    """
    for v in variants:
        parent = results[v["run"]]
        run_dir = out / "runs" / safe_name(v["name"])
        if v["method"] is not None:
            model, transform = parent.model, Neutralizer(v["method"])
        else:
            model, transform = str(run_dir / "model"), None
            if not (run_dir / "model" / "modules.json").is_file():
                merge_models(base_model, parent.model, v["weight"], run_dir / "model")
        report = evaluate_fn(model, run_dir / eval_name, transform)
        yield v["name"], to_result(v, parent, model, report, run_dir / eval_name / "report.json")


def to_result(variant: dict[str, Any], parent: StrategyResult, model: str, report: Any, path: Path):
    """A :class:`StrategyResult` row for a variant (no training cost of its own)."""
    kind = f"+{variant['method']}" if variant["method"] else f"WiSE-FT λ={variant['weight']:g}"
    return StrategyResult.from_report(variant["name"], f"{parent.strategy} {kind}", model, report, str(path))
