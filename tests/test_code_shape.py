"""The structure rules of docs/architecture.md, enforced by ruff inside the suite: ruff-clean, formatted,
and the shape limits configured in pyproject.toml (C901 complexity, PLR0913 arguments, PLR0915
statements)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHAPE_RULES = {"C901", "PLR0913", "PLR0915"}


def _ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("ruff")
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_the_code_is_ruff_clean(command: list[str]) -> None:
    """`make lint` inside the suite, so CI (which runs `make test`) enforces it too."""
    done = _ruff(*command, "src", "tests", "benchmarks")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def test_the_shape_rules_are_configured() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert set(lint["select"]) >= SHAPE_RULES
    assert lint["mccabe"]["max-complexity"] == 10
    assert lint["pylint"] == {"max-args": 8, "max-statements": 40}


def test_the_shape_rules_catch_an_offender() -> None:
    """A library function over each limit, checked with the project's configuration, fails."""
    branches = "".join(f"    if a == {i}:\n        return {i}\n" for i in range(11))
    statements = "".join(f"    x{i} = {i}\n" for i in range(41))
    source = (
        f"def tangled(a):\n{branches}    return -1\n\n\n"
        "def crowded(a, b, c, d, e, f, g, h, i):\n    return a\n\n\n"
        f"def long():\n{statements}    return x0\n"
    )
    done = _ruff(
        "check", "--output-format", "concise", "--stdin-filename", "src/hybridbatch/x.py", "-", stdin=source
    )
    assert done.returncode == 1
    lines = source.splitlines()
    for rule, name in (("C901", "tangled"), ("PLR0913", "crowded"), ("PLR0915", "long")):
        line = next(n for n, text in enumerate(lines, start=1) if text.startswith(f"def {name}("))
        assert f"x.py:{line}:5: {rule} " in done.stdout, done.stdout
