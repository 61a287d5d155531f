"""Throughput of ``data translate --engine apertium``: sentences per second by pair and batch size.

Translates ``--sentences`` English texts of MLQA-R, spread evenly over what ``data translate`` sends
(questions and paragraph sentences), with :class:`ApertiumEngine` — no cache — and reports,
per pair and batch size, wall-clock and CPU sentences per second (CPU: the Apertium processes' user +
system time, which does not depend on how busy the machine is). Writes ``translate_speed.json``.

    .venv/bin/python benchmarks/translate_speed.py [--sentences 2000] [--pairs es,ca,gl]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

from hybridbatch.data import load_collection
from hybridbatch.data.translation.engines import ApertiumEngine
from hybridbatch.data.translation.languages import LANGUAGES
from hybridbatch.data.translation.translated import source_texts


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(engine: ApertiumEngine, texts: list[str], target: str, batch_size: int) -> dict[str, float]:
    """Translate ``texts`` into ``target`` in batches; wall and CPU seconds and sentences per second."""
    wall, cpu = time.perf_counter(), _children_cpu()
    for first in range(0, len(texts), batch_size):
        engine.translate(texts[first : first + batch_size], LANGUAGES["en"], LANGUAGES[target])
    wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    n = len(texts)
    return {
        "sentences": n,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "per_s_wall": round(n / wall, 1),
        "per_s_cpu": round(n / cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--pairs", default="es,ca,gl")
    parser.add_argument("--batch-sizes", default="64,500,2000")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("translate_speed.json"))
    args = parser.parse_args()
    every = source_texts(load_collection("mlqa-r", ["en"]), "en")
    texts = every[:: max(1, len(every) // args.sentences)][: args.sentences]  # questions and sentences
    engine = ApertiumEngine()
    rows = []
    for target in args.pairs.split(","):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            row = {
                "pair": f"en-{target}",
                "route": "|".join(engine.route(LANGUAGES["en"], LANGUAGES[target])),
            }
            rows.append({**row, "batch_size": batch_size, **measure(engine, texts, target, batch_size)})
            print(json.dumps(rows[-1]))
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
    }
    result = {"engine": engine.version(), "machine": machine, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
