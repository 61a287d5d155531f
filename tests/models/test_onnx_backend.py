"""``--precision onnx-fp32|onnx-int8``: ONNX Runtime encodes like PyTorch fp32; the export is cached.

Tolerances: ``onnx-fp32`` runs the same fp32 graph with other kernels (MLAS instead of MKL/oneDNN,
fused layer norm / GELU), so only the summation order differs: a few fp32 ulps per op, ~1e-7 on
these unit vectors; ``atol=1e-5`` leaves two orders of margin and still fails on any wrong op, mask
or pooling (those move components by >1e-2). ``onnx-int8`` rounds weights and activations to 8 bits:
the bound is the one of PyTorch's int8 path (cosine > 0.99), and it must differ from fp32.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from hybridbatch.models import load_model
from hybridbatch.models import onnx_export as export
from hybridbatch.models.encoding import encode
from hybridbatch.models.onnx_backend import onnx_runner

# different lengths in one batch (padding), scripts, a duplicate and a text past the 128-token limit
TEXTS = [
    "Where is the tower?",
    "Der Turm ist in Paris.",
    "東京タワーはどこですか",
    "a b c",
    "a b c",
    "x " * 400,
]


@pytest.fixture
def model_dir(tiny_model, tmp_path):
    """A private copy of the tiny model (its exports land beside it, in this test's folder)."""
    tiny_model.save(str(tmp_path / "tiny"))
    return tmp_path / "tiny"


@pytest.mark.parametrize("batch_size", [2, 64])
def test_onnx_fp32_matches_torch_fp32(tiny_model, batch_size) -> None:
    for kind in ("query", "passage"):
        fp32 = encode(tiny_model, TEXTS, kind, batch_size)
        ours = encode(tiny_model, TEXTS, kind, batch_size, precision="onnx-fp32")
        assert ours.dtype == np.float32 and ours.shape == fp32.shape
        np.testing.assert_allclose(ours, fp32, atol=1e-5)


def test_onnx_int8_is_close_and_keeps_the_feed_forward_outputs_fp32(tiny_model) -> None:
    fp32 = encode(tiny_model, TEXTS, "query")
    int8 = encode(tiny_model, TEXTS, "query", precision="onnx-int8")
    assert (fp32 * int8).sum(axis=1).min() > 0.99 and not np.allclose(fp32, int8, atol=1e-6)
    path = export.onnx_file(tiny_model, "onnx-int8")
    meta = export.read_meta(path.parent)
    nodes = {n.name: n.op_type for n in onnx.load(str(path)).graph.node}
    layers = tiny_model[0].auto_model.config.num_hidden_layers
    assert len(meta["fp32_matmuls"]) == layers and meta["scheme"] == export.SCHEME_INT8
    assert all(nodes[name] == "MatMul" for name in meta["fp32_matmuls"])  # left in fp32
    assert sum(op == "MatMulInteger" for op in nodes.values()) == 5 * layers  # q, k, v, attn out, FFN in


def test_the_fp32_model_is_left_alone(tiny_model) -> None:
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    tiny_model.train()
    try:
        runner = onnx_runner(tiny_model, "onnx-fp32")
        assert tiny_model.training and runner is onnx_runner(tiny_model, "onnx-fp32")
    finally:
        tiny_model.eval()
    assert all(torch.equal(before[k], v) for k, v in tiny_model.state_dict().items())
    assert type(tiny_model[0].auto_model).__name__ != "OrtTransformer"


def test_the_export_is_cached_beside_the_model_and_reused(model_dir, monkeypatch) -> None:
    first = encode(load_model(str(model_dir)), TEXTS, "query", precision="onnx-int8")
    root = model_dir / "onnx"
    folders = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.name.startswith("."))
    fingerprint = json.loads((model_dir / "onnx" / folders[0] / "fp32" / "export.json").read_text())[
        "fingerprint"
    ]
    assert folders[0] == f"hybridbatch-{fingerprint[:16]}"
    files = {f"{v}/{name}" for v in ("fp32", "int8") for name in ("model.onnx", export.META)}
    assert {f.split("/", 1)[1] for f in folders[1:]} == {"fp32", "int8", *files}
    monkeypatch.setattr(export, "_export", _must_not_run)
    monkeypatch.setattr(export, "_quantize", _must_not_run)
    again = encode(load_model(str(model_dir)), TEXTS, "query", precision="onnx-int8")  # a new process's view
    np.testing.assert_array_equal(again, first)


def test_changed_weights_get_their_own_export(model_dir) -> None:
    model = load_model(str(model_dir))
    first = export.onnx_file(model, "onnx-fp32")
    with torch.no_grad():
        next(model[0].auto_model.encoder.parameters()).add_(0.5)
    second = export.onnx_file(model, "onnx-fp32")
    assert first != second and first.is_file() and second.is_file()
    assert export.read_meta(first.parent)["fingerprint"] != export.read_meta(second.parent)["fingerprint"]


def test_a_stale_or_broken_export_is_redone(model_dir) -> None:
    model = load_model(str(model_dir))
    path = export.onnx_file(model, "onnx-fp32")
    meta = export.read_meta(path.parent)
    (path.parent / export.META).write_text(json.dumps({**meta, "version": -1}))
    assert export.onnx_file(model, "onnx-fp32") == path and export.read_meta(path.parent) == meta
    leftovers = [p.name for p in path.parent.parent.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def _must_not_run(*args, **kwargs):
    raise AssertionError("the cached export should have been reused")
