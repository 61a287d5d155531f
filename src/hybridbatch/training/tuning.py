"""Parameter-efficient training (issue 22): LoRA adapters through peft, or frozen bottom layers.

- ``lora_rank`` r: peft's LoRA (Hu et al., ICLR 2022) on the transformer's ``lora_target_modules``;
  only the adapters train (checkpoints hold only them). The final model is saved as a plain
  sentence-transformers directory with the adapter merged into the weights (``out/model``, loadable with
  ``SentenceTransformer(path)``), and the adapter alone in peft's format beside it (``out/adapter``).
- ``freeze_layers`` N: the embedding module (word, position, type embeddings and their norm) and the
  bottom N transformer layers stop training.

Both are checked before any weights are loaded where the model's ``config.json`` is on disk: the model
is built on the ``meta`` device (no memory, no weights) and the same functions run on it, so a bad depth
or target list fails with the same one-line error as after loading.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from hybridbatch.errors import ConfigError

if TYPE_CHECKING:
    from hybridbatch.training.adaptation_settings import TuningSettings
    from hybridbatch.training.config import TrainConfig

#: Where the adapter alone is saved, beside the merged ``model`` directory.
ADAPTER_DIR = "adapter"


def transformer_layers(auto_model: nn.Module) -> nn.ModuleList:
    """The stack of transformer blocks of a transformers model (e.g. BERT's ``encoder.layer``)."""
    depth = getattr(getattr(auto_model, "config", None), "num_hidden_layers", None)
    for _, module in auto_model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == depth:
            return module
    raise ConfigError(
        f"--freeze-layers: cannot find the {depth} transformer layers of {type(auto_model).__name__}"
    )


def freeze_bottom(auto_model: nn.Module, layers: int) -> int:
    """Freeze the embeddings and the bottom ``layers`` blocks; returns the number of frozen values."""
    stack = transformer_layers(auto_model)
    if layers > len(stack):
        raise ConfigError(
            f"--freeze-layers: {layers} is more than the model's {len(stack)} transformer layers"
        )
    embeddings = getattr(auto_model, "embeddings", None) or auto_model.get_input_embeddings()
    frozen = 0
    for module in [embeddings, *stack[:layers]]:
        for p in module.parameters():
            frozen += p.numel() if p.requires_grad else 0
            p.requires_grad_(False)
    return frozen


def add_lora(auto_model: nn.Module, settings: TuningSettings) -> Any:
    """Inject LoRA adapters into ``auto_model`` in place; returns peft's ``PeftModel`` around it."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.lora_target_modules),
    )
    try:
        with warnings.catch_warnings():  # peft asks transformers a deprecated checkpointing question
            warnings.simplefilter("ignore", FutureWarning)
            return get_peft_model(auto_model, config)
    except ValueError as exc:
        raise ConfigError(_lora_error(auto_model, settings, exc)) from None


def _lora_error(auto_model: nn.Module, settings: TuningSettings, exc: ValueError) -> str:
    linear = sorted({name.rsplit(".", 1)[-1] for name, m in auto_model.named_modules() if _is_linear(m)})
    targets = ", ".join(settings.lora_target_modules)
    if "not found" in str(exc):
        problem = "match no module of the model"
    else:
        module = str(exc).split("(")[0].removeprefix("Target module ").strip()
        problem = f"include a {module} module, which LoRA cannot adapt"
    return f"--lora-target-modules: {targets} {problem}; its linear layers are: {', '.join(linear)}"


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear)


def adapt(student: nn.Module, config: TrainConfig) -> tuple[Any, int]:
    """Apply ``freeze_layers`` or LoRA to a loaded sentence-transformers ``student``.

    Returns the peft model (None without LoRA) and the number of frozen parameter values.
    """
    tuning, auto_model = config.tuning, student[0].auto_model
    if tuning.freeze_layers is not None:
        freeze_bottom(auto_model, tuning.freeze_layers)
    adapter = add_lora(auto_model, tuning) if tuning.lora else None
    return adapter, sum(p.numel() for p in student.parameters() if not p.requires_grad)


def check_before_loading(config: TrainConfig) -> None:
    """Run the ``freeze_layers`` / LoRA checks on a weightless skeleton of the model, when its config is on
    disk (otherwise they run after loading, with the same messages)."""
    tuning = config.tuning
    if tuning.freeze_layers is None and not tuning.lora:
        return
    skeleton = model_skeleton(config.model)
    if skeleton is None:
        return
    if tuning.freeze_layers is not None:
        freeze_bottom(skeleton, tuning.freeze_layers)
    if tuning.lora:
        add_lora(skeleton, tuning)


def model_skeleton(spec: str) -> nn.Module | None:
    """The transformers model of ``spec`` on the ``meta`` device (no weights); None when its config is not
    readable without building or downloading anything."""
    import torch
    from transformers import AutoConfig, AutoModel

    folder = _transformer_folder(spec)
    if folder is None:
        return None
    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return AutoModel.from_config(config)
    except Exception:  # an unreadable config: the loader reports it with its own message
        return None


def _transformer_folder(spec: str) -> Path | None:
    from hybridbatch.models.loading import BUILTIN_PREFIX, builtin_path

    try:
        root = builtin_path(spec) if spec.startswith(BUILTIN_PREFIX) else Path(spec).expanduser()
    except Exception:  # an unknown builtin: reported by the loader
        return None
    modules = root / "modules.json"
    if modules.is_file():
        try:
            entries = json.loads(modules.read_text(encoding="utf-8"))
            root = root / next(e["path"] for e in entries if str(e.get("type", "")).endswith("Transformer"))
        except (ValueError, KeyError, StopIteration, TypeError):
            return None
    return root if (root / "config.json").is_file() else None


def save_merged(student: nn.Module, adapter: Any, directory: Path) -> None:
    """Save ``student`` with its LoRA adapter merged into the weights (a plain sentence-transformers
    directory); the in-memory student keeps its adapter."""
    memo: dict[int, Any] = {}
    student_copy = copy.deepcopy(student, memo)
    copy.deepcopy(adapter, memo).merge_and_unload()  # merges into student_copy's encoder, in place
    student_copy.save(str(directory), create_model_card=False)


def save_adapter(adapter: Any, directory: Path) -> None:
    """The LoRA adapter alone, in peft's format (``adapter_config.json``, ``adapter_model.safetensors``)."""
    adapter.save_pretrained(str(directory))
