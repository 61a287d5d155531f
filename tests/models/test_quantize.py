"""int8 dynamic quantization: close to fp32, the fp32 model untouched, one copy per model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hybridbatch.errors import ConfigError, ModelError
from hybridbatch.models.encoding import encode
from hybridbatch.models.quantize import quantized

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


def test_errors(tiny_model):
    with pytest.raises(ModelError, match="PyTorch model"):
        quantized(object())
    with pytest.raises(ConfigError, match="--precision"):
        encode(tiny_model, TEXTS, "query", precision="fp16")  # type: ignore[arg-type]
