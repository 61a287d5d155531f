"""``hybridbatch compare``: train one model per strategy and evaluate each on held-out data.

Every strategy gets the same model, training data, seed, step budget and hyper-parameters; ``base``
is the model as it is. Runs live in ``OUT/runs/<name>/``: training resumes from its checkpoints, and a
strategy whose model and report exist is neither retrained nor re-evaluated, so an interrupted
comparison picks up where it stopped.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from rich.console import Console

from hybridbatch.comparison.runs.config import (
    ComparisonSettings,
    RunSpec,
    alpha_of,
    plan_runs,
    safe_name,
    train_config,
)
from hybridbatch.comparison.runs.phases import PhaseClock
from hybridbatch.comparison.runs.report import write_comparison
from hybridbatch.comparison.runs.results import ComparisonReport, StrategyResult, TrainingCost
from hybridbatch.comparison.runs.variants import check_variants, parse_variants, run_variants
from hybridbatch.data import ParallelQACollection, load_collection
from hybridbatch.data.leakage import check_overlap
from hybridbatch.data.registry import load_source
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation import EvaluationReport
from hybridbatch.evaluation.dev import lareqa_dev_scores
from hybridbatch.io import prepare_output_dir, read_marker
from hybridbatch.models.loading import resolve_path
from hybridbatch.models.metadata import TRAINING_JSON
from hybridbatch.paths import embeddings_home
from hybridbatch.training import train

console = Console(stderr=True)
# Marks of a comparison directory written before directories carried a marker.
_LEGACY = ("comparison.json", "runs")


def prepare_comparison_dir(out: Path, overwrite: bool = False) -> Path:
    """Validate ``compare --out`` before any work: a new or empty directory, an earlier comparison
    (resumed), or — with ``--overwrite`` — any other directory (nothing there is deleted)."""
    if out.is_dir() and read_marker(out) is None and any((out / name).exists() for name in _LEGACY):
        return out
    return prepare_output_dir(out, "comparison", overwrite)


def compare(config: ComparisonSettings) -> ComparisonReport:
    """Run (or resume) the comparison and write ``comparison.json``, ``comparison.md`` and plots."""
    runs = plan_runs(config)
    for run in runs:  # every run's settings are checked before any work
        if run.overrides is not None:
            train_config(run, config)
    variants = parse_variants(config.variants, config.merge_weights)  # LSAR / WiSE-FT rows (issue 14)
    check_variants(variants, [run.name for run in runs])
    eval_sets = _eval_collections(config)
    train_languages = _train_languages(config)
    clock = PhaseClock()
    with clock(f"model {config.model} (build or find)"):
        resolve_path(config.model)  # builds a builtin: ``builtin:*``'s first use is a phase of its own
    results: dict[str, StrategyResult] = {}
    for index, run in enumerate(runs, 1):
        console.rule(f"[bold]{index}/{len(runs)}: {run.name}")
        results[run.name] = _run_one(run, config, (eval_sets, train_languages), clock)
        report = _write(config, train_languages, results, clock)  # partial reports survive an interruption
        gc.collect()
    evaluate_fn = lambda model, out, transform: _evaluate(  # noqa: E731
        model, config, eval_sets, out, train_languages, transform
    )
    variant_rows = run_variants(variants, results, config.model, config.out, evaluate_fn, config.eval_name)
    for variant in variants:  # one row at a time, each a phase
        with clock(f"variant {variant['name']}"):
            name, result = next(variant_rows)
        results[name] = result
        report = _write(config, train_languages, results, clock)
    return report


def _write(
    config: ComparisonSettings,
    train_languages: list[str],
    results: dict[str, StrategyResult],
    clock: PhaseClock,
) -> ComparisonReport:
    report = ComparisonReport(
        config=config,
        train_languages=train_languages,
        primary_eval=config.eval[0],
        strategies=dict(results),
        phases=list(clock.phases),
    )
    write_comparison(report, config.report_dir)
    return report


def _eval_collections(config: ComparisonSettings) -> list[ParallelQACollection]:
    """Load (and for quick runs subsample by parallel id) the evaluation sets, before any training."""
    if not config.eval:
        raise ConfigError("--eval: give at least one evaluation dataset")
    overlap = set(config.eval) & set(config.train)
    if overlap:
        console.print(f"[yellow]warning: evaluating on training data ({', '.join(sorted(overlap))})")
    collections = []
    for spec in config.eval:
        collection = load_collection(spec)
        if config.eval_fraction < 1.0:
            _, part = collection.split(config.eval_fraction, seed=config.seed)
            collection = part.subset(part.ids, name=f"{collection.name}[{config.eval_fraction:.0%} of ids]")
        collections.append(collection)
    return collections


def check_leakage(train: list[str], evaluations: list[str], allow: bool) -> list[str]:
    """Refuse (one line) training sources that share texts with the evaluation sets (LAReQA sets and
    ``flores200[:split]``; AfriQA is never a training source here) unless ``allow``; returns the
    overlaps allowed, described (the report says so: ``allow_overlap``)."""
    loaded = [(spec, _evaluation_set(spec)) for spec in evaluations if spec.partition(":")[0] != "afriqa"]
    sources = [(spec, load_source(spec)) for spec in train]
    return [overlap.describe() for overlap in check_overlap(sources, loaded, allow)]


def _evaluation_set(spec: str) -> ParallelQACollection:
    name, _, split = spec.partition(":")
    return load_source(f"flores200:{split or 'dev'}") if name == "flores200" else load_collection(spec)


def _train_languages(config: ComparisonSettings) -> list[str]:
    restricted = config.train_settings.get("languages")
    languages: set[str] = set()
    for spec in config.train:
        languages |= set(load_source(spec).languages)
    return sorted(languages & set(restricted)) if restricted else sorted(languages)


def _run_one(
    run: RunSpec,
    config: ComparisonSettings,
    evaluation: tuple[list[ParallelQACollection], list[str]],
    clock: PhaseClock,
) -> StrategyResult:
    """Train (unless ``base``) and evaluate one run; ``evaluation``: the sets and the training languages."""
    eval_sets, train_languages = evaluation
    run_dir = config.out / "runs" / safe_name(run.name)
    model, training = config.model, None
    if run.overrides is not None:
        with clock(f"train {run.name}", reused=(run_dir / "model" / TRAINING_JSON).is_file()):
            model, training = _train(run, config, run_dir)
    out = run_dir / config.eval_name
    finished = _finished(model, config, eval_sets, out)
    with clock(f"evaluate {run.name}", reused=finished is not None):
        report = finished or _evaluate(model, config, eval_sets, out, train_languages)
    path = str(out / "report.json")
    return StrategyResult.from_report(run.name, run.strategy, model, report, path, training)


def _train(run: RunSpec, config: ComparisonSettings, run_dir: Path) -> tuple[str, TrainingCost]:
    settings = train_config(run, config, out=run_dir)
    result = train(settings, lareqa_dev_scores)
    cost = TrainingCost(
        steps=result.steps,
        seconds=result.seconds,
        pairs_per_second=result.pairs_per_second,
        alpha=alpha_of(run, config),
        sampler=settings.sampling.strategy,
    )
    return str(result.model_dir), cost


def _evaluate(
    model: str,
    config: ComparisonSettings,
    eval_sets: list[ParallelQACollection],
    out: Path,
    train_languages: list[str],
    transform: Any = None,
) -> EvaluationReport:
    from hybridbatch.evaluation import evaluate  # looked up per call: tests count the evaluations

    report = _finished(model, config, eval_sets, out)
    if report is not None:
        return report
    return evaluate(
        model,
        list(eval_sets),
        out=out,
        encoding=eval_encoding(config),
        train_languages=train_languages,
        transform=transform,
    )


def _finished(
    model: str, config: ComparisonSettings, eval_sets: list[ParallelQACollection], out: Path
) -> EvaluationReport | None:
    """The evaluation already written in ``out`` for this model, sets and precision, else ``None``.

    An evaluation from before per-query scores were recorded is redone (from the embedding cache),
    so the paired tests have what they need.
    """
    report = EvaluationReport.finished(out, model, [c.name for c in eval_sets], config.precision)
    if report is not None:
        console.print(f"reusing {out / 'report.json'}")
    return report


def eval_encoding(config: ComparisonSettings) -> Any:
    """How every evaluation of a comparison or study encodes: its batch size, precision, the shared cache."""
    from hybridbatch.evaluation.encode import EncodeOptions

    return EncodeOptions(
        batch_size=config.eval_batch_size, cache_dir=embeddings_home(), precision=config.precision
    )
