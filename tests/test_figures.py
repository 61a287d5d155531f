"""Plots are written whole (atomically) and their figures closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbatch.figures import pyplot, save_png


def test_figure_is_written_whole_and_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plt = pyplot()
    Path("plot.png").write_text("old")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_png("plot.png", fig, dpi=50)
    assert Path("plot.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert fig.number not in plt.get_fignums()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
