"""What this CPU offers reduced-precision inference, and what ``--precision auto`` picks.

``auto`` is ``bf16`` on a CPU with native bfloat16 arithmetic — AMX (``amx_bf16``, Intel Sapphire Rapids
and later) or AVX512-BF16 (``avx512_bf16``: Intel Cooper Lake, AMD Zen 4 and later) — where the bf16
copy runs 2.2–2.6× faster than fp32 with every XQuAD-R score within ±0.004 (``benchmarks/precision.md``);
elsewhere ``fp32``: bf16 there is emulated (0.34× fp32 with PyTorch held to AVX2) and the fast path
is the explicit ``onnx-fp32``. The flags come from ``/proc/cpuinfo`` (Linux), elsewhere from
PyTorch's own CPU feature probe.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")
#: CPU flags meaning native bfloat16 matrix arithmetic, in order of preference.
BF16_FLAGS: tuple[str, ...] = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True)
class CpuCapability:
    """The CPU's native-bf16 flags (``bf16_flags``), its name and PyTorch's kernel level."""

    bf16_flags: tuple[str, ...]
    model_name: str = ""
    torch_capability: str = field(default="unknown")
    source: str = "cpuinfo"

    @property
    def native_bf16(self) -> bool:
        return bool(self.bf16_flags)

    def auto_precision(self) -> str:
        """``bf16`` with native bf16 arithmetic, else ``fp32`` (see the module docstring)."""
        return "bf16" if self.native_bf16 else "fp32"

    def describe(self) -> str:
        """One line, e.g. ``native bf16 (avx512_bf16); torch kernels AVX512``."""
        bf16 = f"native bf16 ({', '.join(self.bf16_flags)})" if self.native_bf16 else "no native bf16"
        name = f"{self.model_name}: " if self.model_name else ""
        return f"{name}{bf16}; torch kernels {self.torch_capability}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "bf16_flags": list(self.bf16_flags),
            "native_bf16": self.native_bf16,
            "torch_capability": self.torch_capability,
            "source": self.source,
        }


def cpuinfo_fields(cpuinfo: Path) -> tuple[set[str], str] | None:
    """``(flags, model name)`` of the first processor in ``cpuinfo``; ``None`` when unreadable."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    name = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags" and not flags:
            flags = set(value.split())
        elif key == "model name" and not name:
            name = value.strip()
    return (flags, name) if flags else None


def cpu_record() -> dict[str, Any]:
    """This CPU as reports, ``index.json`` and training metadata record it (``CpuCapability.as_dict``)."""
    return detect().as_dict()


def detect(cpuinfo: Path | None = None, with_torch: bool = True) -> CpuCapability:
    """This CPU's capability: flags from ``cpuinfo`` (default :data:`CPUINFO`), else PyTorch's probe;
    ``with_torch``: also PyTorch's kernel level (imports torch)."""
    fields = cpuinfo_fields(cpuinfo or CPUINFO)
    torch_level = _torch_capability() if with_torch else "unknown"
    if fields is not None:
        flags, name = fields
        return CpuCapability(tuple(f for f in BF16_FLAGS if f in flags), name, torch_level)
    return CpuCapability(_torch_bf16_flags(), platform.processor(), torch_level, source="torch")


def _torch_capability() -> str:
    try:
        import torch

        return str(torch.backends.cpu.get_cpu_capability())
    except (ImportError, AttributeError, RuntimeError):
        return "unknown"


def _torch_bf16_flags() -> tuple[str, ...]:
    try:
        import torch

        probes = {
            "amx_bf16": torch.cpu._is_amx_tile_supported,
            "avx512_bf16": torch.cpu._is_avx512_bf16_supported,
        }
        return tuple(flag for flag in BF16_FLAGS if probes[flag]())
    except (ImportError, AttributeError, RuntimeError):
        return ()
