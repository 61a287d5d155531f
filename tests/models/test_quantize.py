"""Reduced precision (int8 dynamic quantization, bf16): close to fp32, fp32 model untouched, one copy each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hybridbatch.errors import ConfigError, ModelError
from hybridbatch.models.encoding import encode
from hybridbatch.models.quantize import FP32_LINEARS, int8_linears, quantized, reduced_precision

TEXTS = ["Where is the tower?", "Der Turm ist in Paris.", "東京タワーはどこですか", "a b c"]


def test_int8_is_close_to_fp32_and_leaves_the_model_alone(tiny_model):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    fp32 = encode(tiny_model, TEXTS, "query")
    int8 = encode(tiny_model, TEXTS, "query", precision="int8")
    assert int8.shape == fp32.shape and int8.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosine = (fp32 * int8).sum(axis=1)
    assert cosine.min() > 0.99 and not np.array_equal(fp32, int8)  # quantized, but nearly the same
    assert all(torch.equal(before[k], v) for k, v in tiny_model.state_dict().items())
    np.testing.assert_array_equal(encode(tiny_model, TEXTS, "query"), fp32)
    copy = quantized(tiny_model)
    assert quantized(tiny_model) is copy
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in copy.modules())
    assert not any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in tiny_model.modules())


def test_int8_keeps_the_feed_forward_output_projections_in_fp32(tiny_model):
    linears = {n for n, m in tiny_model.named_modules() if isinstance(m, torch.nn.Linear)}
    kept = {n for n in linears if FP32_LINEARS.search(n)}
    assert kept and all(n.endswith(".output.dense") and ".attention." not in n for n in kept)
    assert int8_linears(tiny_model) == linears - kept
    copy = dict(quantized(tiny_model).named_modules())
    dynamic = torch.ao.nn.quantized.dynamic.Linear
    assert all(type(copy[n]) is torch.nn.Linear for n in kept)
    assert all(isinstance(copy[n], dynamic) for n in linears - kept)


def test_bf16_is_close_to_fp32_and_leaves_the_model_alone(tiny_model):
    fp32 = encode(tiny_model, TEXTS, "query")
    bf16 = encode(tiny_model, TEXTS, "query", precision="bf16")
    assert bf16.dtype == np.float32 and not np.array_equal(fp32, bf16)
    assert (fp32 * bf16).sum(axis=1).min() > 0.999
    assert next(tiny_model.parameters()).dtype == torch.float32
    copy = reduced_precision(tiny_model, "bf16")
    assert copy is reduced_precision(tiny_model, "bf16") and copy is not quantized(tiny_model)
    assert next(copy.parameters()).dtype == torch.bfloat16


def test_errors(tiny_model):
    with pytest.raises(ModelError, match="PyTorch model"):
        quantized(object())
    with pytest.raises(ModelError, match="--precision bf16 needs a PyTorch model"):
        reduced_precision(object(), "bf16")
    with pytest.raises(ConfigError, match=r"^precision: unknown"):
        encode(tiny_model, TEXTS, "query", precision="fp16")  # type: ignore[arg-type]
