"""``hybridbatch batches`` (dry run of the sampler) and ``hybridbatch train``.

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from hybridbatch.commands.inputs import PlanSettings, RunSettings
from hybridbatch.io import prepare_output_file
from hybridbatch.sampling.config import SamplerConfig
from hybridbatch.settings import settings_options
from hybridbatch.training.config import TrainConfig

# Flags generated from the settings models (hybridbatch.settings): each declared once, there.
BATCH_FIELDS = {
    "data": TrainConfig.model_fields["data"],  # the sources: as `train` takes them
    **{k: v for k, v in SamplerConfig.model_fields.items() if k != "steps"},
}
TRAIN_FIELDS = {k: v for k, v in TrainConfig.flat_fields().items() if k != "show_progress"}


@settings_options(
    {**BATCH_FIELDS, **PlanSettings.model_fields}, flags={"strategy": "--sampler", **PlanSettings.FLAGS}
)
def batches(settings: dict[str, Any] | None = None) -> None:
    """Plan the batches a training run would draw (dry run) and summarize the mix."""
    settings = dict(settings or {})
    plan = PlanSettings.from_flags({k: settings.pop(k) for k in PlanSettings.model_fields if k in settings})
    prepare_output_file(plan.out, plan.overwrite)  # checked like every output, before any data is read
    from hybridbatch.data.registry import load_training_source
    from hybridbatch.sampling import SamplerConfig, build_sampler
    from hybridbatch.sampling.plan import render_summary, write_plan

    given = {"data": settings.pop("data")} if "data" in settings else {}
    sources = TrainConfig.validated({"out": plan.out, **given}, flags=given).data
    config = SamplerConfig.validated({**settings, "steps": plan.steps}, flags=settings)
    collections = [load_training_source(source, config.languages) for source in sources]
    sampler = build_sampler(config, collections, [source.weight for source in sources])
    summary = write_plan(sampler, plan.out, plan.steps, plan.top)
    as_json, out = plan.as_json, plan.out
    typer.echo(summary.model_dump_json(indent=2)) if as_json else render_summary(summary)
    typer.echo(f"wrote {summary.steps} batches to {out}", err=as_json)


@settings_options({**TRAIN_FIELDS, **RunSettings.model_fields}, flags=TrainConfig.FLAGS)
def train_cmd(
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML settings file.")] = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Train a retriever with hybrid (X-X / X-Y) batches; rerunning with the same --out resumes."""
    from hybridbatch.training import load_train_config

    settings = dict(settings or {})
    run = RunSettings.from_flags({k: settings.pop(k) for k in RunSettings.model_fields if k in settings})
    quiet, overwrite = run.quiet, run.overwrite
    config = load_train_config(config_file, **settings, show_progress=False if quiet else None)
    from hybridbatch.evaluation.dev import lareqa_dev_scores
    from hybridbatch.training.checkpoint import (  # torch: only once the settings are valid
        prepare_batch_log,
        prepare_run_dir,
    )
    from hybridbatch.training.trainer import console_logging, format_result, train

    prepare_run_dir(config.out, overwrite)
    prepare_batch_log(config.log_batches, config.out, overwrite)
    console_logging(logging.WARNING if quiet else logging.INFO)
    result = train(config, lareqa_dev_scores)
    if result.rank == 0:
        typer.echo(format_result(result))
