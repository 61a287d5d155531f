"""Turn ``hybridbatch compare`` flags (and an optional YAML file) into a :class:`ComparisonConfig`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hybridbatch.comparison.config import DEFAULT_STRATEGIES, ComparisonConfig
from hybridbatch.comparison.results import ComparisonReport
from hybridbatch.errors import ConfigError
from hybridbatch.training.config import read_yaml_config

# The demo's training recipe (see benchmarks/quality.md for how it was chosen).
DEMO_TRAIN_SETTINGS: dict[str, Any] = {
    "batch_size": 32,
    "lr": 5e-5,
    "hard_negatives": 1,
    "max_passage_length": 64,
    "freeze_embeddings": True,
    "checkpoint_every": 50,
}
DEMO_BUDGET = 120
# --quick: minutes, not an hour — a smaller budget and batch, 15% of the evaluation ids.
QUICK = {"budget": 20, "eval_fraction": 0.15, "train_settings": {"batch_size": 16, "checkpoint_every": 10}}


def build_config(
    out: Path,
    model: str,
    train: list[str] | None,
    evaluation: list[str] | None,
    strategies: str,
    alpha: str | None,
    languages_per_batch: str | None,
    budget: int | None,
    config_file: Path | None,
    quick: bool,
    seed: int,
) -> ComparisonConfig:
    """Merge defaults, the YAML file, ``--quick`` and flags (later wins) into a validated config."""
    values: dict[str, Any] = {"train_settings": dict(DEMO_TRAIN_SETTINGS), "budget": DEMO_BUDGET}
    if config_file is not None:
        values = _merge(values, read_yaml_config(config_file))
    if quick:
        values = _merge(values, QUICK)
    flags = {
        "out": out,
        "model": model,
        "train": train,
        "eval": evaluation,
        "strategies": _names(strategies) if strategies else list(DEFAULT_STRATEGIES),
        "alphas": [_number(a, "--alpha", float) for a in _names(alpha)] if alpha else None,
        "languages_per_batch": [_number(k, "--languages-per-batch", int) for k in _names(languages_per_batch)]
        if languages_per_batch
        else None,
        "budget": budget,
        "seed": seed,
    }
    values = _merge(values, {k: v for k, v in flags.items() if v is not None})
    try:
        return ComparisonConfig(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"compare setting '{where}': {first['msg']}") from None


def print_table(report: ComparisonReport) -> None:
    """Print the primary dataset's table and where the report is."""
    from rich.console import Console
    from rich.table import Table

    from hybridbatch.comparison.report import HEADERS, strategy_table

    table = Table(
        title=f"{report.config.model} on {report.primary_eval} (trained on {'+'.join(report.config.train)})"
    )
    for header in ("strategy", *HEADERS):
        table.add_column(header, justify="right")
    for row in strategy_table(report):
        table.add_row(*row)
    console = Console()
    console.print(table)
    out = report.config.out
    console.print(f"report: {out / 'comparison.md'}  json: {out / 'comparison.json'}  plots: {out}/*.png")


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _number(text: str, flag: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"{flag}: {text!r} is not a number") from None
