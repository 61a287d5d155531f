"""What verifying an index on load costs (``search`` / ``serve``; ``--no-verify`` skips it).

Builds a synthetic flat index without a model: ``--docs`` documents (default 100,000, e5-small's
dim 384: random unit vectors; texts of ~100 characters, as a sentence corpus), written by
:func:`hybridbatch.search.storage.write_index`, which records each file's size and SHA-256. Then, with
the files in the page cache (a warm-up load first), it times ``--repeats`` loads each way, alternating:

- ``verify``: :func:`read_index` as ``search`` / ``serve`` do by default (sizes + SHA-256 of every file,
  every document record checked, faiss read);
- ``no-verify``: the same with ``verify=False`` (sizes and records only);
- ``sha256``: the checksums alone (:func:`hybridbatch.search.storage.digest` over the index files),
  reported as seconds per GB too.

The difference verify - no-verify is the cost of the flag. A cold cache adds the disk read of every
byte, which the faiss load would pay anyway. Writes ``benchmarks/index_verify.json``. Usage::

    python benchmarks/index_verify.py [--docs 100000] [--dim 384] [--repeats 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from hybridbatch.search.corpus import Document
from hybridbatch.search.storage import IndexInfo, digest, read_index, write_index

OUT = Path(__file__).with_name("index_verify.json")


def build(directory: Path, docs: int, dim: int, seed: int = 0) -> Path:
    """A flat index of ``docs`` random unit vectors and ~100-character texts in ``directory``."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((docs, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    words = ["tower", "Paris", "river", "book", "sold", "cats", "sleep", "metres", "wrote", "city"]
    texts = [" ".join(rng.choice(words, 16)) for _ in range(min(docs, 1000))]
    documents = [Document(f"d{i}", texts[i % len(texts)], "en") for i in range(docs)]
    info = IndexInfo(
        model="builtin:multilingual-e5-small",
        dim=dim,
        count=docs,
        prompts={},
        languages={"en": docs},
        created="2026-01-01T00:00:00+00:00",
    )
    write_index(directory, flat, documents, info)
    return directory


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(directory: Path, repeats: int) -> dict[str, list[float]]:
    """Seconds per load with and without verification, and of the checksums alone (alternating)."""
    files = [p for p in directory.iterdir() if p.name in ("index.faiss", "documents.jsonl")]
    read_index(directory, verify=True)  # warm-up: files in the page cache
    times: dict[str, list[float]] = {"verify": [], "no-verify": [], "sha256": []}
    for _ in range(repeats):
        times["verify"].append(timed(lambda: read_index(directory, verify=True)))
        times["no-verify"].append(timed(lambda: read_index(directory, verify=False)))
        times["sha256"].append(timed(lambda: [digest(f) for f in files]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build the index here and keep it.")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="index-verify-"))
    try:
        directory = build(root / "index", args.docs, args.dim)
        size = sum(
            p.stat().st_size for p in directory.iterdir() if p.name in ("index.faiss", "documents.jsonl")
        )
        times = measure(directory, args.repeats)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    median = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "docs": args.docs,
        "dim": args.dim,
        "bytes": size,
        "repeats": args.repeats,
        "median_seconds": {k: round(v, 4) for k, v in median.items()},
        "verify_cost_seconds": round(median["verify"] - median["no-verify"], 4),
        "sha256_seconds_per_gb": round(median["sha256"] / (size / 1e9), 3),
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
