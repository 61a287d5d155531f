"""The AfriQA downloader entry: pinned commit, per-file sha256, only the split's files, offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hybridbatch.data import download as dl
from hybridbatch.data.afriqa import load_afriqa
from hybridbatch.data.registry import afriqa_dir, load_collection
from hybridbatch.errors import DataError

from .test_afriqa import write_afriqa


@pytest.fixture
def upstream(tmp_path, monkeypatch):
    """A fake masakhane-io/afriqa ``data/`` folder served from file:// URLs, pinned by sha256."""
    source = write_afriqa(tmp_path / "upstream" / "data")
    write_afriqa(source, "dev")
    pins = {}
    for file in source.glob("gold_passages/*/*.json"):
        _, _, lang, pivot, split, _ = file.name.split(".")
        pins[(lang, pivot, split)] = hashlib.sha256(file.read_bytes()).hexdigest()
    monkeypatch.setattr(dl, "AFRIQA_SHA256", pins)
    monkeypatch.setattr(dl, "AFRIQA_URL", (tmp_path / "upstream").as_uri() + "/data/{path}")
    home = tmp_path / "home"
    monkeypatch.setenv("HYBRIDBATCH_DATA", str(home))
    return source, home


def test_pinned_commit_and_files() -> None:
    assert dl.AFRIQA_COMMIT == "5c29933753692c28773c34ac1f68482007f1d2bb"
    assert "masakhane-io/afriqa/{commit}/data/" in dl.AFRIQA_URL
    assert len(dl.AFRIQA_SHA256) == 24 and ("wol", "fr", "test") not in dl.AFRIQA_SHA256


def test_download_only_the_split(upstream) -> None:
    _, home = upstream
    root = afriqa_dir("test")
    assert root == home / "afriqa"
    assert sorted(p.name for p in root.glob("gold_passages/*/*.json")) == [
        "gold_span_passages.afriqa.fon.fr.test.json",
        "gold_span_passages.afriqa.hau.en.test.json",
    ]
    assert load_afriqa(root, "test").languages == ["fon", "hau"]


def test_checksum_mismatch_writes_nothing(upstream) -> None:
    source, home = upstream
    name = dl.afriqa_path("hau", "en", "dev")
    (source / name).write_text("{}\n")
    with pytest.raises(DataError, match="checksum mismatch"):
        afriqa_dir("dev")
    assert not (home / "afriqa" / name).exists()


def test_unknown_split_and_not_a_collection(upstream) -> None:
    with pytest.raises(DataError, match="unknown split 'x'"):
        afriqa_dir("x")
    with pytest.raises(DataError, match=r"retrieval test set.*evaluate-retrieval --data afriqa"):
        load_collection("afriqa")


def test_offline_is_one_clear_error(upstream, monkeypatch) -> None:
    monkeypatch.setattr(dl, "AFRIQA_URL", "file:///nonexistent/{path}")
    with pytest.raises(DataError, match="cannot download"):
        afriqa_dir("test")


def test_shared_copy_matches_the_pins(shared_data: Path) -> None:
    for (lang, pivot, split), sha in dl.AFRIQA_SHA256.items():
        file = shared_data / "afriqa" / dl.afriqa_path(lang, pivot, split)
        assert hashlib.sha256(file.read_bytes()).hexdigest() == sha
