"""Quiet means quiet: no transformers / huggingface_hub progress bars on model loads and saves, in any
command; ``train --quiet`` prints nothing on stderr; without it, only the command's own progress.

Real CLI processes (the library bars are switched off before transformers is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_lareqa

LIBRARY_BARS = ("Loading weights", "Writing model shards", "Fetching", "it/s]")


def _hybridbatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
    env |= {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "hybridbatch.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    write_lareqa(tmp_path / "toy")
    return tmp_path


TRAIN = ["train", "--model", "builtin:tiny", "--data", "toy", "--steps", "2", "--batch-size", "2"]
TRAIN += ["--checkpoint-every", "1", "--log-batches", "run/batches.jsonl", "--out", "run"]


def test_train_shows_its_own_progress_only_and_none_when_quiet(toy: Path) -> None:
    trained = _hybridbatch(*TRAIN, cwd=toy)  # loads the model, saves checkpoints and the final model
    assert "train: 100%" in trained.stderr  # train's own bar
    library = [bar for bar in LIBRARY_BARS if bar in trained.stderr.replace("step/s]", "")]
    assert not library, trained.stderr
    again = _hybridbatch(*TRAIN, "--quiet", cwd=toy)  # already trained: the result, no "nothing to do"
    assert again.stderr == "" and "model: run/model" in again.stdout


def test_a_model_load_draws_no_progress_bar(toy: Path, tiny_model) -> None:
    from hybridbatch.search import DenseIndex, Document

    docs = [Document("a", "The tower is in Paris."), Document("b", "Cats sleep.")]
    DenseIndex.build(tiny_model, docs).save(toy / "ix")
    found = _hybridbatch("search", "--index", "ix", "Where is the tower?", "-k", "1", cwd=toy)
    assert found.stderr == "" and "The tower is in Paris." in found.stdout
