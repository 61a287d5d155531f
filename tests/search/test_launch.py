"""search.launch.serve_subprocess: a server that cannot start is an error carrying its output."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbatch.search.launch import serve_subprocess


def test_a_server_that_cannot_start_raises_with_its_output(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="did not start") as caught,
        serve_subprocess(tmp_path / "no-index"),
    ):
        pytest.fail("the block must not run")
    assert "error:" in str(caught.value) and "no-index" in str(caught.value)
