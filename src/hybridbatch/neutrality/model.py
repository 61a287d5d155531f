"""``hybridbatch neutralize``: bake a fitted language map into a plain sentence-transformers model.

The map becomes one ``Dense`` module (identity activation) just before the final ``Normalize``, so
``SentenceTransformer(DIR)`` applies it with no language id. LSAR's P = I − V_rᵀV_r is linear, so
P applied to the pooled vector and then normalised equals P applied to the unit embedding (what the
statistics were fitted on). ``center`` has no language id at query time in a plain model: the model
applies its language-free fallback P(x − μ̄) (see :mod:`.projection`) after an extra ``Normalize``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridbatch.io import artefact_directory, atomic_write_json, atomic_write_text
from hybridbatch.neutrality.projection import PAPERS, LanguageMap

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TRAINING_JSON = "hybridbatch_training.json"
ARTEFACT = "model"  # the artefact kind of hybridbatch.io's output markers


def projection_module(lmap: LanguageMap) -> Any:
    """The map as a sentence-transformers ``Dense`` module (x ↦ Px, or Px − Pμ̄ for ``center``)."""
    import torch
    from sentence_transformers.sentence_transformer.modules import Dense

    p = lmap.projection_matrix()
    bias = lmap.method == "center"
    b = -(p @ lmap.means.astype(np.float64).mean(axis=0)) if bias else None
    return Dense(
        p.shape[0],
        p.shape[0],
        bias=bias,
        activation_function=None,
        init_weight=torch.tensor(p, dtype=torch.float32),
        init_bias=torch.tensor(b, dtype=torch.float32) if b is not None else None,
    )


def neutralized(model: SentenceTransformer, lmap: LanguageMap) -> SentenceTransformer:
    """A new model: ``model``'s modules with the projection inserted before the final ``Normalize``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize

    modules = list(model)
    last = max((i for i, m in enumerate(modules) if isinstance(m, Normalize)), default=len(modules))
    extra = [Normalize()] if lmap.method == "center" else []
    stack = [*modules[:last], *extra, projection_module(lmap), Normalize(), *modules[last + 1 :]]
    return SentenceTransformer(
        modules=stack,
        prompts=dict(model.prompts or {}),
        similarity_fn_name=model.similarity_fn_name or "cosine",
        device="cpu",
    )


def load_clean(spec: str) -> SentenceTransformer:
    """Load ``spec`` on CPU without a pooler its checkpoint does not hold.

    A model saved by plain ``SentenceTransformer.save`` forgets ``add_pooling_layer: false``, so the
    load adds a freshly random BERT pooler: unused by mean pooling, but it changes the weights (and the
    embedding-cache fingerprint) on every load and would make merges of such models fail.
    """
    from hybridbatch.models import load_model
    from hybridbatch.models.loading import resolve_path

    model = load_model(spec, device="cpu")
    auto = getattr(model[0], "auto_model", None)
    path = resolve_path(spec)
    if auto is None or getattr(auto, "pooler", None) is None or path is None:
        return model
    files = list(path.glob("*.safetensors"))
    if files and not any(_has_pooler(f) for f in files):
        auto.pooler = None
    return model


def _has_pooler(file: Path) -> bool:
    from safetensors import safe_open

    with safe_open(str(file), framework="pt") as handle:
        return any(key.split(".")[0] == "pooler" or ".pooler." in key for key in handle.keys())  # noqa: SIM118 (safe_open is not a dict)


def read_record(spec: str) -> dict[str, Any]:
    """The parent model's ``hybridbatch_training.json`` (empty when it has none)."""
    from hybridbatch.models.loading import resolve_path

    path = resolve_path(spec)
    file = path / TRAINING_JSON if path is not None else None
    if file is None or not file.is_file():
        return {}
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def save_model(model: SentenceTransformer, out: Path, record: dict[str, Any], card: str) -> Path:
    """Write ``model`` with its record and README card into ``out`` atomically."""
    with artefact_directory(out, ARTEFACT) as tmp:
        model.save(str(tmp), create_model_card=False)
        keep_no_pooler(model, tmp)
        atomic_write_json(tmp / TRAINING_JSON, record)
        atomic_write_text(tmp / "README.md", card)
    return out


