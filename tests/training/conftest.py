"""Training fixtures: a small MLQA-R subset as a JSONL dataset (fast to load and train on)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mlqa_small(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 160 parallel ids of MLQA-R (all their languages) as ``mlqa-small.jsonl``."""
    from hybridbatch.data import load_collection, write_jsonl

    full = load_collection("mlqa-r")
    subset = full.subset(full.ids[:160], name="mlqa-small")
    return write_jsonl(subset, tmp_path_factory.mktemp("data") / "mlqa-small.jsonl")
