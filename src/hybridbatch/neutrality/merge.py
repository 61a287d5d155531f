"""``hybridbatch merge``: weight interpolation and checkpoint averaging of same-architecture models.

- **WiSE-FT** (Wortsman et al., CVPR 2022, "Robust fine-tuning of zero-shot models"):
  θ = (1 − λ)·θ_base + λ·θ_tuned; λ = 0 is the base, λ = 1 the fine-tuned model.
- **Checkpoint averaging** (Schmidt et al., Findings ACL 2023, "Free lunch: robust cross-lingual
  transfer via model checkpoint averaging"): the uniform mean of several checkpoints' weights.

Floating-point tensors are combined; integer buffers (e.g. position ids) must be equal and are copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybridbatch.errors import ConfigError
from hybridbatch.neutrality.model import load_clean, read_record, save_model

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer


def check_weight(weight: float) -> float:
    """λ must lie in [0, 1] (outside it the result is an extrapolation, not an interpolation)."""
    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"weight must be in [0, 1] (0 = base, 1 = tuned), got {weight}")
    return float(weight)


def architecture(model: SentenceTransformer) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """Module types and parameter shapes: what two models must share to be merged."""
    return [type(m).__name__ for m in model], {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_same_architecture(
    reference: SentenceTransformer, other: SentenceTransformer, names: tuple[str, str]
):
    """One-line ``ConfigError`` naming the first difference between two models' architectures."""
    (mods_a, shapes_a), (mods_b, shapes_b) = architecture(reference), architecture(other)
    where = f"{names[1]} and {names[0]} have different architectures"
    if mods_a != mods_b:
        raise ConfigError(f"{where}: modules {' -> '.join(mods_b)} vs {' -> '.join(mods_a)}")
    if shapes_a.keys() != shapes_b.keys():
        diff = sorted(set(shapes_a) ^ set(shapes_b))
        raise ConfigError(f"{where}: parameter {diff[0]!r} is only in one of them ({len(diff)} differ)")
    for key, shape in shapes_a.items():
        if shapes_b[key] != shape:
            raise ConfigError(f"{where}: parameter {key!r} has shape {shapes_b[key]} vs {shape}")


def combine(states: Sequence[dict[str, torch.Tensor]], weights: Sequence[float]) -> dict[str, torch.Tensor]:
    """Σ wᵢ·θᵢ per floating-point tensor; non-float tensors are taken from the first state."""
    out = {}
    for key, first in states[0].items():
        if not first.is_floating_point():
            out[key] = first.clone()
            continue
        total = first.double() * weights[0]
        for state, w in zip(states[1:], weights[1:], strict=True):
            total = total + state[key].double() * w
        out[key] = total.to(first.dtype)
    return out


def _load(specs: Sequence[str]) -> list[SentenceTransformer]:
    models = [load_clean(spec) for spec in specs]
    for spec, model in zip(specs[1:], models[1:], strict=True):
        check_same_architecture(models[0], model, (specs[0], spec))
    return models


def _write(
    models: list[SentenceTransformer], weights: list[float], out: Path, info: dict[str, Any], card: str
):
    state = combine([m.state_dict() for m in models], weights)
    merged = models[0]
    merged.load_state_dict(state, strict=True)
    record_from = info.get("tuned") or info["checkpoints"][0]
    return save_model(merged, out, {**read_record(record_from), "merge": info}, card)


def merge_models(base: str, tuned: str, weight: float, out: Path) -> Path:
    """WiSE-FT: write (1 − λ)·base + λ·tuned to ``out`` (tuned's training record carried over)."""
    weight = check_weight(weight)
    models = _load([base, tuned])
    info = {"method": "WiSE-FT, Wortsman et al., CVPR 2022", "base": base, "tuned": tuned, "weight": weight}
    card = render_card(f"(1 − {weight:g})·base + {weight:g}·tuned", info, [base, tuned])
    return _write(models, [1.0 - weight, weight], out, info, card)


def average_models(checkpoints: Sequence[str], out: Path) -> Path:
    """Uniform checkpoint averaging: write the mean of the checkpoints' weights to ``out``."""
    if len(checkpoints) < 2:
        raise ConfigError(f"--average needs at least 2 checkpoints, got {len(checkpoints)}")
    models = _load(list(checkpoints))
    info = {
        "method": "checkpoint averaging, Schmidt et al., Findings ACL 2023",
        "checkpoints": list(checkpoints),
        "weight": 1.0 / len(checkpoints),
    }
    card = render_card(f"uniform mean of {len(checkpoints)} checkpoints", info, list(checkpoints))
    return _write(models, [1.0 / len(checkpoints)] * len(checkpoints), out, info, card)


def render_card(formula: str, info: dict[str, Any], sources: list[str]) -> str:
    """README model card of a merged model."""
    listed = "\n".join(f"- `{spec}`" for spec in sources)
    return f"""---
library_name: sentence-transformers
tags: [sentence-transformers, multilingual, retrieval, hybridbatch, merged]
base_model: {sources[0]}
---

# Merged model (hybridbatch merge): {formula}

Weights combined per tensor ({info["method"]}); the architecture, tokenizer and prompts are those of
`{sources[0]}`. It is an ordinary sentence-transformers model: `SentenceTransformer("path/to/this/model")`.

Sources:
{listed}
"""
