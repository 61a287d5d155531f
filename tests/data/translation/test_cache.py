"""The sentence cache: entries survive a ``kill -9`` mid-run, damaged entries are caught, an unusable
file is one error line."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from data.translation.conftest import logged
from hybridbatch.data.translation.cache import TranslationCache, cache_key
from hybridbatch.data.translation.engines import Output
from hybridbatch.errors import ConfigError


def test_entries_round_trip_and_a_damaged_entry_is_reported(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    keys = [cache_key("apertium 1", "eng-spa", text) for text in ("a", "b")]
    cache.put("apertium 1", "eng-spa", [(keys[0], Output("A", 1)), (keys[1], Output("B"))])
    cache._db.execute("UPDATE translations SET unknown = 7 WHERE key = ?", (keys[1],))
    found, corrupt = cache.get([*keys, "missing"])
    assert found == {keys[0]: Output("A", 1)} and corrupt == {keys[1]}
    assert cache_key("apertium 2", "eng-spa", "a") != keys[0]  # another engine version never hits


def test_a_file_that_is_not_a_cache_is_one_error(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"not a database, just bytes " * 100)
    with pytest.raises(ConfigError, match=r"--cache .*c\.sqlite: not a usable translation cache"):
        TranslationCache(bad)


def _rows(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_run_killed_mid_way_resumes_without_retranslating(tmp_path, toy_dir, fake_apertium, private_home):
    """kill -9 after a few committed batches: no output directory, and the rerun translates exactly
    the sentences the cache lacks."""
    cache, out = private_home / "translations.sqlite", tmp_path / "mt"
    command = [sys.executable, "-m", "hybridbatch.cli", "data", "translate", str(toy_dir)]
    command += ["--to", "es", "--batch-size", "1", "--out", str(out), "--quiet"]
    env = {**os.environ, "FAKE_APERTIUM_SLEEP": "0.4"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while _rows(cache) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    with suppress(ProcessLookupError):  # (finished already: the assertion below says so)
        os.killpg(process.pid, signal.SIGKILL)  # the run and its engine call in flight
    process.wait()
    before = _rows(cache)
    assert 3 <= before < 10, "the run finished before it could be killed"
    assert not out.exists()  # nothing presented as complete
    fake_apertium.unlink()
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "translate.json").read_text())["languages"]["es"]
    assert report["cached"] == before
    assert report["translated"] == report["sentences"] - before == len(logged(fake_apertium))
