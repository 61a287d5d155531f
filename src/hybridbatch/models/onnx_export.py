"""ONNX files of a model's transformer (``--precision onnx-fp32|onnx-int8``), exported once and cached.

- **fp32**: ``torch.onnx.export`` of the Hugging Face transformer (the TorchScript exporter,
  ``dynamo=False``: it needs no extra package and handles the BERT/XLM-R family exactly), inputs as the
  tokenizer makes them, output ``last_hidden_state``; batch and sequence axes dynamic. Pooling and
  normalisation stay in sentence-transformers (:mod:`.onnx_backend`).
- **int8**: ONNX Runtime's dynamic quantization (``onnxruntime.quantization.quantize_dynamic``) of
  the fp32 file, the scheme of ``--precision int8`` (:mod:`.quantize`) with per-channel weight scales
  (cosine to fp32 0.9988 mean instead of 0.9983 per-tensor on XQuAD-R texts): the weight MatMuls
  (linear layers) get int8 weights and per-batch int8 activations, except the feed-forward *output*
  projections (``layer.N/output/dense``), whose post-GELU inputs carry outlier activations; attention
  score products, layer norms, softmax and embeddings stay fp32.

Files live beside the model: ``<model dir>/onnx/hybridbatch-<fingerprint>/<fp32|int8>/model.onnx``
(or ``<cache>/onnx/<fingerprint>/…`` when the model has no writable directory), keyed by the
model's weights fingerprint (:func:`~.embedding_cache.model_fingerprint`) and :data:`EXPORT_VERSION`;
each is written into a temporary sibling and renamed (``io.atomic_directory``), under a lock, so
concurrent processes export once and a crash leaves no half-written file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from hybridbatch.errors import ModelError
from hybridbatch.io import atomic_directory, sibling_lock
from hybridbatch.paths import cache_home

#: Bump when the exported graph or the quantization scheme changes (old files are then ignored).
EXPORT_VERSION = 2
OPSET = 17
OUTPUT = "last_hidden_state"
#: MatMul nodes left in fp32 by the int8 file: BERT-style feed-forward output projections.
FP32_MATMULS = re.compile(r"/layer\.\d+/output/dense/MatMul$")
META = "export.json"


def onnx_file(model: Any, precision: str, fingerprint: str | None = None) -> Path:
    """The ONNX file of ``model`` at ``precision`` (``onnx-fp32`` / ``onnx-int8``), made on first use."""
    variant = precision.removeprefix("onnx-")
    if variant not in ("fp32", "int8"):
        raise ValueError(f"not an ONNX precision: {precision!r}")
    if fingerprint is None:
        from hybridbatch.models.embedding_cache import model_fingerprint

        fingerprint = model_fingerprint(model)
    folder = export_root(model, fingerprint) / variant
    if not _ready(folder, fingerprint):
        with sibling_lock(folder):
            if not _ready(folder, fingerprint):
                source = None if variant == "fp32" else onnx_file(model, "onnx-fp32", fingerprint)
                _write(folder, model, fingerprint, source)
    return folder / "model.onnx"


def export_root(model: Any, fingerprint: str) -> Path:
    """``<model dir>/onnx/hybridbatch-<fp>`` when that directory is writable, else ``<cache>/onnx/<fp>``."""
    from hybridbatch.models.encoding import model_directory

    directory = model_directory(model)
    if directory is not None and os.access(directory, os.W_OK):
        return directory / "onnx" / f"hybridbatch-{fingerprint[:16]}"
    return cache_home() / "onnx" / fingerprint[:16]


def input_names(model: Any) -> list[str]:
    """The tokenizer's outputs the transformer takes (e.g. ``input_ids``, ``attention_mask``)."""
    import inspect

    transformer = _transformer(model)
    accepted = inspect.signature(transformer.forward).parameters
    names = [n for n in getattr(model.tokenizer, "model_input_names", []) if n in accepted]
    if "input_ids" not in names or "attention_mask" not in names:
        raise ModelError(
            f"--precision onnx-*: cannot export a model taking {names} (need input_ids and attention_mask)"
        )
    return names


def read_meta(folder: Path) -> dict[str, Any]:
    """The ``export.json`` of an exported folder (``{}`` when missing or unreadable)."""
    try:
        return json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _ready(folder: Path, fingerprint: str) -> bool:
    meta = read_meta(folder)
    ok = meta.get("version") == EXPORT_VERSION and meta.get("fingerprint") == fingerprint
    return ok and (folder / "model.onnx").is_file()


def _write(folder: Path, model: Any, fingerprint: str, fp32_source: Path | None) -> None:
    names = input_names(model)
    meta: dict[str, Any] = {"version": EXPORT_VERSION, "fingerprint": fingerprint, "inputs": names}
    with atomic_directory(folder) as tmp:
        tmp.chmod(0o755)
        if fp32_source is None:
            _export(model, names, tmp / "model.onnx")
            meta["scheme"] = "fp32"
        else:
            meta["fp32_matmuls"] = _quantize(fp32_source, tmp / "model.onnx")
            meta["scheme"] = SCHEME_INT8
        meta |= {"output": OUTPUT, "opset": OPSET, **_versions()}
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


SCHEME_INT8 = "int8:ort-dynamic:per-channel:ffn-output-fp32"


def _transformer(model: Any) -> Any:
    try:
        return model[0].auto_model
    except (AttributeError, IndexError, KeyError, TypeError):
        raise ModelError(
            f"--precision onnx-*: needs a sentence-transformers model on a Hugging Face transformer, "
            f"got {type(model).__name__}"
        ) from None


def _export(model: Any, names: list[str], target: Path) -> None:
    transformer = _transformer(model)
    sample = model.tokenizer(
        ["query: a b", "passage: a longer text, padded less"], padding=True, return_tensors="pt"
    )
    wrapper = _LastHidden(transformer, names)
    was_training = transformer.training
    transformer.eval()
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, OUTPUT]}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and exporter deprecation chatter
            torch.onnx.export(
                wrapper,
                tuple(sample[n] for n in names),
                str(target),
                dynamo=False,
                input_names=names,
                output_names=[OUTPUT],
                dynamic_axes=axes,
                opset_version=OPSET,
            )
    finally:
        transformer.train(was_training)


def _quantize(source: Path, target: Path) -> list[str]:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    kept = [n.name for n in graph.node if n.op_type == "MatMul" and FP32_MATMULS.search(n.name)]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=kept,
            per_channel=True,
        )
    finally:
        root.setLevel(level)
    return kept


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    return {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


class _LastHidden(torch.nn.Module):
    """The transformer as a function of positional tensors returning ``last_hidden_state``."""

    def __init__(self, transformer: Any, names: list[str]) -> None:
        super().__init__()
        self.transformer, self.names = transformer, names

    def forward(self, *inputs: Any) -> Any:
        return self.transformer(**dict(zip(self.names, inputs, strict=True))).last_hidden_state