def keep_no_pooler(model: SentenceTransformer, directory: Path) -> None:
    """Record ``add_pooling_layer: false`` when the encoder has no pooler.

    ``SentenceTransformer.save`` drops the ``model_kwargs`` the builtin stored, so the next load would
    add a random (unused) BERT pooler and change the model's fingerprint on every load.
    """
    auto = getattr(model[0], "auto_model", None)
    file = directory / "sentence_bert_config.json"
    if auto is None or getattr(auto, "pooler", None) is not None or not file.is_file():
        return
    config = json.loads(file.read_text(encoding="utf-8"))
    config["model_kwargs"] = {**config.get("model_kwargs", {}), "add_pooling_layer": False}
    atomic_write_json(file, config)


def neutralize_model(
    spec: str,
    source: str,
    method: str,
    out: Path,
    rank: int | None = None,
    batch_size: int = 64,
    cache_dir: Path | None = None,
) -> tuple[Path, LanguageMap, list[str]]:
    """Fit ``method`` on ``source`` with model ``spec`` and write the neutralized model to ``out``.

    Returns ``(out, map, train languages missing from the source)``.
    """
    from hybridbatch.neutrality.embeddings import check_source, encode_source
    from hybridbatch.neutrality.projection import fit

    check_source(source, rank)  # before the model is loaded
    model = load_clean(spec)
    name, by_lang = encode_source(model, source, batch_size, cache_dir)
    lmap = fit(by_lang, method, rank, source=name)
    parent = read_record(spec)
    missing = sorted(set(parent.get("train_languages") or []) - set(lmap.languages))
    info = {**lmap.describe(), "model": spec, "train_languages_missing_from_source": missing}
    info["applies"] = "P x" if method == "lsar" else "P (x - mean of language means), no language id"
    record = {**parent, "neutralization": info}
    save_model(neutralized(model, lmap), out, record, render_card(spec, lmap, missing, parent))
    return out, lmap, missing


def render_card(spec: str, lmap: LanguageMap, missing: list[str], parent: dict[str, Any]) -> str:
    """README model card of a neutralized model."""
    counts = "\n".join(f"| {lang} | {lmap.counts.get(lang, 0):,} |" for lang in lmap.languages)
    note = (
        f"Training languages of the parent missing from the fit source: {', '.join(missing)}."
        if missing
        else "Every training language of the parent (if recorded) is in the fit source."
    )
    applied = (
        "x ↦ normalize(P x), P = I − V_rᵀV_r"
        if lmap.method == "lsar"
        else "x ↦ normalize(P (normalize(x) − μ̄)): centering without a language id (the fallback of "
        "per-language centering; per-language means need `index/evaluate --neutralize center`)"
    )
    trained = (
        f" (fine-tuned: {', '.join(parent['train_languages'])})" if parent.get("train_languages") else ""
    )
    return f"""---
library_name: sentence-transformers
tags: [sentence-transformers, multilingual, retrieval, hybridbatch, language-neutral]
base_model: {spec}
---

# {spec} + {lmap.method} (hybridbatch neutralize)

`{spec}`{trained} with a fixed language-neutralizing projection inserted before normalisation:
{applied}. Method: {PAPERS[lmap.method]}. It is an ordinary sentence-transformers model:
`SentenceTransformer("path/to/this/model")` applies the projection with no language id.

## How it was fitted

- source: {lmap.source} (texts and their languages only; passage embeddings)
- languages ({len(lmap.languages)}): {", ".join(lmap.languages)}
- rank r of the removed language subspace: {lmap.rank}
- {note} Languages outside the source are projected with the same map, untested.

| language | texts |
|---|---|
{counts}
"""
