"""The CLI's contract: bad flags and commands give one ``error:`` line and exit code 2."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args",
    [("train", "--bogus"), ("data", "info"), ("nosuchcommand",), ("batches", "--steps", "many")],
)
def test_usage_errors_are_one_line_exit_2(cli, args) -> None:
    code, _, err = cli(*args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
