"""``hybridbatch study STUDY.yaml``: one research question, answered with reused runs and significance.

A study is a YAML file (see ``benchmarks/studies/*.yaml``): a comparison recipe (the demo's unless
overridden), optional named ``variants`` (hybrid runs with other training settings, e.g. a loss or
an α schedule), evaluations (LAReQA datasets and ``afriqa:<split>``), a reference run, seeds and,
for a learning curve, ``checkpoints`` (steps of the reference run, each evaluated), and training-free
``merges`` (``name: RUN@λ``, WiSE-FT of a run with the base model, built in ``<out>/merges``) and
``soups`` (``name: [RUN, RUN#SEED, …]``, the uniform weight average of trained runs, built in
``<out>/soups``; ``RUN#SEED`` is the run trained with another seed, trained too when missing).
Runs are reused: same recipe + seed = same run, matched on the trainer's material settings
(``config_material`` of a finished model, never a merged one) in the study's own run directory and
in every ``reuse`` comparison directory, so the demo's runs serve every study. ``--train`` trains
what is missing (resumable); without it the study reports what exists and lists the missing runs.
:mod:`.study_report` writes the Markdown.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hybridbatch.comparison.runs.config import (
    DEMO_BUDGET,
    DEMO_TRAIN_SETTINGS,
    ComparisonSettings,
    RunSpec,
    plan_runs,
    safe_name,
)
from hybridbatch.comparison.runs.variants import PATTERN as VARIANT
from hybridbatch.errors import ConfigError
from hybridbatch.models.metadata import TRAINING_JSON
from hybridbatch.training import TrainConfig
from hybridbatch.training.config import LATER_KEYS, read_yaml_config


class StudyConfig(BaseModel):
    """One study file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    question: str
    comparison: dict[str, Any] = Field(default_factory=dict, description="ComparisonSettings fields.")
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict, description="name -> overrides.")
    merges: dict[str, str] = Field(
        default_factory=dict,
        description="Training-free rows: name -> RUN@λ, WiSE-FT (1 − λ)·base + λ·RUN (e.g. hybrid@0.5).",
    )
    soups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Training-free rows: name -> [RUN or RUN#SEED, ...], the uniform average of the runs' "
        "weights (a model soup, Wortsman et al., ICML 2022); RUN#SEED is RUN trained with seed SEED.",
    )
    evaluations: list[str] = Field(default_factory=lambda: ["xquad-r"])
    reference: str = "hybrid"
    seeds: list[int] = Field(default_factory=lambda: [0])
    checkpoints: list[int] = Field(default_factory=list, description="Learning curve: steps to evaluate.")
    reuse: list[Path] = Field(default_factory=lambda: [Path("runs/demo")])
    out: Path | None = None
    report: Path | None = None
    validation: str = Field("", description="Issue 12 item 5: which validation numbers drove choices.")
    conclusion: str = Field(
        "", description="The answer, written after the runs (from validation numbers); shown first."
    )
    flores_languages: list[str] = Field(
        default_factory=list, description="FLORES-200 codes whose own rows the report shows (e.g. cat_Latn)."
    )
    n_resamples: int = Field(10_000, ge=99)

    @field_validator("flores_languages")
    @classmethod
    def _known_flores_codes(cls, value: list[str]) -> list[str]:
        """FLORES-200 codes (``de`` becomes ``deu_Latn``); a typo fails here, not as an empty column."""
        from hybridbatch.data.flores_languages import check_codes
        from hybridbatch.errors import DataError

        try:
            return check_codes(value, where="flores_languages")
        except DataError as exc:
            raise ValueError(str(exc)) from None

    @property
    def run_dir(self) -> Path:
        """Where this study trains and evaluates: ``out`` or ``runs/studies/<name>``."""
        return self.out or Path("runs/studies") / self.name

    @property
    def report_path(self) -> Path:
        """The Markdown written: ``report`` or ``benchmarks/studies/<name>.md``."""
        return self.report or Path("benchmarks/studies") / f"{self.name}.md"


