"""Matplotlib, headless, for every plot hybridbatch writes: one backend choice and one atomic PNG writer."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hybridbatch.io import atomic_write_bytes


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed; imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(path: str | Path, fig: Any, dpi: int = 120) -> Path:
    """Render ``fig`` as a tightly cropped PNG, write it atomically and close the figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return atomic_write_bytes(path, buffer.getvalue())
