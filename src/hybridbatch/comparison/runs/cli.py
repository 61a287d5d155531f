"""Turn ``hybridbatch compare`` flags (and an optional YAML file) into a :class:`ComparisonConfig`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hybridbatch.comparison.runs.config import ComparisonConfig, plan_runs, train_config
from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.errors import ConfigError
from hybridbatch.settings import describe, read_yaml_config

# The demo's training recipe (see benchmarks/quality.md for how it was chosen).
DEMO_TRAIN_SETTINGS: dict[str, Any] = {
    "batch_size": 32,
    "lr": 5e-5,
    "hard_negatives": 1,
    "max_passage_length": 64,
    "freeze_embeddings": True,
    "checkpoint_every": 50,
}
DEMO_BUDGET: int = ComparisonConfig.model_fields["budget"].default
# --quick: minutes, not an hour — a smaller budget and batch, 15% of the evaluation ids.
QUICK = {"budget": 20, "eval_fraction": 0.15, "train_settings": {"batch_size": 16, "checkpoint_every": 10}}
# Marks of a comparison directory written before directories carried a marker.
_LEGACY = ("comparison.json", "runs")


def build_config(
    out: Path, flags: dict[str, Any], config_file: Path | None = None, quick: bool = False
) -> ComparisonConfig:
    """Merge defaults, the YAML file, ``--quick`` and the given ``flags`` (later wins) into a config whose
    every run's training settings are valid — so a typo fails in seconds, before any model is loaded."""
    values: dict[str, Any] = {"train_settings": dict(DEMO_TRAIN_SETTINGS)}
    if config_file is not None:
        values = _merge(values, read_yaml_config(config_file))
    if quick:
        values = _merge(values, QUICK)
    values = _merge(values, {**flags, "out": out})
    source = str(config_file) if config_file is not None else "compare settings"
    try:
        config = ComparisonConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(describe(exc, ComparisonConfig, source, set(flags))) from None
    for run in plan_runs(config):
        if run.overrides is not None:
            train_config(run, config)
    return config


def prepare_comparison_dir(out: Path, overwrite: bool = False) -> Path:
    """Validate ``compare --out`` before any work: a new or empty directory, an earlier comparison
    (resumed), or — with ``--overwrite`` — any other directory (nothing there is deleted)."""
    from hybridbatch.io import prepare_output_dir, read_marker

    if out.is_dir() and read_marker(out) is None and any((out / name).exists() for name in _LEGACY):
        return out
    return prepare_output_dir(out, "comparison", overwrite)


def print_table(report: ComparisonReport) -> None:
    """Print the primary dataset's table and where the report is."""
    from rich.console import Console
    from rich.table import Table

    from hybridbatch.comparison.runs.report import HEADERS, strategy_table

    table = Table(
        title=f"{report.config.model} on {report.primary_eval} (trained on {'+'.join(report.config.train)})"
    )
    for header in ("strategy", *HEADERS):
        table.add_column(header, justify="right")
    for row in strategy_table(report):
        table.add_row(*row)
    console = Console()
    console.print(table)
    out = report.config.report_dir
    console.print(f"report: {out / 'comparison.md'}  json: {out / 'comparison.json'}  plots: {out}/*.png")


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
