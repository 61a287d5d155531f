"""``compare`` checks every run's settings up front: a typo exits 2 in seconds, before any model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("work started before the settings were checked")

    monkeypatch.setattr("hybridbatch.models.load_model", fail)
    monkeypatch.setattr("hybridbatch.evaluation.evaluate", fail)


def _yaml(tmp_path: Path, settings: dict) -> str:
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"train_settings": {"learning_rate": 0.1}}, "unknown setting 'learning_rate'"),
        ({"train_settings": {"lr": "fast"}}, "lr"),
        ({"train_settings": {"temperature": float("inf")}}, "temperature must be a finite number"),
        ({"train_settings": {"sampler": "xy"}}, "'sampler' is set by the comparison's 'strategies'"),
        ({"train_settings": {"alpha": 2}}, "alpha must be in [0, 1]"),
        ({"strategy": ["base"]}, "unknown setting 'strategy'"),
        ({"budget": 0}, "budget must be >= 1"),
    ],
)
def test_bad_compare_yaml_exits_before_any_work(cli, tmp_path, toy_dir, no_work, settings, message) -> None:
    config = _yaml(
        tmp_path, {"model": "builtin:tiny", "train": [str(toy_dir)], "eval": [str(toy_dir)], **settings}
    )
    code, _, err = cli("compare", "--config", config, "--out", str(tmp_path / "cmp"))
    assert code == 2 and err.startswith("error:") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cmp").exists()


def test_empty_strategies_is_an_error(cli, tmp_path, no_work) -> None:
    code, _, err = cli("compare", "--out", str(tmp_path / "cmp"), "--strategies", "")
    assert code == 2 and "--strategies: give at least one strategy" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--alpha", "abc"], "--alpha: "),
        (["--alpha", "1.5"], "--alpha: alpha must be in [0, 1], got 1.5"),
        (["--languages-per-batch", "1"], "--languages-per-batch: languages per batch must be >= 2, got 1"),
        (["--strategies", "xx,mono-only"], "--strategies: unknown strategy 'mono-only'"),
        (["--seed", "-1"], "--seed: seed must be in [0, 2**63)"),
        (["--budget", "0"], "--budget: budget must be >= 1"),
        (["--eval-fraction", "nan"], "--eval-fraction: eval fraction must be a finite number"),
    ],
)
def test_compare_flags_name_the_flag(cli, tmp_path, toy_dir, no_work, flags, message) -> None:
    code, _, err = cli("compare", "--out", str(tmp_path / "cmp"), "--train", str(toy_dir), *flags)
    assert code == 2 and message in err, err


@pytest.mark.parametrize(
    ("key", "value", "flag", "given"),
    [
        ("alphas", [0.3, 1.5], "--alpha", "0.3,1.5"),
        ("languages_per_batch", [1], "--languages-per-batch", "1"),
        ("strategies", ["xx", "mono-only"], "--strategies", "xx,mono-only"),
        ("strategies", ["xx", "x-x"], "--strategies", "xx,x-x"),
        ("budget", 0, "--budget", "0"),
    ],
)
def test_a_yaml_key_and_its_flag_get_the_same_message(
    cli, tmp_path, toy_dir, no_work, key, value, flag, given
) -> None:
    config = _yaml(tmp_path, {"train": [str(toy_dir)], key: value})
    out = str(tmp_path / "cmp")
    code_yaml, _, from_yaml = cli("compare", "--config", config, "--out", out)
    code_flag, _, from_flag = cli("compare", "--train", str(toy_dir), flag, given, "--out", out)
    problem = from_flag.strip().removeprefix(f"error: {flag}: ")
    assert code_yaml == code_flag == 2 and problem != from_flag.strip(), from_flag
    assert from_yaml.strip().startswith(f"error: {config}: ") and from_yaml.strip().endswith(f": {problem}")
    assert not (tmp_path / "cmp").exists()


def test_eval_only_training_data_fails_before_the_base_evaluation(cli, tmp_path, toy_dir, no_work) -> None:
    code, _, err = cli(
        "compare", "--out", str(tmp_path / "cmp"), "--train", "xquad-r", "--eval", str(toy_dir)
    )
    assert code == 2 and "evaluation-only" in err, err


def test_yaml_strategies_are_used_when_no_flag_is_given(tmp_path, toy_dir) -> None:
    from hybridbatch.comparison.runs.config import build_settings

    config_file = Path(_yaml(tmp_path, {"strategies": ["base", "xy"], "train": [str(toy_dir)]}))
    assert build_settings(tmp_path / "cmp", {}, config_file).strategies == ["base", "xy"]
    assert build_settings(tmp_path / "cmp", {"strategies": ["xx"]}, config_file).strategies == ["xx"]


def test_out_that_is_not_a_comparison_needs_overwrite(cli, tmp_path, toy_dir, no_work) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, _, err = cli("compare", "--out", str(out), "--train", str(toy_dir), "--eval", str(toy_dir))
    assert code == 2 and "--overwrite" in err
    assert (out / "mine.txt").read_text() == "keep me"
