"""Studies: YAML validation, run reuse by recipe, training what is missing, the Markdown with significance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import TOY, write_lareqa
from hybridbatch.comparison.studies.study import PlannedRun, find_runs, load_study, plan, same_recipe
from hybridbatch.comparison.studies.study_report import write_study
from hybridbatch.comparison.studies.study_run import run_study, step_seconds, trainer_dev
from hybridbatch.errors import ConfigError

STUDIES = Path(__file__).resolve().parents[2] / "benchmarks" / "studies"
FRENCH = ("Où est la tour ?", ["La tour est à Paris.", "Elle est haute."], 0)
HELD_OUT = {**TOY, "q1": {**TOY["q1"], "fr": FRENCH}}  # fr is not a training language


def _write(path: Path, **values) -> Path:
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


@pytest.fixture
def toy_study(tmp_path: Path, afriqa_home: Path) -> dict:
    return {
        "name": "toy",
        "question": "Does it work?",
        "comparison": {
            "model": "builtin:tiny",
            "train": [str(write_lareqa(tmp_path / "train"))],
            "strategies": ["base", "xy", "hybrid"],
            "budget": 2,
            "allow_overlap": True,  # the held-out toy repeats the training texts (the guard would refuse)
            "train_settings": {
                "batch_size": 2,
                "dev_fraction": 0.0,
                "checkpoint_every": 0,
                "show_progress": False,
            },
        },
        "evaluations": [str(write_lareqa(tmp_path / "heldout", HELD_OUT)), "afriqa:test"],
        "reference": "hybrid",
        "reuse": [],
        "out": str(tmp_path / "study"),
        "report": str(tmp_path / "bench" / "toy.md"),
        "n_resamples": 199,
        "validation": "Nothing tuned.",
    }


def test_shipped_studies_are_valid() -> None:
    names = {load_study(f).name for f in STUDIES.glob("*.yaml")}
    assert names == {
        "languages-per-batch",
        "alpha-schedules",
        "losses",
        "budget",
        "low-resource",
        "translate-train",
        "long-tail",
        "data-sources",
        "bf16-training",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "study setting 'colour'"),
        ({"reference": "xx"}, "reference 'xx' is not a run"),
        ({"variants": {"odd": {"loss": "magic"}}}, r"run odd: .*'?loss'?"),
        ({"seeds": [1, 0]}, "seeds must be distinct"),
        ({"checkpoints": [4, 2]}, "ascending positive step counts"),
        ({"comparison": {"precision": "fp16"}}, r"comparison.precision: unknown 'fp16' \(choose from"),
        (
            {"flores_languages": ["cat_Latn", "xxx_Latn"]},
            r"'flores_languages': flores_languages: unknown .*xxx_Latn",
        ),
        ({"comparison": {"train_precision": "fp16"}}, "comparison.train_precision"),
        ({"merges": {"half": "hybrid"}}, r"merges.half: give RUN@λ with RUN a trained run \(xy, hybrid\)"),
        ({"merges": {"half": "nope@0.5"}}, "merges.half: give RUN@λ"),
        ({"merges": {"half": "base@0.5"}}, "merges.half: give RUN@λ"),
        ({"merges": {"half": "hybrid@2"}}, r"merges.half: .*λ must be in \[0, 1\]"),
        ({"merges": {"xy": "hybrid@0.5"}}, "merges.xy: the name is already a run"),
        ({"merges": {"half": "hybrid@0.5"}, "checkpoints": [1, 2]}, "merges and checkpoints"),
        ({"soups": {"pot": ["hybrid"]}}, r"soups.pot: give at least 2 distinct runs"),
        ({"soups": {"pot": ["hybrid", "hybrid#0"]}}, r"soups.pot: give at least 2 distinct runs"),
        ({"soups": {"pot": ["hybrid", "base#1"]}}, r"soups.pot: give RUN or RUN#SEED with RUN a trained run"),
        ({"soups": {"pot": ["hybrid", "hybrid#one"]}}, r"soups.pot: give RUN or RUN#SEED"),
        ({"soups": {"xy": ["hybrid", "hybrid#1"]}}, "soups.xy: the name is already a row"),
        ({"soups": {"pot": ["hybrid", "xy"]}, "checkpoints": [1, 2]}, "soups and checkpoints"),
    ],
)
def test_bad_study_files_are_one_line_errors(
    tmp_path: Path, toy_study: dict, change: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_study(_write(tmp_path / "s.yaml", **{**toy_study, **change}))


def test_study_trains_missing_runs_then_reuses_them(tmp_path: Path, toy_study: dict, monkeypatch) -> None:
    study = load_study(_write(tmp_path / "s.yaml", **toy_study, conclusion="Nothing to choose yet."))
    first = run_study(study)
    assert sorted(r.name for r in first.missing) == ["hybrid", "xy"]
    text = write_study(first).read_text()
    assert "Not yet run: hybrid, xy" in text and "**missing**" in text
    assert "## Answer\n\nNothing to choose yet.\n" in text  # the written answer comes first

    result = run_study(study, train=True)
    assert not result.missing
    path = write_study(result)
    text = path.read_text()
    assert "## Significance" in text and "against hybrid" in text
    assert "Trained with --allow-overlap" in text  # the study says the leakage guard was overridden
    assert "### heldout (seen languages): against hybrid" in text and "heldout (unseen languages)" in text
    assert "| xy |" in text and "p=" in text and "[" in text
    assert "AfriQA test" in text and "nDCG@10 per question language" in text
    assert (path.parent / "toy" / "afriqa_test.png").stat().st_size > 1000
    afriqa = next(s for s in result.significance if s.dataset == "afriqa test")
    assert afriqa.rows["xy"]["nDCG@10"].test.n == 4
    summary = json.loads(path.with_suffix(".json").read_text())  # typed results beside the Markdown
    assert summary["reference"] == "hybrid" and summary["precision"] == "fp32"
    tested = {s["dataset"]: s["rows"]["xy"] for s in summary["significance"]}
    assert tested["afriqa test"]["nDCG@10"]["test"]["n"] == 4

    # another study reusing the first one's runs finds them by recipe; a different recipe does not
    reusing = {**toy_study, "out": str(tmp_path / "o"), "reuse": [toy_study["out"]]}
    runs = plan(load_study(_write(tmp_path / "o.yaml", **reusing)))
    find_runs(load_study(tmp_path / "o.yaml"), runs)
    assert {r.name: r.found_in for r in runs}["hybrid"] == str(Path(toy_study["out"]) / "runs" / "hybrid")
    reusing["comparison"] = {**toy_study["comparison"], "budget": 3}
    runs = plan(load_study(_write(tmp_path / "c.yaml", **reusing)))
    find_runs(load_study(tmp_path / "c.yaml"), runs)
    assert [r.name for r in runs if r.model is None] == ["xy", "hybrid"]

    # a bf16 sweep of the same study: same runs, its own evaluation folders, said in the report
    sweep = {**toy_study, "comparison": {**toy_study["comparison"], "precision": "bf16"}}
    swept = run_study(load_study(_write(tmp_path / "b.yaml", **sweep)))
    assert not swept.missing
    evals = Path(toy_study["out"]) / "evals" / "seed-0" / "xy"
    assert (evals / "eval-bf16" / "report.json").is_file() and (evals / "afriqa-test-bf16").is_dir()
    assert "**Encoding precision: bf16**" in write_study(swept, tmp_path / "b.md").read_text()
    assert "Encoding precision" not in text


def test_merge_rows_are_built_once_from_their_run(tmp_path: Path, toy_study: dict) -> None:
    values = {**toy_study, "merges": {"half": "hybrid@0.5"}, "evaluations": toy_study["evaluations"][:1]}
    values["comparison"] = {**toy_study["comparison"], "strategies": ["base", "hybrid"]}
    study = load_study(_write(tmp_path / "m.yaml", **values))
    waiting = run_study(study)  # no hybrid yet: nothing to merge, the row is missing
    assert [r.name for r in waiting.missing] == ["hybrid", "half"]
    result = run_study(study, train=True)
    half = next(r for r in result.runs if r.name == "half")
    record = json.loads((Path(half.model) / "hybridbatch_training.json").read_text())
    hybrid = next(r.model for r in result.runs if r.name == "hybrid")
    assert record["merge"]["tuned"] == hybrid and record["merge"]["weight"] == 0.5
    assert half.model == str(Path(toy_study["out"]) / "merges" / "seed-0" / "half" / "model")
    assert "half" in result.lareqa[0].strategies and result.significance[0].rows["half"]
    assert "WiSE-FT merge hybrid@0.5 with base" in write_study(result).read_text()
    built = (Path(half.model) / "modules.json").stat().st_mtime_ns
    run_study(study)  # reused, not rebuilt
    assert (Path(half.model) / "modules.json").stat().st_mtime_ns == built
    # another study with the same merge row finds its run among the first study's finished runs
    reusing = {**values, "out": str(tmp_path / "o"), "reuse": [toy_study["out"]]}
    runs = plan(load_study(_write(tmp_path / "o.yaml", **reusing)))
    find_runs(load_study(tmp_path / "o.yaml"), runs)
    assert [r.model is not None for r in runs] == [True, True, True]
    assert {r.name: r.found_in for r in runs}[
        "half"
    ] == f"WiSE-FT λ=0.5 of {Path(toy_study['out']) / 'runs' / 'hybrid'}"
    # a merged model is never taken for its run: the study that needs hybrid does not find it in merges
    assert not same_recipe(record, next(r for r in result.runs if r.name == "hybrid").train_settings)
    other = load_study(_write(tmp_path / "n.yaml", **{**values, "merges": {"half": "hybrid@0.7"}}))
    with pytest.raises(ConfigError, match=r"merged from .* at λ=0.5, not .* λ=0.7; move that folder away"):
        run_study(other)


def test_soup_rows_train_the_other_seed_and_average_once(tmp_path: Path, toy_study: dict) -> None:
    values = {
        **toy_study,
        "soups": {"pot": ["hybrid", "hybrid#1"]},
        "evaluations": toy_study["evaluations"][:1],
    }
    values["comparison"] = {**toy_study["comparison"], "strategies": ["base", "hybrid"]}
    study = load_study(_write(tmp_path / "s.yaml", **values))
    waiting = run_study(study)  # nothing trained: both seeds' hybrid and the soup are missing
    assert [(r.name, r.seed) for r in waiting.missing] == [("hybrid", 0), ("pot", 0), ("hybrid", 1)]
    result = run_study(study, train=True)
    pot = next(r for r in result.runs if r.name == "pot")
    seed1 = Path(toy_study["out"]) / "seeds" / "seed-1" / "runs" / "hybrid" / "model"
    record = json.loads((Path(pot.model) / "hybridbatch_training.json").read_text())
    hybrid = next(r.model for r in result.runs if (r.name, r.seed) == ("hybrid", 0))
    assert record["merge"]["checkpoints"] == [hybrid, str(seed1)] and record["merge"]["weight"] == 0.5
    assert pot.model == str(Path(toy_study["out"]) / "soups" / "seed-0" / "pot" / "model")
    assert set(result.lareqa[0].strategies) == {"base", "hybrid", "pot"}  # seed 1 is an ingredient only
    assert "uniform soup of hybrid seed 0, hybrid seed 1" in write_study(result).read_text()
    built = (Path(pot.model) / "modules.json").stat().st_mtime_ns
    run_study(study)  # reused, not rebuilt
    assert (Path(pot.model) / "modules.json").stat().st_mtime_ns == built
    other = load_study(_write(tmp_path / "n.yaml", **{**values, "soups": {"pot": ["hybrid#1", "hybrid"]}}))
    with pytest.raises(ConfigError, match=r"a soup of .*, not of .*; move that folder away"):
        run_study(other)


def test_cli_study_bad_file_is_one_line(tmp_path: Path, cli) -> None:
    code, _, err = cli("study", str(_write(tmp_path / "s.yaml", name="x", question="q", colour="red")))
    assert code == 2 and err.startswith("error:") and "colour" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("study", str(tmp_path / "missing.yaml"))
    assert code == 2 and "cannot read config" in err


def test_learning_curve_evaluates_checkpoints_of_one_run(tmp_path: Path, toy_study: dict) -> None:
    # Saves every step (1, 2, 3; the final model is step 4): keeping only the last 2 would drop step 1.
    values = {**toy_study, "checkpoints": [1, 4], "evaluations": toy_study["evaluations"][:1]}
    values["comparison"] = {**toy_study["comparison"], "strategies": ["hybrid"]}
    result = run_study(load_study(_write(tmp_path / "b.yaml", **values)), train=True)
    assert [r.label for r in result.runs] == ["hybrid@1", "hybrid@4"]
    assert len({r.found_in for r in result.runs}) == 1  # one run, two checkpoints
    assert list(result.lareqa[0].strategies) == ["hybrid@1", "hybrid@4"]
    sig = result.significance[0]
    assert sig.reference == "hybrid@4" and sig.rows["hybrid@1"]["Multi mAP"].test is not None
    path = write_study(result)
    assert (path.parent / "toy" / "learning_curve.png").stat().st_size > 1000
    text = path.read_text()
    assert "| hybrid@1 |" in text and "## Learning curve" in text
    curve = text.split("## Learning curve")[1]
    assert "\n| 1 | " in curve and "\n| 4 | " in curve


def test_step_seconds_counts_a_resumed_step_once(tmp_path: Path) -> None:
    records = [
        {"step": 1, "seconds": 2.0},
        {"step": 2, "seconds": 9.0},  # step 2 redone after a resume
        {"step": 2, "event": "checkpoint", "seconds": 5.0},
        {"step": 2, "seconds": 3.0, "teacher_seconds": 0.5},
    ]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    run = PlannedRun(name="hybrid", seed=0, overrides={}, found_in=str(tmp_path))
    assert step_seconds(run) == {1: 2.0, 2: 3.0}
    assert step_seconds(run, "teacher_seconds") == {2: 0.5}
    assert step_seconds(run.model_copy(update={"found_in": None})) == {}


def test_trainer_dev_keeps_all_three_settings(tmp_path: Path) -> None:
    dev = {"event": "dev", "step": 2, "mono_map": 0.8, "cross_map": 0.7, "multi_map": 0.6, "loss": 1.0}
    (tmp_path / "metrics.jsonl").write_text(json.dumps(dev) + "\n")
    run = PlannedRun(name="hybrid", seed=0, overrides={}, found_in=str(tmp_path), train_settings={})
    assert trainer_dev(run) == {"step": 2, "mono_map": 0.8, "cross_map": 0.7, "multi_map": 0.6}


def test_same_recipe_needs_the_trainers_record() -> None:
    settings = {"model": "builtin:tiny", "data": ["x"], "steps": 2, "seed": 0}
    assert not same_recipe({"train_languages": ["de"]}, settings)
    from hybridbatch.training import TrainConfig

    material = TrainConfig(**settings, out=Path("o")).material()
    assert same_recipe({"config_material": material}, settings)
    assert not same_recipe({"config_material": {**material, "steps": 3}}, settings)
    older = {k: v for k, v in material.items() if k != "lr"}  # a key added since: default counts as equal
    assert same_recipe({"config_material": older}, settings)
    assert not same_recipe({"config_material": older}, {**settings, "lr": 1e-3})
    # a distilled run is not a plain one, whichever side leaves the distillation keys out
    distilled = TrainConfig(**settings, distill_weight=10.0, out=Path("o")).material()
    assert not same_recipe({"config_material": distilled}, settings)
    assert not same_recipe({"config_material": material}, {**settings, "distill_weight": 10.0})
