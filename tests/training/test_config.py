"""TrainConfig: YAML + flags, validation errors naming the key, epochs, resume fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.training import TrainConfig, load_train_config


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_then_flags_override(tmp_path: Path):
    path = _yaml(tmp_path, "model: builtin:tiny\nbatch-size: 16\nlr: 1.0e-4\ndata: mlqa-r\nout: runs/a\n")
    config = load_train_config(path, lr=5e-5, steps=None, out=tmp_path / "b")
    assert config.batch_size == 16  # from YAML (dash normalised)
    assert config.lr == 5e-5  # flag wins
    assert config.steps is None  # None = flag not given
    assert [str(s) for s in config.data] == ["mlqa-r"]  # a single string becomes a list
    assert config.out == tmp_path / "b"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("out: x\nlearning_rate: 0.1\n", "unknown setting 'learning_rate'"),
        ("out: x\nalpha: 1.5\n", "alpha"),
        ("out: x\nbatch_size: many\n", "batch_size"),
        ("out: x\nsteps: 10\nepochs: 1\n", "steps or epochs"),
        ("out: x\nsampler: zz\n", "sampler"),
        ("out: x\nschedule: linear\n", "alpha_end"),
        ("out: x\nschedule: adaptive\ndev_fraction: 0\n", "dev_fraction"),
        ("out: x\ndata: [xquad-r]\n", "evaluation-only"),
        ("batch_size: 8\n", "'out' is required"),
        ("- a\n- b\n", "mapping"),
        ("out: [unclosed\n", "invalid YAML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, needle: str):
    path = _yaml(tmp_path, text)
    with pytest.raises(ConfigError, match=r"train\.yaml") as info:
        load_train_config(path)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_yaml_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_train_config(tmp_path / "nope.yaml")


def test_epochs_define_steps():
    # one epoch = training pairs / global batch size, rounded up
    assert TrainConfig(out="x", epochs=1, batch_size=32).total_steps(100) == 4
    assert TrainConfig(out="x", epochs=2.5, batch_size=10).total_steps(100) == 25
    assert TrainConfig(out="x", batch_size=10).total_steps(95) == 10  # default: one epoch
    assert TrainConfig(out="x", steps=7).total_steps(10_000) == 7
    assert TrainConfig(out="x", steps=50).resolved_warmup(50) == 5
    assert TrainConfig(out="x", steps=50, warmup_steps=0).resolved_warmup(50) == 0


def test_fingerprint_ignores_output_settings_only():
    base = TrainConfig(out="a", steps=10)
    same = TrainConfig(out="b", steps=10, checkpoint_every=3, log_batches="l.jsonl", show_progress=False)
    assert base.fingerprint() == same.fingerprint()
    other = TrainConfig(out="a", steps=10, lr=1e-4)
    assert other.fingerprint() != base.fingerprint()
    assert other.differences(base.material()) == ["lr: 3e-05 -> 0.0001"]


def test_sampler_config_mapping():
    config = TrainConfig(out="x", alpha=0.3, schedule="cosine", alpha_end=0.7, hard_negatives=2)
    sampler = config.sampler_config(total_steps=40)
    assert (sampler.strategy, sampler.alpha, sampler.alpha_end) == ("hybrid", 0.3, 0.7)
    assert sampler.schedule_steps == 40 and sampler.steps == 40 and sampler.hard_negatives == 2
    assert sampler.build_schedule().alpha(40) == pytest.approx(0.7)