class PlannedRun(BaseModel):
    """One row of a study: a run (or checkpoint) and, once found, its model."""

    name: str
    seed: int
    overrides: dict[str, Any] | None
    step: int | None = None
    train_settings: dict[str, Any] | None = None
    model: str | None = None
    found_in: str | None = None
    training: dict[str, Any] | None = None
    merge: str | None = Field(None, description="RUN@λ: a WiSE-FT merge of RUN with the base model.")
    soup: list[tuple[str, int]] | None = Field(None, description="(run, seed) of each averaged run.")

    @property
    def label(self) -> str:
        """The row name: the run's name, ``name@step`` for a checkpoint."""
        return self.name if self.step is None else f"{self.name}@{self.step}"


def load_study(path: str | Path) -> StudyConfig:
    """Read and validate a study YAML (one-line ConfigError naming the file and key)."""
    raw = read_yaml_config(path)
    try:
        study = StudyConfig(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path}: study setting '{where}': {first['msg'].removeprefix('Value error, ')}"
        ) from None
    comparison_config(study)  # validates the recipe and the run names before any work
    plan(study)
    return study


def comparison_config(study: StudyConfig, seed: int | None = None) -> ComparisonSettings:
    """The study's recipe as a comparison: the demo's settings, then the study's ``comparison``."""
    values: dict[str, Any] = {"budget": DEMO_BUDGET, **study.comparison}
    values["train_settings"] = {**DEMO_TRAIN_SETTINGS, **study.comparison.get("train_settings", {})}
    values["out"] = (
        study.run_dir if seed in (None, study.seeds[0]) else study.run_dir / "seeds" / f"seed-{seed}"
    )
    if seed is not None:
        values["seed"] = seed
    try:
        return ComparisonSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            f"study {study.name}: comparison.{first['loc'][0]}: {first['msg'].removeprefix('Value error, ')}"
        ) from None


def plan(study: StudyConfig) -> list[PlannedRun]:
    """Every (run, seed) of the study; for a learning curve, every checkpoint of the reference run; a
    soup's runs of seeds outside ``seeds`` come last (trained and found, never evaluated)."""
    if study.seeds != sorted(set(study.seeds)) or any(s < 0 for s in study.seeds) or not study.seeds:
        raise ConfigError(f"study {study.name}: seeds must be distinct non-negative integers, ascending")
    runs: list[PlannedRun] = []
    for seed in study.seeds:
        trained = _trained_runs(study, seed)
        names = [r.name for r in trained]
        runs += trained
        runs += [PlannedRun(name=n, seed=seed, overrides=None, merge=m) for n, m in _merges(study, names)]
        runs += [PlannedRun(name=n, seed=seed, overrides=None, soup=i) for n, i in _soups(study, names, seed)]
    wanted = {pair for run in runs for pair in run.soup or []}
    for other in sorted({s for _, s in wanted} - set(study.seeds)):
        runs += [r for r in _trained_runs(study, other) if (r.name, other) in wanted]
    return runs


def _trained_runs(study: StudyConfig, seed: int) -> list[PlannedRun]:
    """The study's runs for one seed (the recipe's strategies, then the variants)."""
    config = comparison_config(study, seed)
    specs = plan_runs(config) + [
        RunSpec(name=name, strategy="hybrid", overrides={"sampler": "hybrid", **overrides})
        for name, overrides in study.variants.items()
    ]
    names = [s.name for s in specs]
    if study.reference not in names:
        raise ConfigError(
            f"study {study.name}: reference {study.reference!r} is not a run ({', '.join(names)})"
        )
    if study.checkpoints:
        specs = [s for s in specs if s.name == study.reference]
    return [
        PlannedRun(
            name=spec.name,
            seed=seed,
            overrides=spec.overrides,
            train_settings=None
            if spec.overrides is None
            else _train_settings(config, spec, study.checkpoints),
        )
        for spec in specs
    ]


def _soups(study: StudyConfig, names: list[str], seed: int) -> list[tuple[str, list[tuple[str, int]]]]:
    """``(name, [(run, seed), …])`` of every soup row of ``seed``, checked: 2+ distinct trained runs."""
    if study.soups and study.checkpoints:
        raise ConfigError(f"study {study.name}: soups and checkpoints cannot be combined")
    trained = [n for n in names if n != "base"]
    rows = []
    for name, items in study.soups.items():
        where = f"study {study.name}: soups.{name}"
        if name in names or name in study.merges:
            raise ConfigError(f"{where}: the name is already a row of the study")
        parts = [_ingredient(item, seed, trained, where) for item in items]
        if len(parts) < 2 or len(set(parts)) != len(parts):
            raise ConfigError(f"{where}: give at least 2 distinct runs to average, got {items!r}")
        rows.append((name, parts))
    return rows


