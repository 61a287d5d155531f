"""Evaluation speed on XQuAD-R-sized embeddings: ours vs sentence-transformers and pytrec_eval.

Synthetic, XQuAD-R-shaped data: 11 languages x 1,190 parallel questions (13,090 queries), 13,014
candidate sentences (1,183 or 1,184 per language, several questions per sentence), dim 384. The
vectors have structure (a latent per sentence shared across languages, a per-language bias, noise),
so that ranks are neither trivial nor random and there is language bias, as with a real model.

Measured in one run, on the same L2-normalised float32 vectors (no encoding in any timing):

1. ours: Mono (11) + Cross (110 pairs) + Multi + rank distance on all 13,090 queries
   (:func:`hybridbatch.evaluation.score_collection`).
2. sentence-transformers ``InformationRetrievalEvaluator`` on the Multi setting:
   (a) all queries with its usual top-k configuration (mAP@100), compared with our AP@100;
   (b) full-ranking mAP (``map_at_k = pool size``), which is what we report; it keeps every hit of
   every query as Python objects, so it runs on a stratified sample of queries and its time is
   extrapolated linearly to all queries (marked "extrapolated").
3. pytrec_eval on the same score run: (a) all queries, run cut at 100 (``map`` then equals AP@100),
   (b) the full run on the same sample (full-ranking ``map``), extrapolated like 2b. Its time includes
   building the run from the score matrix (pytrec_eval cannot score).

Scores are the same float32 dot products everywhere (sentence-transformers gets a score function
computing them with the same matrix product), so mAP must agree to < 1e-6. Peak memory is the peak
resident-set growth over the phase, sampled every 5 ms. Usage::

    python benchmarks/eval_speed.py [--sample-per-lang 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytrec_eval
import torch
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

from hybridbatch.data.collection import Candidate, ParallelQACollection, Question
from hybridbatch.evaluation import CollectionEmbeddings, relevant_ranks, score_collection
from hybridbatch.evaluation.metrics import average_precision

LANGS = ["ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"]
NUM_IDS, NUM_CANDIDATES, DIM = 1190, 13014, 384
# per-language bias, per-language view of a sentence (shared by its questions and itself), noise;
# tuned so that the scores look like a real model's (Mono ~0.8, Cross ~0.6, Multi ~0.3)
LANG_BIAS, VIEW, NOISE = 0.75, 0.4, 2.1


# --- data ------------------------------------------------------------------------------------
def synthetic(
    seed: int, num_ids: int = NUM_IDS, num_candidates: int = NUM_CANDIDATES
) -> tuple[ParallelQACollection, CollectionEmbeddings]:
    """XQuAD-R-shaped collection and structured random embeddings (see module docstring)."""
    rng = np.random.default_rng(seed)
    per_lang = [num_candidates // len(LANGS) + (i < num_candidates % len(LANGS)) for i in range(len(LANGS))]
    shared = min(per_lang)  # sentences parallel across languages
    latent = rng.standard_normal((max(per_lang), DIM)).astype(np.float32)
    answer_of_id = rng.integers(0, shared, num_ids)  # several questions may share a sentence
    ids = [f"id{i:05d}" for i in range(num_ids)]

    def unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    questions, candidates, q_emb, c_emb = {}, {}, {}, {}
    for lang, size in zip(LANGS, per_lang, strict=True):
        bias = rng.standard_normal(DIM).astype(np.float32) * LANG_BIAS
        order = rng.permutation(size)  # the pool order differs per language
        position = np.empty(size, dtype=np.int64)
        position[order] = np.arange(size)
        candidates[lang] = [Candidate(lang, f"{lang} s{k}", int(k) // 5, "") for k in range(size)]
        view = latent + VIEW * rng.standard_normal(latent.shape).astype(np.float32)  # this language's view
        c_emb[lang] = unit(view[order] + bias + NOISE * rng.standard_normal((size, DIM)).astype(np.float32))
        questions[lang] = {
            qid: Question(qid, lang, f"{lang} {qid}", int(position[answer_of_id[i]]))
            for i, qid in enumerate(ids)
        }
        noise = NOISE * rng.standard_normal((num_ids, DIM)).astype(np.float32)
        q_emb[lang] = unit(view[answer_of_id] + bias + noise)
    collection = ParallelQACollection("xquad-r-synthetic", questions, candidates)
    return collection, CollectionEmbeddings(q_emb, c_emb)


def flat(collection: ParallelQACollection, emb: CollectionEmbeddings):
    """Queries, pool and Multi relevance as flat arrays/dicts (ids: ``lang:qid``, ``lang:index``)."""
    offsets, start = {}, 0
    for lang in LANGS:
        offsets[lang] = start
        start += len(collection.candidates[lang])
    queries = np.concatenate([emb.queries[lang] for lang in LANGS])
    pool = np.concatenate([emb.candidates[lang] for lang in LANGS])
    query_ids = [f"{lang}:{qid}" for lang in LANGS for qid in collection.ids_in(lang)]
    corpus_ids = [f"{lang}:{k:05d}" for lang in LANGS for k in range(len(collection.candidates[lang]))]
    relevant = np.array(
        [
            [offsets[y] + collection.question(qid, y).answer for y in LANGS]
            for lang in LANGS
            for qid in collection.ids_in(lang)
        ]
    )
    return queries, pool, query_ids, corpus_ids, relevant


# --- measurement -----------------------------------------------------------------------------
@contextmanager
def measure(results: dict, name: str):
    """Wall time and peak resident-set growth (sampled every 5 ms) of the block."""

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    base, peak, stop = rss(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        thread.join()
        results[name] = {"seconds": seconds, "peak_mib": max(0, max(peak[0], rss()) - base) / 2**20}


class StubModel:
    """Hands the stored vectors to the sentence-transformers evaluator (``text`` = the id)."""

    similarity_fn_name = "dot"

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors
        self.model_card_data = type("Card", (), {"set_evaluation_metrics": lambda *a, **k: None})()

    def _encode(self, texts, **kwargs) -> torch.Tensor:
        return torch.from_numpy(np.stack([self.vectors[t] for t in texts]))

    encode_query = encode_document = encode = _encode

    @staticmethod
    def similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(a.numpy() @ b.numpy().T)  # the same product as ours


def st_multi(queries, pool, query_ids, corpus_ids, relevant, rows, map_k: int) -> float:
    """sentence-transformers' InformationRetrievalEvaluator on the Multi setting (queries ``rows``)."""
    vectors = {cid: pool[j] for j, cid in enumerate(corpus_ids)}
    vectors.update({query_ids[i]: queries[i] for i in rows})
    evaluator = InformationRetrievalEvaluator(
        queries={query_ids[i]: query_ids[i] for i in rows},
        corpus={cid: cid for cid in corpus_ids},
        relevant_docs={query_ids[i]: {corpus_ids[j] for j in relevant[i]} for i in rows},
        map_at_k=[map_k],
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1],
        precision_recall_at_k=[10],
        write_csv=False,
        batch_size=4096,
    )
    metrics = evaluator(StubModel(vectors))
    return metrics[f"dot_map@{map_k}"]


