"""Settings declared once (hybridbatch.settings): one vocabulary, one-line errors naming the flag, exit 2
before any model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import SamplerConfig
from hybridbatch.training import TrainConfig, load_train_config


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any command gets as far as loading a model."""

    def fail(*args, **kwargs):
        raise AssertionError("a model was loaded before the input was rejected")

    monkeypatch.setattr("hybridbatch.models.load_model", fail)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--lr", "inf"], "--lr: lr must be a finite number"),
        (["--temperature", "inf"], "--temperature: temperature must be a finite number"),
        (["--temperature", "0"], "--temperature: temperature must be > 0"),
        (["--seed", "-1"], "--seed: seed must be in [0, 2**63)"),
        (["--seed", str(2**70)], "--seed: seed must be in [0, 2**63)"),
        (["--device", "foo"], "--device: unknown device 'foo'"),
        (["--alpha", "nan"], "--alpha: alpha must be a finite number"),
        (["--alpha", "1.5"], "--alpha: alpha must be in [0, 1]"),
        (["--sampler", "zz"], "--sampler: unknown sampler 'zz'"),
        (["--anchor-weight", "-1"], "--anchor-weight: anchor weight must be >= 0"),
        (["--steps", "3", "--epochs", "1"], "give steps or epochs, not both"),
    ],
)
def test_train_rejects_bad_numbers_naming_the_flag(cli, tmp_path: Path, no_model, flags, message) -> None:
    code, _, err = cli("train", "--model", "builtin:tiny", "--out", str(tmp_path / "run"), *flags)
    assert code == 2 and err.startswith("error:") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_device_without_cuda_is_refused_before_loading(cli, tmp_path: Path, toy_dir: Path, no_model) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = cli("train", "--data", str(toy_dir), "--out", str(tmp_path / "run"), "--device", "cuda")
    assert code == 2 and "--device cuda: this torch build or machine has no CUDA" in err


def test_binary_yaml_is_one_error_line(cli, tmp_path: Path, no_model) -> None:
    config = tmp_path / "bad.yaml"
    config.write_bytes(bytes(range(256)) * 4)
    code, _, err = cli("train", "--config", str(config))
    assert code == 2 and f"{config}: invalid YAML" in err and len(err.strip().splitlines()) == 1


def test_yaml_errors_name_the_file_and_flat_key(tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("out: x\nsampler: zz\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"t\.yaml: sampler: unknown sampler 'zz'"):
        load_train_config(config)


def test_one_sampler_vocabulary_everywhere() -> None:
    for alias, name in [("x-y", "xy"), ("X-X", "xx"), ("mono", "xx"), ("cross", "xy"), ("en", "en-en")]:
        assert SamplerConfig(strategy=alias).strategy == name
        assert TrainConfig(out="x", sampler=alias).sampling.strategy == name
        assert load_train_config(None, out="x", sampler=alias).flat()["sampler"] == name


def test_train_accepts_what_batches_accepts(cli, tmp_path: Path, toy_dir: Path) -> None:
    plan = tmp_path / "plan.jsonl"
    code, _, err = cli(
        "batches",
        "--data",
        str(toy_dir),
        "--sampler",
        "x-y",
        "--batch-size",
        "2",
        "--steps",
        "3",
        "--out",
        str(plan),
    )
    assert code == 0, err
    config = load_train_config(None, out=tmp_path / "r", sampler="x-y", data=[str(toy_dir)])
    assert config.sampling.strategy == "xy"


def test_nested_sampler_settings_keep_the_flat_layout() -> None:
    config = TrainConfig(out="x", alpha=0.3, schedule="cosine", alpha_end=0.7, languages="de,en")
    assert config.sampling.alpha == 0.3 and config.sampling.languages == ["de", "en"]
    flat = config.flat()
    assert flat["sampler"] == "hybrid" and flat["alpha"] == 0.3 and "sampling" not in flat
    assert TrainConfig(**flat).fingerprint() == config.fingerprint()


def test_fingerprint_unchanged_by_the_refactor() -> None:
    # computed with the pre-refactor TrainConfig (flat fields; its default data, MLQA-R alone):
    # existing runs and checkpoints resume
    mlqa = ["mlqa-r"]
    assert TrainConfig(out="x", data=mlqa).fingerprint() == "b1625762e65eb71e"
    assert TrainConfig(out="x", data=mlqa, anchor_weight=0.0).fingerprint() == "b1625762e65eb71e"
    assert TrainConfig(out="x", data=mlqa, anchor_weight=0.1).fingerprint() != "b1625762e65eb71e"
    hard = TrainConfig(out="x", data=mlqa, hard_negatives=1)
    assert TrainConfig(out="x", data=mlqa, hard_negatives=1, hard_negatives_from="both").fingerprint() != (
        hard.fingerprint()
    )
    assert TrainConfig(out="x").fingerprint() != "b1625762e65eb71e"  # today's default adds FLORES-200
    xy = TrainConfig(
        data=mlqa,
        out="y",
        sampler="xy",
        alpha=0.3,
        lr=5e-5,
        hard_negatives=1,
        languages=["de", "en"],
        batch_size=16,
    )
    assert xy.fingerprint() == "ff2d17b297394f8e"


def test_help_shows_generated_flags_with_defaults(cli) -> None:
    code, out, _ = cli("train", "--help")
    assert code == 0
    for flag in ("--alpha", "--anchor-weight", "--threads", "--sampler", "--adaptive-lr", "--overwrite"):
        assert flag in out
    assert "[default: 0.5]" in out
