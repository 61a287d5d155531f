"""ONNX Runtime encoding (``--precision onnx-fp32|onnx-int8``): the fast path for CPUs without bf16.

:func:`onnx_runner` returns a copy of a sentence-transformers model whose transformer is an ONNX
Runtime session over the exported file (:mod:`.onnx_export`); everything else — tokenization,
prompts, truncation, pooling, normalisation — is sentence-transformers' own, so ``runner.encode``
behaves as ``model.encode``. The copy shares the fp32 model's tensors and tokenizer and is made once
per (model object, precision), like the bf16 / int8 copies of :mod:`.quantize`. The session uses as
many threads as PyTorch (``torch.get_num_threads()``) and ONNX Runtime's full graph optimisation.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch

from hybridbatch.models.onnx_export import OUTPUT, input_names, onnx_file
from hybridbatch.models.quantize import check_cpu_module, copy_sharing

_RUNNERS: dict[str, weakref.WeakKeyDictionary[Any, Any]] = {
    "onnx-fp32": weakref.WeakKeyDictionary(),
    "onnx-int8": weakref.WeakKeyDictionary(),
}


class OrtTransformer(torch.nn.Module):
    """Stands in for the Hugging Face transformer of a sentence-transformers model: runs the ONNX file."""

    def __init__(self, session: Any, names: list[str], config: Any) -> None:
        super().__init__()
        self.session, self.names, self.config = session, names, config

    def forward(self, **features: Any) -> dict[str, torch.Tensor]:
        feeds = {name: features[name].detach().cpu().numpy().astype(np.int64) for name in self.names}
        (hidden,) = self.session.run([OUTPUT], feeds)
        return {OUTPUT: torch.from_numpy(hidden)}


def onnx_runner(model: Any, precision: str) -> Any:
    """The cached ONNX Runtime copy of ``model`` for ``precision`` (exported on first use)."""
    check_cpu_module(model, precision)
    cached = _RUNNERS[precision].get(model)
    if cached is None:
        cached = _RUNNERS[precision][model] = _build(model, precision)
    return cached


def session(path: Any, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session over ``path`` with ``threads`` intra-op threads (default: torch's)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _build(model: Any, precision: str) -> Any:
    path = onnx_file(model, precision)
    runner = copy_sharing(model, keep=lambda module: True).eval()
    transformer = runner[0]
    transformer.model = OrtTransformer(session(path), input_names(model), transformer.model.config)
    return runner