def trec_multi(queries, pool, query_ids, corpus_ids, relevant, rows, top: int | None) -> float:
    """pytrec_eval ``map`` on the score run of queries ``rows`` (cut at ``top`` when given)."""
    scores = queries[rows] @ pool.T
    if top is not None:
        keep = np.argpartition(-scores, top - 1, axis=1)[:, :top]
    run, qrels = {}, {}
    for n, i in enumerate(rows):
        columns = keep[n] if top is not None else range(len(corpus_ids))
        row = scores[n]
        run[query_ids[i]] = {corpus_ids[j]: float(row[j]) for j in columns}
        qrels[query_ids[i]] = {corpus_ids[j]: 1 for j in relevant[i]}
    result = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)
    return float(np.mean([result[query_ids[i]]["map"] for i in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-per-lang", type=int, default=30, help="queries per language for 2b/3b")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ids", type=int, default=NUM_IDS, help="questions per language (smoke runs)")
    parser.add_argument("--candidates", type=int, default=NUM_CANDIDATES, help="pool size (smoke runs)")
    args = parser.parse_args()

    collection, emb = synthetic(args.seed, args.ids, args.candidates)
    queries, pool, query_ids, corpus_ids, relevant = flat(collection, emb)
    num_queries = len(queries)
    per_lang = args.ids
    sample = np.concatenate(
        [np.arange(k * per_lang, k * per_lang + args.sample_per_lang) for k in range(len(LANGS))]
    )
    scale = num_queries / len(sample)
    print(
        f"{num_queries:,} queries x {len(pool):,} candidates, dim {DIM}, {len(LANGS)} languages; "
        f"torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}"
    )
    res: dict[str, dict] = {}

    with measure(res, "ours"):
        report = score_collection(collection, emb)
    s = report.summary
    print(
        f"ours: Mono {s.mono_map:.4f}  Cross {s.cross_map:.4f}  Multi {s.multi_map:.4f}  "
        f"RD {s.rank_distance:,.1f}  ({len(report.matrix)} X->Y cells)"
    )
    ranks = relevant_ranks(queries, pool, relevant).overall  # our Multi ranks, for per-query comparisons
    ours_ap100 = float(average_precision(ranks, 100).mean())
    ours_map_sample = float(average_precision(ranks[sample]).mean())
    assert abs(float(average_precision(ranks).mean()) - s.multi_map) < 1e-9

    rows = list(range(num_queries))
    with measure(res, "st_top100"):
        st_ap100 = st_multi(queries, pool, query_ids, corpus_ids, relevant, rows, 100)
    with measure(res, "st_full_sample"):
        st_map_sample = st_multi(queries, pool, query_ids, corpus_ids, relevant, list(sample), len(pool))
    with measure(res, "trec_top100"):
        trec_ap100 = trec_multi(queries, pool, query_ids, corpus_ids, relevant, rows, 100)
    with measure(res, "trec_full_sample"):
        trec_map_sample = trec_multi(queries, pool, query_ids, corpus_ids, relevant, list(sample), None)

    ours_t = res["ours"]["seconds"]
    table = [
        ("ours: Mono+Cross+Multi+RD, all queries", "ours", 1.0, "Multi mAP", s.multi_map, s.multi_map),
        ("ST IR evaluator, Multi, mAP@100, all queries", "st_top100", 1.0, "AP@100", st_ap100, ours_ap100),
        (
            f"ST IR evaluator, Multi, full mAP, {len(sample)} q",
            "st_full_sample",
            scale,
            "mAP (sample)",
            st_map_sample,
            ours_map_sample,
        ),
        (
            "pytrec_eval, Multi, run cut at 100, all queries",
            "trec_top100",
            1.0,
            "AP@100",
            trec_ap100,
            ours_ap100,
        ),
        (
            f"pytrec_eval, Multi, full run, {len(sample)} q",
            "trec_full_sample",
            scale,
            "mAP (sample)",
            trec_map_sample,
            ours_map_sample,
        ),
    ]
    print()
    print(
        f"{'what':50s} {'time s':>9s} {'all q s':>9s} {'ratio':>7s} {'peak MiB':>9s}  "
        f"{'metric':12s} {'theirs':>10s} {'ours':>10s} {'|delta|':>8s}"
    )
    for label, key, factor, metric, theirs, ours in table:
        t = res[key]["seconds"]
        full = t * factor
        mark = "*" if factor != 1.0 else " "
        print(
            f"{label:50s} {t:9.2f} {full:8.1f}{mark} {full / ours_t:6.1f}x {res[key]['peak_mib']:9.0f}  "
            f"{metric:12s} {theirs:10.6f} {ours:10.6f} {abs(theirs - ours):8.1e}"
        )
    print(
        f"* extrapolated linearly from the sample to all {num_queries:,} queries; ratio = their time / ours "
        "(ours covers Mono+Cross+Multi+RD, theirs Multi only)"
    )


if __name__ == "__main__":
    main()
