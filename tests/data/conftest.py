"""Fixtures of the data tests: run the CLI in-process the way the console script does."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from hybridbatch.cli import main

CliResult = tuple[int, str, str]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """``cli(*args) -> (exit code, stdout, stderr)`` of ``hybridbatch *args`` via ``cli.main``."""

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["hybridbatch", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run
