"""Run a study (:mod:`.study`): find or train its runs, evaluate each once, test against the reference.

Evaluations live in ``<study out>/evals/seed-<s>/<run>/``: ``eval/`` (LAReQA datasets, with
``per_query.json``), ``afriqa-<split>/`` and ``flores200-<split>/``; an evaluation whose report
exists for the same model is reused, so a rerun only evaluates what is new. Validation numbers
(issue 12 item 5) come from the trainer's own MLQA-R dev split (the last ``dev`` record of
``metrics.jsonl``) and AfriQA dev.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Console

from hybridbatch.comparison.runs.config import afriqa_dir_name, safe_name
from hybridbatch.comparison.runs.results import ComparisonReport, StrategyResult, TrainingCost
from hybridbatch.comparison.significance.paired import (
    SignificanceReport,
    afriqa_significance,
    flores_significance,
    lareqa_significance,
)
from hybridbatch.comparison.studies.study import (
    PlannedRun,
    StudyConfig,
    comparison_config,
    find_runs,
    merge_parent,
    merge_parts,
    plan,
    soup_runs,
)
from hybridbatch.errors import ConfigError

console = Console(stderr=True)


class StudyResult(BaseModel):
    """Everything a study measured (``<study out>/study.json``)."""

    study: StudyConfig
    runs: list[PlannedRun]
    lareqa: dict[int, ComparisonReport] = Field(default_factory=dict, description="seed -> report")
    afriqa: dict[str, dict[int, dict[str, dict]]] = Field(
        default_factory=dict, description="split->seed->run"
    )
    flores: dict[str, dict[int, dict[str, dict]]] = Field(
        default_factory=dict, description="split->seed->run"
    )
    dev: dict[int, dict[str, dict[str, float]]] = Field(default_factory=dict, description="MLQA-R dev")
    significance: list[SignificanceReport] = Field(default_factory=list)

    @property
    def lareqa_datasets(self) -> list[str]:
        """Names of the LAReQA datasets evaluated (as the evaluator names them)."""
        first = next(iter(self.lareqa.values()), None)
        return list(next(iter(first.strategies.values())).datasets) if first and first.strategies else []

    @property
    def missing(self) -> list[PlannedRun]:
        """Planned runs without a finished model."""
        return [r for r in self.runs if r.model is None]


def afriqa_splits(study: StudyConfig) -> list[str]:
    """The AfriQA splits among the study's evaluations (``afriqa`` = ``afriqa:test``)."""
    return [e.partition(":")[2] or "test" for e in study.evaluations if e.split(":")[0] == "afriqa"]


def lareqa_sets(study: StudyConfig) -> list[str]:
    """The LAReQA-format evaluations of the study."""
    return [e for e in study.evaluations if e.split(":")[0] not in ("afriqa", "flores200")]


def flores_splits(study: StudyConfig) -> list[str]:
    """The FLORES-200 splits among the study's evaluations (``flores200`` = ``flores200:dev``; checked)."""
    from hybridbatch.comparison.runs.flores import split_flores

    return split_flores(study.evaluations, flag="evaluations:")[1]


def run_study(study: StudyConfig, train: bool = False) -> StudyResult:
    """Find (``train``: also train) the runs, evaluate them, and compute the significance tables."""
    flores = flores_splits(study)  # a bad split fails before any training
    runs = expand_checkpoints(study, plan(study))
    find_runs(study, runs)
    if train and any(r.model is None for r in runs):
        _train_missing(study, runs)
        find_runs(study, runs)
    build_merges(study, runs)
    build_soups(study, runs)
    result = StudyResult(study=study, runs=runs)
    for seed in study.seeds:
        available = [r for r in runs if r.seed == seed and r.model is not None]
        if not available:
            continue
        if lareqa_sets(study):
            result.lareqa[seed] = _lareqa(study, seed, available)
        for split in afriqa_splits(study):
            result.afriqa.setdefault(split, {})[seed] = {r.label: _afriqa(study, r, split) for r in available}
        for split in flores:
            result.flores.setdefault(split, {})[seed] = {r.label: _flores(study, r, split) for r in available}
        result.dev[seed] = {r.label: d for r in available if (d := trainer_dev(r)) is not None}
    _significance(study, result)
    return result


