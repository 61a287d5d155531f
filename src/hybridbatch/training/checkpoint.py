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
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from hybridbatch.errors import ConfigError
from hybridbatch.io import atomic_directory, atomic_write_json, clean_stale_temps
from hybridbatch.models.metadata import TRAINING_JSON, TrainingMetadata, TrainResult
from hybridbatch.training import distributed

if TYPE_CHECKING:
    from hybridbatch.training.config import TrainConfig
    from hybridbatch.training.state import TrainingState

STEP_DIR = re.compile(r"^step-(\d{6,})$")
# Temporary directories of interrupted writes by versions before pid-tagged temporaries.
LEGACY_TEMP = re.compile(r"^\.(step-\d{6,}|model)\.[A-Za-z0-9_]+\.tmp$")


class Checkpointer:
    """The checkpoints and final model of one run directory: save, find, and check compatibility.

    A run may only continue (or be returned as finished) with the same material settings
    (:meth:`TrainConfig.fingerprint`); otherwise one ConfigError names the differing settings.
    """

    def __init__(self, config: TrainConfig, ctx: distributed.DistributedContext) -> None:
        self.config, self.ctx, self.out = config, ctx, Path(config.out)

    def clean_leftovers(self) -> list[Path]:
        """Remove temporaries of interrupted checkpoint / model writes (their writers are gone)."""
        removed: list[Path] = []
        for folder in (self.out, self.out / "checkpoints"):
            if not folder.is_dir():
                continue
            removed += clean_stale_temps(folder)
            for path in folder.iterdir():
                if LEGACY_TEMP.match(path.name) and path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
        return removed

    def check(self, fingerprint: str | None, material: dict[str, Any], what: Path) -> None:
        """ConfigError unless ``fingerprint`` is this run's (the message lists the differing settings)."""
        if fingerprint != self.config.fingerprint():
            diff = "; ".join(self.config.differences(material)) or "unknown"
            raise ConfigError(
                f"cannot resume {what}: settings differ from the saved run ({diff}); "
                "use another --out, or delete it to start over"
            )

    def finished(self) -> TrainResult | None:
        """The result of a finished run with the same settings (checked on rank 0, shared by all)."""
        meta = TrainingMetadata.read(self.out / "model") if self.ctx.is_main else None
        if meta is not None:
            self.check(meta.fingerprint, meta.config_material, self.out / "model")
        result = (
            TrainResult(model_dir=self.out / "model", **meta.result.model_dump())
            if meta and meta.result
            else None
        )
        return distributed.broadcast_object(result)

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint (the step rank 0 sees), loaded and checked; None when there is none."""
        found = list_checkpoints(self.out)
        step = distributed.broadcast_object(found[-1][0] if found and self.ctx.is_main else None)
        if step is None:
            return None
        path = dict(found).get(step)
        if path is None:
            raise ConfigError(
                f"{self.out}: checkpoint step-{step:06d} is not visible on rank {self.ctx.rank}"
            )
        checkpoint = load_checkpoint(path)
        self.check(checkpoint.state.get("fingerprint"), checkpoint.state.get("config_material", {}), path)
        return checkpoint

    def save(self, state: TrainingState) -> tuple[Path, float] | None:
        """Checkpoint ``state`` (rank 0 writes; every rank waits); returns (path, seconds) on rank 0."""
        saved = None
        if self.ctx.is_main:
            extra = {
                "fingerprint": self.config.fingerprint(),
                "config_material": self.config.material(),
                "sampler": state.sampler.state_dict(step=state.step),
                "world_size": self.ctx.world_size,
                **state.counters,
            }
            saved = save_checkpoint(
                self.out,
                state.step,
                state.st_model,
                state.optimizer,
                state.scheduler,
                extra,
                keep=self.config.keep_checkpoints,
            )
        distributed.barrier()
        return saved

    def save_model(self, state: TrainingState, meta: TrainingMetadata, card: str) -> Path:
        """Write the final model with its metadata and model card atomically (rank 0 only)."""
        from hybridbatch.io import atomic_write_text

        target = self.out / "model"
        if state.adapter is not None:  # LoRA: the adapter alone beside the merged model (.tuning)
            from hybridbatch.training.tuning import ADAPTER_DIR, save_adapter

            with atomic_directory(self.out / ADAPTER_DIR) as tmp:
                save_adapter(state.adapter, tmp)
        with atomic_directory(target) as tmp:
            if state.adapter is None:
                state.st_model.save(str(tmp), create_model_card=False)
            else:
                from hybridbatch.training.tuning import save_merged

                save_merged(state.st_model, state.adapter, tmp)
            atomic_write_json(tmp / TRAINING_JSON, meta.to_json())
            atomic_write_text(tmp / "README.md", card)
        return target


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


def prepare_run_dir(out: str | Path, overwrite: bool = False) -> Path:
    """Validate ``train --out`` before any work: new or empty, a run to resume (or return), or — with
    ``--overwrite`` — any other directory (nothing there is deleted)."""
    from hybridbatch.io import prepare_output_dir, read_marker

    path = Path(out)
    if path.is_dir() and read_marker(path) is None and _holds_run(path):
        return path
    return prepare_output_dir(path, "training run", overwrite)


def _holds_run(path: Path) -> bool:
    """Whether ``path`` holds a (possibly interrupted) training run's files."""
    run_files = (path / "metrics.jsonl", path / "checkpoints", path / "model" / TRAINING_JSON)
    return any(p.exists() for p in run_files)


def prepare_batch_log(log: str | Path | None, out: str | Path, overwrite: bool = False) -> None:
    """Validate ``train --log-batches`` before any work, like every output file: an existing log is
    continued when ``out`` holds a run to resume, and otherwise replaced only with ``--overwrite``."""
    from hybridbatch.io import prepare_output_file

    if log is not None:
        prepare_output_file(log, overwrite or _holds_run(Path(out)), flag="--log-batches")
