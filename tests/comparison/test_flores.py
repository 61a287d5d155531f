"""``--eval flores200:dev`` in compare and study: per-run FLORES-200 folders, the bitext tables and the
paired tests over (language, sentence) queries, on the tiny model and a fake FLORES tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TOY, write_lareqa
from evaluation.test_flores import flores_home  # noqa: F401 (fixture: a pinned fake FLORES data home)
from hybridbatch.comparison.runs.flores import flores_dir_name, flores_tables, split_flores
from hybridbatch.comparison.studies.study import StudyConfig
from hybridbatch.comparison.studies.study_run import flores_splits, lareqa_sets
from hybridbatch.errors import ConfigError


def test_split_flores() -> None:
    assert split_flores(["xquad-r", "flores200", "flores200:dev"]) == (["xquad-r"], ["dev"])
    assert split_flores(["xquad-r", "flores200:train"]) == (["xquad-r"], ["train"])
    with pytest.raises(ConfigError, match="FLORES-200 has no split 'test'"):
        split_flores(["xquad-r", "flores200:test"])
    with pytest.raises(ConfigError, match="--eval flores200 is an extra evaluation: add a LAReQA one"):
        split_flores(["flores200:dev"])
    assert (flores_dir_name("dev"), flores_dir_name("dev", "bf16")) == ("flores200-dev", "flores200-dev-bf16")


def test_study_keeps_flores_out_of_the_lareqa_sets() -> None:
    study = StudyConfig(name="s", question="?", evaluations=["xquad-r", "afriqa:test", "flores200:dev"])
    assert lareqa_sets(study) == ["xquad-r"] and flores_splits(study) == ["dev"]
    with pytest.raises(ConfigError, match="evaluations: flores200:devtest: FLORES-200 has no split"):
        flores_splits(study.model_copy(update={"evaluations": ["xquad-r", "flores200:devtest"]}))


def _held_out() -> dict:
    """The toy's ids with other texts than the training copy (so the evaluation shares no text)."""
    return {
        qid: {
            lang: (f"{q} (eval)", [f"{s} (eval)" for s in sents], a) for lang, (q, sents, a) in langs.items()
        }
        for qid, langs in TOY.items()
    }


@pytest.mark.usefixtures("flores_home")
def test_compare_evaluates_flores_per_run_and_tests_it(tmp_path: Path, tiny_model, cli) -> None:
    out = tmp_path / "cmp"
    settings = {"train_settings": {"batch_size": 2, "dev_fraction": 0.0, "checkpoint_every": 0}}
    (tmp_path / "recipe.yaml").write_text(json.dumps(settings), encoding="utf-8")
    code, printed, err = cli(
        "compare",
        "--model",
        "builtin:tiny",
        "--train",
        str(write_lareqa(tmp_path / "train")),
        "--eval",
        str(write_lareqa(tmp_path / "heldout", _held_out())),
        "--eval",
        "flores200:dev",
        "--strategies",
        "base,xy",
        "--budget",
        "2",
        "--config",
        str(tmp_path / "recipe.yaml"),
        "--out",
        str(out),
    )
    assert code == 0, err
    for run in ("base", "xy"):
        folder = out / "runs" / run / "flores200-dev"
        report = json.loads((folder / "report.json").read_text())
        assert report["reference_model"] == "builtin:tiny" and (folder / "per_query.json").is_file()
    base = json.loads((out / "runs" / "base" / "flores200-dev" / "report.json").read_text())
    assert all(row["delta"] == 0 for row in base["languages"].values())  # base is its own reference
    tables = json.loads((out / "significance.json").read_text())["tables"]
    datasets = [t["dataset"] for t in tables]
    assert datasets == ["heldout", "flores200:dev", "flores200:dev (held-out languages)"]
    test = tables[1]["rows"]["xy"]["bitext acc."]["test"]
    assert test["n"] == 2 * 200 and tables[2]["rows"]["xy"]["bitext acc."]["test"]["n"] == 200
    markdown = (out / "comparison.md").read_text()
    assert "### FLORES-200 dev bitext (seed 0)" in markdown and "### flores200:dev: against base" in markdown
    assert "bitext acc." in printed


def test_flores_tables() -> None:
    means = {g: {"bitext_r1": 0.5} for g in ("all", "trained", "held-out")}
    ref = {g: {"bitext_r1": 0.6} for g in ("all", "trained", "held-out")}
    run = {"means": means, "reference_means": ref, "below_reference": {"all": 3, "held-out": 1}}
    lines = flores_tables({"xy": run})
    assert lines[2] == "| xy | 0.500 | 0.500 | 0.500 | -0.100 | -0.100 | -0.100 | 3 (1 held-out) |"


def test_flores_language_rows_show_chosen_languages_and_dashes_for_missing_ones() -> None:
    from hybridbatch.comparison.runs.flores import flores_language_rows

    run = {"languages": {"cat_Latn": {"scores": {"bitext_r1": 0.91}, "delta": 0.02}}}
    assert flores_language_rows({"mt": run}, []) == []
    lines = flores_language_rows({"mt": run}, ["cat_Latn", "glg_Latn"])
    assert lines[2:5] == [
        "| run | cat_Latn | glg_Latn |",
        "| --- | --- | --- |",
        "| mt | 0.910 (+0.020) | – |",
    ]