def expand_checkpoints(study: StudyConfig, runs: list[PlannedRun]) -> list[PlannedRun]:
    """A learning curve: one row per checkpoint step of the reference run (others unchanged)."""
    if not study.checkpoints:
        return runs
    return [r.model_copy(update={"step": step}) for r in runs for step in study.checkpoints]


def _train_missing(study: StudyConfig, runs: list[PlannedRun]) -> None:
    from hybridbatch.comparison.runs.run import check_leakage
    from hybridbatch.evaluation.dev import lareqa_dev_scores
    from hybridbatch.training import TrainConfig, train

    config = comparison_config(study, study.seeds[0])
    for overlap in check_leakage(config.train, study.evaluations, config.allow_overlap):  # before training
        console.print(f"[yellow]warning (allow_overlap): {overlap}")
    done: set[tuple[str, int]] = set()
    for run in runs:
        if run.model is not None or run.train_settings is None or (run.name, run.seed) in done:
            continue
        out = comparison_config(study, run.seed).out / "runs" / safe_name(run.name)
        console.rule(f"[bold]training {run.name} (seed {run.seed}) into {out}")
        train(TrainConfig(**run.train_settings, out=out), lareqa_dev_scores)
        done.add((run.name, run.seed))


def build_merges(study: StudyConfig, runs: list[PlannedRun]) -> None:
    """Write every merge row's model whose run exists (once; a later run reuses it)."""
    from hybridbatch.neutrality.merge import merge_models
    from hybridbatch.neutrality.model import read_record

    for run in runs:
        if run.merge is None or run.model is None:
            continue
        weight, parent = merge_parts(run)[1], merge_parent(run, runs).model
        path = Path(run.model)
        if not (path / "modules.json").is_file():
            console.print(f"merging {run.merge} (seed {run.seed}) into {path}")
            merge_models(comparison_config(study, run.seed).model, str(parent), weight, path)
            continue
        merged = read_record(str(path)).get("merge", {})
        if (merged.get("tuned"), merged.get("weight")) != (str(parent), weight):
            raise ConfigError(
                f"{path}: merged from {merged.get('tuned')} at λ={merged.get('weight')}, not {parent} at "
                f"λ={weight:g}; move that folder away to rebuild it"
            )


def build_soups(study: StudyConfig, runs: list[PlannedRun]) -> None:
    """Write every soup row's model whose runs exist (once; a later run reuses it)."""
    from hybridbatch.neutrality.merge import average_models
    from hybridbatch.neutrality.model import read_record

    for run in runs:
        if run.soup is None or run.model is None:
            continue
        parts = [str(p.model) for p in soup_runs(run, runs)]
        path = Path(run.model)
        if not (path / "modules.json").is_file():
            console.print(f"averaging {', '.join(parts)} into {path}")
            average_models(parts, path)
            continue
        averaged = read_record(str(path)).get("merge", {}).get("checkpoints")
        if averaged != parts:
            raise ConfigError(
                f"{path}: a soup of {averaged}, not of {parts}; move that folder away to rebuild it"
            )


def load_run_model(run: PlannedRun) -> Any:
    """The model of a run, or of one of its checkpoints (base weights + the checkpoint's trainables)."""
    from hybridbatch.models import load_model

    if run.step is None or run.training is None or run.step == run.training.get("steps"):
        return run.model
    from safetensors.torch import load_file

    path = Path(run.found_in or "") / "checkpoints" / f"step-{run.step:06d}"
    if not (path / "trainable.safetensors").is_file():
        return None
    model = load_model(str(run.train_settings["model"]))  # type: ignore[index]
    _, unexpected = model.load_state_dict(load_file(str(path / "trainable.safetensors")), strict=False)
    if unexpected:
        raise ConfigError(f"{path}: checkpoint parameters do not match {run.train_settings['model']}")  # type: ignore[index]
    return model


def eval_dir(study: StudyConfig, run: PlannedRun) -> Path:
    """Where a run's evaluations of this study live."""
    return study.run_dir / "evals" / f"seed-{run.seed}" / safe_name(run.label)


