"""Dynamically quantized int8 copies of a model for fast CPU inference (``--precision int8``).

PyTorch dynamic quantization (``torch.ao.quantization.quantize_dynamic``; Jacob et al., CVPR 2018 for
the int8 affine scheme): every ``nn.Linear`` gets int8 weights (per-tensor scale) and quantizes its
input activations per batch on the fly; layer norms, softmax, embeddings and pooling stay fp32. No
calibration data is needed. The copy is made once per model object and reused (until the model is
garbage collected); the fp32 model is left untouched. Measured on XQuAD-R (``docs/evaluation.md``,
``benchmarks/precision.py``): 1.45× faster encoding, but mAP deviations of 0.03–0.11 — not accurate
enough for this model yet.
"""

from __future__ import annotations

import copy
import warnings
import weakref
from typing import Any

from hybridbatch.errors import ModelError

_COPIES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def quantized(model: Any) -> Any:
    """An int8 dynamically quantized copy of ``model`` (a torch ``nn.Module``), cached per model."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"--precision int8 needs a PyTorch model, got {type(model).__name__}")
    cached = _COPIES.get(model)
    if cached is not None:
        return cached
    engines = torch.backends.quantized.supported_engines
    if not any(engine in engines for engine in ("x86", "fbgemm", "qnnpack")):
        raise ModelError("--precision int8: this PyTorch build has no quantized CPU engine")
    if next(model.parameters()).device.type != "cpu":
        raise ModelError("--precision int8 runs on CPU only (dynamic quantization); use fp32 on GPU")
    shared = {  # only the Linear layers are replaced: share every other tensor and the tokenizer
        id(tensor): tensor
        for module in model.modules()
        if not isinstance(module, torch.nn.Linear)
        for tensor in (*module.parameters(recurse=False), *module.buffers(recurse=False))
    }
    shared |= {id(tok): tok for module in model.modules() if (tok := getattr(module, "tokenizer", None))}
    source = copy.deepcopy(model, memo=shared).eval()
    with warnings.catch_warnings():  # torch points to torchao for new code; this API still works
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)
        result = torch.ao.quantization.quantize_dynamic(
            source, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
    _COPIES[model] = result
    return result
