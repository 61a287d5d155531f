"""Where hybridbatch keeps built models, downloaded data and embedding caches."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "HYBRIDBATCH_HOME"


def cache_home() -> Path:
    """``$HYBRIDBATCH_HOME`` or ``$XDG_CACHE_HOME/hybridbatch`` (default ``~/.cache/hybridbatch``)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hybridbatch"


def models_home() -> Path:
    """Directory of built builtin models."""
    return cache_home() / "models"


def embeddings_home() -> Path:
    """Directory of cached evaluation embeddings."""
    return cache_home() / "embeddings"