def _ingredient(item: str, seed: int, trained: list[str], where: str) -> tuple[str, int]:
    """``RUN`` (this seed's) or ``RUN#SEED`` as ``(run, seed)``."""
    run, _, other = str(item).strip().partition("#")
    if run not in trained or (other and not other.isdigit()):
        runs = ", ".join(trained)
        raise ConfigError(f"{where}: give RUN or RUN#SEED with RUN a trained run ({runs}), got {item!r}")
    return run, int(other) if other else seed


def _merges(study: StudyConfig, names: list[str]) -> list[tuple[str, str]]:
    """``(name, RUN@λ)`` of every merge row, checked: a trained run of the study, λ in [0, 1]."""
    if study.merges and study.checkpoints:
        raise ConfigError(f"study {study.name}: merges and checkpoints cannot be combined")
    trained = [n for n in names if n != "base"]
    for name, spec in study.merges.items():
        where = f"study {study.name}: merges.{name}"
        if name in names:
            raise ConfigError(f"{where}: the name is already a run of the study")
        match = VARIANT.match(spec.strip())
        if match is None or match["weight"] is None or match["run"] not in trained:
            runs = ", ".join(trained)
            raise ConfigError(f"{where}: give RUN@λ with RUN a trained run ({runs}), got {spec!r}")
        if not 0.0 <= float(match["weight"]) <= 1.0:
            raise ConfigError(f"{where}: λ must be in [0, 1] (0 = base, 1 = the run), got {match['weight']}")
    return list(study.merges.items())


def merge_parts(run: PlannedRun) -> tuple[str, float]:
    """``(RUN, λ)`` of a merge row."""
    parent, _, weight = (run.merge or "").rpartition("@")
    return parent, float(weight)


def merge_parent(run: PlannedRun, runs: list[PlannedRun]) -> PlannedRun:
    """The planned run a merge row merges with the base model (same seed, the whole run)."""
    name = merge_parts(run)[0]
    return next(r for r in runs if r.name == name and r.seed == run.seed and r.step is None)


def merge_dir(study: StudyConfig, run: PlannedRun) -> Path:
    """Where a merge row's model is built: ``<out>/merges/seed-<s>/<name>/model``."""
    return study.run_dir / "merges" / f"seed-{run.seed}" / safe_name(run.name) / "model"