def _lareqa(study: StudyConfig, seed: int, runs: list[PlannedRun]) -> ComparisonReport:
    from hybridbatch.comparison.runs.run import eval_encoding
    from hybridbatch.data.registry import load_source
    from hybridbatch.evaluation import EvaluationReport, evaluate

    config = comparison_config(study, seed)
    languages = sorted({lang for spec in config.train for lang in load_source(spec).languages})
    strategies: dict[str, StrategyResult] = {}
    for run in runs:
        out = eval_dir(study, run) / config.eval_name
        report = EvaluationReport.finished(out, str(run.model), lareqa_sets(study), config.precision)
        if report is None:
            model = load_run_model(run)
            if model is None:
                continue
            report = evaluate(
                model,
                lareqa_sets(study),
                out=out,
                encoding=eval_encoding(config),
                train_languages=languages,
            )
        strategies[run.label] = _strategy_result(run, report, out / "report.json")
    return ComparisonReport(
        config=config, train_languages=languages, primary_eval=lareqa_sets(study)[0], strategies=strategies
    )


def _strategy_result(run: PlannedRun, report: Any, path: Path) -> StrategyResult:
    cost = None
    if run.training:
        cost = TrainingCost(**{k: run.training[k] for k in ("steps", "seconds", "pairs_per_second")})
    return StrategyResult.from_report(run.label, run.name, str(run.model), report, str(path), cost)


def _afriqa(study: StudyConfig, run: PlannedRun, split: str) -> dict:
    from hybridbatch.evaluation.afriqa import afriqa_in_folder

    config = comparison_config(study, run.seed)
    folder = eval_dir(study, run) / afriqa_dir_name(split, config.precision)
    load = lambda: load_run_model(run)  # noqa: E731
    return afriqa_in_folder(folder, str(run.model), load, split, config.eval_batch_size, config.precision)


def _flores(study: StudyConfig, run: PlannedRun, split: str) -> dict:
    from hybridbatch.comparison.runs.flores import flores_dir_name
    from hybridbatch.evaluation.flores_run import flores_in_folder

    config = comparison_config(study, run.seed)
    folder = eval_dir(study, run) / flores_dir_name(split, config.precision)
    load = lambda: load_run_model(run)  # noqa: E731
    return flores_in_folder(
        folder, str(run.model), load, split, config.model, config.eval_batch_size, config.precision
    )


def _training_log(run: PlannedRun) -> list[dict[str, Any]]:
    """The records of the run's ``metrics.jsonl`` (empty without a found run or log)."""
    from hybridbatch.training.jsonl import read_jsonl

    log = Path(run.found_in or "") / "metrics.jsonl"
    return read_jsonl(log) if run.found_in is not None and log.is_file() else []


TRAINER_DEV_KEYS = ("mono_map", "cross_map", "multi_map")  # what lareqa_dev_scores logs


def trainer_dev(run: PlannedRun) -> dict[str, float] | None:
    """The last dev scores the trainer logged (``metrics.jsonl``; Multi only in runs since it was added)."""
    if run.train_settings is None:
        return None
    last = None
    for record in _training_log(run):
        if record.get("event") == "dev" and (run.step is None or record.get("step") == run.step):
            last = {k: v for k, v in record.items() if k == "step" or k in TRAINER_DEV_KEYS}
    return last


def step_seconds(run: PlannedRun, key: str = "seconds") -> dict[int, float]:
    """Seconds per training step from ``metrics.jsonl`` (a step logged twice: its last record);
    ``key="teacher_seconds"``: the distillation teacher's share of each step."""
    return {
        int(r["step"]): float(r[key])
        for r in _training_log(run)
        if "event" not in r and isinstance(r.get(key), int | float)
    }


def _significance(study: StudyConfig, result: StudyResult) -> None:
    reference = study.reference if not study.checkpoints else f"{study.reference}@{study.checkpoints[-1]}"
    if result.lareqa and all(reference in r.strategies for r in result.lareqa.values()):
        first = next(iter(result.lareqa.values())).strategies[reference]
        for dataset in result.lareqa_datasets:
            scores = first.datasets[dataset]
            subsets = [None] + [k for k in ("seen", "unseen") if getattr(scores, f"summary_{k}") is not None]
            for subset in subsets if len(subsets) == 3 else [None]:  # languages seen and unseen in training
                result.significance.append(
                    lareqa_significance(result.lareqa, reference, dataset, study.n_resamples, subset)
                )
    for split, by_seed in result.afriqa.items():
        if all(reference in runs for runs in by_seed.values()):
            result.significance.append(afriqa_significance(by_seed, reference, split, study.n_resamples))
    for split, by_seed in result.flores.items():
        if all(reference in runs for runs in by_seed.values()):
            for group in ("all", "held-out"):
                sig = flores_significance(by_seed, reference, split, study.n_resamples, group)
                result.significance.append(sig)
