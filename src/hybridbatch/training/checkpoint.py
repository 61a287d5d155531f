"""Training checkpoints: ``out/checkpoints/step-XXXXXX/``, written atomically, the last K kept.

A checkpoint holds everything a resumed run needs to continue bitwise as if never stopped:

- ``trainable.safetensors``: the parameters that require grad. The others (e.g. a frozen word-embedding
  matrix) are reloaded from the base model spec, which the config names, so a checkpoint of
  multilingual-e5-small with frozen embeddings is ~70 MB instead of ~470 MB;
- ``optimizer.pt``: the AdamW and LR-scheduler state dicts;
- ``state.json``: step, sampler/schedule state, config fingerprint and material settings, counters
  (seconds, pairs trained);
- ``rng.pt``: torch, numpy and python RNG states (the trainer also reseeds per step; see trainer).
"""

from __future__ import annotations

import random
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from hybridbatch.errors import ConfigError
from hybridbatch.io import atomic_directory, atomic_write_json

STEP_DIR = re.compile(r"^step-(\d{6,})$")


def checkpoint_dir(out: Path, step: int) -> Path:
    """``out/checkpoints/step-XXXXXX`` for ``step`` completed steps."""
    return Path(out) / "checkpoints" / f"step-{step:06d}"


def list_checkpoints(out: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``out/checkpoints`` as ``(step, path)``, oldest first."""
    root = Path(out) / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        match = STEP_DIR.match(path.name)
        if match and (path / "state.json").is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The parameters of ``model`` that require grad, by name (contiguous CPU copies)."""
    return {
        name: p.detach().to("cpu", copy=True).contiguous()
        for name, p in model.named_parameters()
        if p.requires_grad
    }


@dataclass
class Checkpoint:
    """A loaded checkpoint (see module docstring)."""

    step: int
    path: Path
    state: dict[str, Any]
    weights: dict[str, torch.Tensor]
    optim: dict[str, Any]
    rng: dict[str, Any]


def save_checkpoint(
    out: Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: dict[str, Any],
    keep: int = 1,
) -> tuple[Path, float]:
    """Write checkpoint ``step`` atomically, prune to the last ``keep``; returns (path, seconds)."""
    start = time.perf_counter()
    target = checkpoint_dir(out, step)
    with atomic_directory(target) as tmp:
        save_file(trainable_state(model), str(tmp / "trainable.safetensors"))
        torch.save(
            {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optimizer.pt"
        )
        torch.save(rng_state(), tmp / "rng.pt")
        atomic_write_json(tmp / "state.json", {"step": step, **state})
    for old_step, path in list_checkpoints(out)[:-keep]:
        if old_step != step:
            shutil.rmtree(path, ignore_errors=True)
    return target, time.perf_counter() - start


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint directory written by :func:`save_checkpoint`."""
    import json

    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    return Checkpoint(
        step=int(state["step"]),
        path=path,
        state=state,
        weights=load_file(str(path / "trainable.safetensors")),
        optim=torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False),
        rng=torch.load(path / "rng.pt", map_location="cpu", weights_only=False),
    )


def restore_weights(model: nn.Module, weights: dict[str, torch.Tensor], source: Path) -> None:
    """Copy checkpointed trainable parameters into ``model`` (ConfigError if the names do not match)."""
    params = dict(model.named_parameters())
    trainable = {n for n, p in params.items() if p.requires_grad}
    if set(weights) != trainable:
        missing, extra = sorted(trainable - set(weights)), sorted(set(weights) - trainable)
        raise ConfigError(
            f"{source}: checkpoint parameters do not match the model "
            f"(missing {missing[:3]}, unexpected {extra[:3]}); was the model or freeze_embeddings changed?"
        )
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)


def rng_state() -> dict[str, Any]:
    """Torch (CPU and CUDA), numpy and python RNG states."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
