"""Fixtures of the translation tests: a stand-in ``apertium`` command (fast, deterministic, with
switches for crashes, empty outputs and slowness) and a private cache home."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

# Reads the stdin segments (blank-line separated) and writes "[MODE] segment" for each; a segment
# holding CRASH makes the whole call fail, EMPTY comes back empty, UNKNOWNWORD comes back marked.
FAKE_APERTIUM = """#!{python}
import os, re, sys, time
args = sys.argv[1:]
if args == ["-l"]:
    print("\\n".join(os.environ.get("FAKE_APERTIUM_MODES", "eng-spa eng-cat").split()))
    sys.exit(0)
if args == ["-V"]:
    print("Apertium fake-1.0")
    sys.exit(0)
mode = [a for a in args if not a.startswith("-")][0]
segments = re.split(r"\\n[ \\t]*\\n", sys.stdin.read().strip("\\n"))
time.sleep(float(os.environ.get("FAKE_APERTIUM_SLEEP", "0")))
if any("CRASH" in s for s in segments):
    print("fake apertium: segmentation fault", file=sys.stderr)
    sys.exit(139)
log = os.environ.get("FAKE_APERTIUM_LOG")
if log:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("".join(s + "\\n" for s in segments))
def out(s):
    if "EMPTY" in s:
        return ""
    return "[" + mode + "] " + s.replace("UNKNOWNWORD", "*UNKNOWNWORD")
print("\\n\\n".join(out(s) for s in segments))
"""


@pytest.fixture
def fake_apertium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``apertium`` first on PATH (modes eng-spa, eng-cat); returns the log of translated segments."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    script = bin_dir / "apertium"
    script.write_text(FAKE_APERTIUM.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "apertium.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_APERTIUM_LOG", str(log))
    return log


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HYBRIDBATCH_HOME, so the default translation cache is the test's own."""
    home = tmp_path / "hb-home"
    monkeypatch.setenv("HYBRIDBATCH_HOME", str(home))
    return home


def logged(log: Path) -> list[str]:
    """The segments the fake engine translated so far."""
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []
