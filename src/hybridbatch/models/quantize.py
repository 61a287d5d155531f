"""Reduced-precision copies of a model for fast CPU inference (``--precision bf16|int8``).

- ``bf16``: a bfloat16 copy of the weights (activations in bfloat16 too). On CPUs with native bfloat16
  matrix units (AMX / AVX512-BF16, e.g. Intel Sapphire Rapids) oneDNN runs it 2–2.5× faster than fp32
  with embeddings within cosine 0.9999; on CPUs without them it is correct but not faster.
- ``int8``: PyTorch dynamic quantization (``torch.ao.quantization.quantize_dynamic``; Jacob et al.,
  CVPR 2018 for the int8 affine scheme): ``nn.Linear`` layers get int8 weights and quantize their input
  activations per batch on the fly. The feed-forward *output* projections (``layer.N.output.dense``)
  stay fp32: their inputs (after GELU) carry the outlier activations that per-tensor int8 cannot
  represent (Dettmers et al., 2022, LLM.int8()); quantizing them too moved XQuAD-R mAP by up to 0.11.
  Layer norms, softmax, embeddings and pooling stay fp32. No calibration data is needed.

A copy is made once per (model object, precision) and reused until the model is garbage collected;
the fp32 model is left untouched. Measured on XQuAD-R: ``docs/evaluation.md``, ``benchmarks/precision.py``.
"""

from __future__ import annotations

import copy
import re
import warnings
import weakref
from typing import Any

from hybridbatch.errors import ModelError

_COPIES: dict[str, weakref.WeakKeyDictionary[Any, Any]] = {
    "int8": weakref.WeakKeyDictionary(),
    "bf16": weakref.WeakKeyDictionary(),
}
# What each reduced precision computes, in the embedding cache's key (a new scheme never reuses old vectors).
SCHEMES = {
    "int8": "int8:dynamic:ffn-output-fp32",
    "bf16": "bf16",
    "onnx-fp32": "onnx-fp32:v2",
    "onnx-int8": "onnx-int8:ort-dynamic:per-channel:ffn-output-fp32:v2",
}
# Linear layers kept in fp32 by the int8 path: BERT-style feed-forward output projections.
FP32_LINEARS = re.compile(r"(^|\.)layer\.\d+\.output\.dense$")


def reduced_precision(model: Any, precision: str) -> Any:
    """The cached ``bf16`` or ``int8`` copy of ``model`` (a torch ``nn.Module`` on CPU)."""
    check_cpu_module(model, precision)
    cached = _COPIES[precision].get(model)
    if cached is None:
        cached = bfloat16_copy(model) if precision == "bf16" else _quantize(model)
        _COPIES[precision][model] = cached
    return cached


def quantized(model: Any) -> Any:
    """An int8 dynamically quantized copy of ``model``, cached per model."""
    return reduced_precision(model, "int8")


def bfloat16_copy(model: Any) -> Any:
    """A bfloat16 copy of ``model`` (the tokenizer is shared, not copied)."""
    import torch

    return copy_sharing(model, keep=lambda module: False).to(torch.bfloat16).eval()


def int8_linears(model: Any) -> set[str]:
    """Names of the ``nn.Linear`` modules the int8 path quantizes (all but :data:`FP32_LINEARS`)."""
    import torch

    return {
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not FP32_LINEARS.search(name)
    }


def _quantize(model: Any) -> Any:
    import torch

    engines = torch.backends.quantized.supported_engines
    if not any(engine in engines for engine in ("x86", "fbgemm", "qnnpack")):
        raise ModelError("--precision int8: this PyTorch build has no quantized CPU engine")
    names = int8_linears(model)
    source = copy_sharing(model, keep=lambda module: not isinstance(module, torch.nn.Linear)).eval()
    with warnings.catch_warnings():  # torch points to torchao for new code; this API still works
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(source, names, dtype=torch.qint8, inplace=True)


def copy_sharing(model: Any, keep: Any) -> Any:
    """A deep copy of ``model`` sharing the tokenizer and the tensors of modules where ``keep(module)``."""
    shared = {
        id(tensor): tensor
        for module in model.modules()
        if keep(module)
        for tensor in (*module.parameters(recurse=False), *module.buffers(recurse=False))
    }
    shared |= {id(tok): tok for module in model.modules() if (tok := getattr(module, "tokenizer", None))}
    return copy.deepcopy(model, memo=shared)


def check_cpu_module(model: Any, precision: str) -> None:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"--precision {precision} needs a PyTorch model, got {type(model).__name__}")
    parameter = next(model.parameters(), None)
    if parameter is not None and parameter.device.type != "cpu":
        raise ModelError(f"--precision {precision} is a CPU path; use fp32 on GPU")
