"""Output locations are validated up front; artefacts never replace what they did not create."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hybridbatch.io import (
    MARKER,
    OutputError,
    artefact_directory,
    atomic_directory,
    atomic_write_text,
    clean_stale_temps,
    prepare_output_dir,
    prepare_output_file,
    read_marker,
)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "model").mkdir(parents=True)
    (tmp_path / "runs" / "notes.txt").write_text("mine")
    (tmp_path / "file.txt").write_text("mine")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    return tmp_path


@pytest.mark.parametrize(
    ("out", "fragment"),
    [
        ("", "--out: empty path"),
        (" ", "--out: empty path"),
        (".", "current directory"),
        ("file.txt", "is an existing file"),
        ("file.txt/sub", "is a file, not a directory"),
        ("runs", "pass --overwrite"),
        ("dangling", "is a broken symbolic link"),
    ],
)
def test_bad_output_dirs_are_refused(here: Path, out: str, fragment: str) -> None:
    with pytest.raises(OutputError, match=fragment):
        prepare_output_dir(out, "index")


def test_unwritable_location_is_refused(here: Path) -> None:
    target = Path("/sys/hybridbatch-out")
    if os.access("/sys", os.W_OK) and not target.parent.exists():
        pytest.skip("no unwritable directory here")
    with pytest.raises(OutputError, match="cannot write in /sys"):
        prepare_output_dir(target, "index")


def test_other_kind_needs_overwrite(here: Path) -> None:
    with artefact_directory("out", "index") as tmp:
        (tmp / "a.txt").write_text("a")
    assert read_marker("out")["kind"] == "index"
    assert prepare_output_dir("out", "index") == Path("out")
    with pytest.raises(OutputError, match="holds a hybridbatch index, not a hybridbatch evaluation"):
        prepare_output_dir("out", "evaluation")
    assert prepare_output_dir("out", "evaluation", overwrite=True) == Path("out")


def test_overwrite_merges_and_keeps_foreign_files(here: Path) -> None:
    prepare_output_dir("runs", "index", overwrite=True)
    with artefact_directory("runs", "index") as tmp:
        (tmp / "index.json").write_text("{}")
    assert sorted(os.listdir("runs")) == sorted([MARKER, "index.json", "model", "notes.txt"])
    assert Path("runs/notes.txt").read_text() == "mine"
    with artefact_directory("runs", "index") as tmp:  # a rerun still merges: foreign files stay
        (tmp / "index.json").write_text('{"v": 2}')
    assert sorted(os.listdir("runs")) == sorted([MARKER, "index.json", "model", "notes.txt"])
    assert Path("runs/index.json").read_text() == '{"v": 2}'


def test_own_artefact_is_replaced_in_one_rename(here: Path) -> None:
    with artefact_directory("out", "index") as tmp:
        (tmp / "old.txt").write_text("a")
    with artefact_directory("out", "index") as tmp:
        (tmp / "new.txt").write_text("b")
    assert sorted(os.listdir("out")) == [MARKER, "new.txt"]
    assert [p for p in here.iterdir() if p.name.startswith(".")] == []


def test_an_artefact_never_replaces_a_file(here: Path) -> None:
    with pytest.raises(OutputError, match="is an existing file"), artefact_directory("file.txt", "index"):
        pass
    assert Path("file.txt").read_text() == "mine" and not Path(".file.txt.old").exists()


def test_failed_write_leaves_target_untouched(here: Path) -> None:
    with pytest.raises(RuntimeError), artefact_directory("runs", "index") as tmp:
        (tmp / "index.json").write_text("{}")
        raise RuntimeError
    assert sorted(os.listdir("runs")) == ["model", "notes.txt"]


def test_output_file_needs_overwrite(here: Path) -> None:
    with pytest.raises(OutputError, match="file exists; pass --overwrite"):
        prepare_output_file("file.txt")
    assert prepare_output_file("file.txt", overwrite=True) == Path("file.txt")
    with pytest.raises(OutputError, match="is a directory"):
        prepare_output_file("runs", overwrite=True)
    with pytest.raises(OutputError, match="is not a regular file"):
        prepare_output_file("/dev/null", overwrite=True)
    assert prepare_output_file("new/out.jsonl") == Path("new/out.jsonl")
    assert not Path("new").exists()


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(proc.stdout)


def test_temporaries_of_killed_writers_are_cleaned(here: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    (here / f".report.json.hb{dead}-abc.tmp").write_text("partial")
    (here / f".report.json.hb{live}-abc.tmp").write_text("in progress")
    (here / f".step-4.hb{dead}-xyz.tmp").mkdir()
    atomic_write_text(here / "report.json", "{}")
    assert not (here / f".report.json.hb{dead}-abc.tmp").exists()
    assert (here / f".report.json.hb{live}-abc.tmp").exists()
    assert clean_stale_temps(here) == [here / f".step-4.hb{dead}-xyz.tmp"]


def test_atomic_directory_recovers_an_interrupted_swap(here: Path) -> None:
    with atomic_directory("ckpt") as tmp:
        (tmp / "a").write_text("1")
    os.replace("ckpt", ".ckpt.old")  # a crash between the two renames of a swap
    with pytest.raises(RuntimeError), atomic_directory("ckpt"):
        raise RuntimeError
    assert os.listdir("ckpt") == ["a"] and not Path(".ckpt.old").exists()
    with atomic_directory("ckpt") as tmp:
        (tmp / "b").write_text("2")
    assert os.listdir("ckpt") == ["b"] and not Path(".ckpt.old").exists()


def test_an_interrupted_artefact_write_is_cleaned_by_the_next(here: Path) -> None:
    dead = _dead_pid()
    (here / f".ix.hb{dead}-abc.tmp").mkdir()  # killed while building a new artefact
    (here / "runs" / f".index.hb{dead}-abc.tmp").mkdir()  # killed while merging into runs/
    assert prepare_output_dir("runs", "index", overwrite=True) == Path("runs")
    assert not (here / "runs" / f".index.hb{dead}-abc.tmp").exists()
    with artefact_directory("ix", "index") as tmp:
        (tmp / "a").write_text("1")
    assert sorted(p.name for p in here.iterdir()) == ["dangling", "file.txt", "ix", "runs"]