def _train_settings(config: ComparisonSettings, spec: RunSpec, checkpoints: list[int]) -> dict[str, Any]:
    """The TrainConfig fields ``hybridbatch compare`` would train this run with; a variant may train on
    other sources (``data`` or ``sources``: e.g. the recipe's plus ``flores200:train@0.3``)."""
    overrides = dict(spec.overrides or {})
    if "epochs" in overrides:
        raise ConfigError(f"run {spec.name}: training setting 'epochs': give the run's length as steps")
    data = overrides.pop("data", None) or overrides.pop("sources", None) or config.train
    settings = {
        **config.shared_train_settings(),
        **overrides,
        "model": config.model,
        "data": data,
        "steps": overrides.get("steps", config.budget),  # a variant may train longer than the budget
        "seed": config.seed,
    }
    settings.pop("epochs", None)
    if checkpoints:
        if sorted(checkpoints) != checkpoints or checkpoints[0] < 1:
            raise ConfigError(
                "study checkpoints: give ascending positive step counts, e.g. [60, 120, 240, 480]"
            )
        # Every listed step must be saved and none pruned: save every gcd steps, keep them all.
        settings["steps"] = checkpoints[-1]
        settings["checkpoint_every"] = math.gcd(*checkpoints)
        settings["keep_checkpoints"] = checkpoints[-1] // settings["checkpoint_every"]
    try:
        TrainConfig(**settings, out=Path("unused"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"run {spec.name}: training setting '{first['loc'][0]}': {first['msg']}") from None
    except ConfigError as exc:
        raise ConfigError(f"run {spec.name}: {exc}") from None
    return settings


def find_runs(study: StudyConfig, runs: list[PlannedRun]) -> None:
    """Fill ``model``/``found_in``/``training`` of every run that exists with the same recipe (merges and
    soups once the runs they combine are found)."""
    for run in sorted(runs, key=lambda r: r.merge is not None or r.soup is not None):
        if run.merge is not None:
            _find_merge(study, run, runs)
            continue
        if run.soup is not None:
            _find_soup(study, run, runs)
            continue
        if run.train_settings is None:
            run.model = comparison_config(study, run.seed).model
            run.found_in = "(untrained model)"
            continue
        for folder in candidate_dirs(study, run):
            meta = folder / "model" / TRAINING_JSON
            if meta.is_file() and same_recipe(json.loads(meta.read_text("utf-8")), run.train_settings):
                run.model, run.found_in = str(folder / "model"), str(folder)
                run.training = json.loads(meta.read_text("utf-8")).get("result")
                break


def _find_merge(study: StudyConfig, run: PlannedRun, runs: list[PlannedRun]) -> None:
    """A merge row has a model once its run does (built by :func:`.study_run.build_merges`)."""
    parent = merge_parent(run, runs)
    if parent.model is not None:
        weight = merge_parts(run)[1]
        run.model = str(merge_dir(study, run))
        run.found_in = f"WiSE-FT λ={weight:g} of {parent.found_in}"


def soup_runs(run: PlannedRun, runs: list[PlannedRun]) -> list[PlannedRun]:
    """The planned runs a soup row averages (whole runs)."""
    return [next(r for r in runs if (r.name, r.seed) == pair and r.step is None) for pair in run.soup or []]


def soup_dir(study: StudyConfig, run: PlannedRun) -> Path:
    """Where a soup row's model is built: ``<out>/soups/seed-<s>/<name>/model``."""
    return study.run_dir / "soups" / f"seed-{run.seed}" / safe_name(run.name) / "model"


def _find_soup(study: StudyConfig, run: PlannedRun, runs: list[PlannedRun]) -> None:
    """A soup row has a model once every run it averages does (built by :func:`.study_run.build_soups`)."""
    parts = soup_runs(run, runs)
    if all(p.model is not None for p in parts):
        run.model = str(soup_dir(study, run))
        run.found_in = "uniform soup of " + ", ".join(str(p.found_in) for p in parts)


def candidate_dirs(study: StudyConfig, run: PlannedRun) -> list[Path]:
    """Run directories that may hold ``run``: the study's own, then every ``runs/*`` of ``reuse``."""
    own = comparison_config(study, run.seed).out / "runs" / safe_name(run.name)
    found = [own]
    for root in study.reuse:
        found += (
            sorted(p for p in (root / "runs").glob("*") if p.is_dir()) if (root / "runs").is_dir() else []
        )
        found += sorted(p for p in (root / "seeds").glob("seed-*/runs/*") if p.is_dir())
    return list(dict.fromkeys(found))


def same_recipe(meta: dict[str, Any], settings: dict[str, Any]) -> bool:
    """Whether a finished model's saved material settings equal ``settings`` (defaults filled in).

    A key only one side knows (a setting added since that run was trained, or left out at its old
    value) counts as that old value (``LATER_KEYS``, else the current default); a removed one is ignored.
    """
    mine = TrainConfig(**settings, out=Path("unused")).material()
    saved = meta.get("config_material")
    if not isinstance(saved, dict) or not saved or "merge" in meta:
        return False  # not a hybridbatch training run (e.g. a merged or hand-made model)
    defaults = TrainConfig(out=Path("unused")).material()
    for key in set(mine) | set(saved):
        if key in mine:  # absent from the saved run: what runs did before the key existed
            theirs, ours = saved.get(key, LATER_KEYS.get(key, defaults.get(key))), mine[key]
        elif key in LATER_KEYS:  # left out of ours at its old value (e.g. no distillation)
            theirs, ours = saved[key], LATER_KEYS[key]
        else:
            continue  # a setting since removed
        if _json(theirs) != _json(ours):
            return False
    return True


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
