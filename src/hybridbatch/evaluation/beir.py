"""Dense retrieval evaluation on BEIR-layout datasets (MIRACL's layout): nDCG@k, Recall@k, MRR@k.

Keys follow the package's one metric namespace (:mod:`.metrics`): ``ndcg10``, ``r100``, ``mrr10``;
a ``report.json`` of older versions (``ndcg@10``, ``recall@100``, ``mrr@10``) reads as those names.

The paper evaluates zero-shot on MIRACL's dev sets (15 languages) with nDCG@10 and Recall@100
(arXiv 2408.10536, Table 3). Each query is encoded as a query and searched exactly (faiss
``IndexFlatIP``) over the corpus encoded as passages, by the one encoder
(:mod:`hybridbatch.models.encoding`: prompts, token-length batching, precision, embedding cache);
the run is scored with ``pytrec_eval`` (trec_eval's ``ndcg_cut``, ``recall`` and ``recip_rank`` on
the top-k run).

``dataset_dir`` is one BEIR directory, or a directory of them (e.g. one per MIRACL language): then
each is a *query set* with its own results, and ``mean`` macro-averages them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytrec_eval
from pydantic import BaseModel, model_validator

from hybridbatch.data.beir import BeirDataset, is_beir_dir, load_beir
from hybridbatch.errors import ConfigError, DataError
from hybridbatch.evaluation.metrics import legacy_name, metric_name, metric_title
from hybridbatch.io import atomic_write_text
from hybridbatch.models.capability import cpu_record
from hybridbatch.models.embedding_cache import encode_cached, model_cache
from hybridbatch.models.encoding import Precision, check_precision, resolve_model


def renamed_legacy_keys(value: Any) -> Any:
    """``value`` (JSON content) with the metric keys of older reports renamed (:func:`legacy_name`)."""
    if isinstance(value, dict):
        return {legacy_name(k): renamed_legacy_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed_legacy_keys(v) for v in value]
    return value


class LegacyKeys(BaseModel):
    """A report model that reads the metric keys of older ``report.json`` files."""

    @model_validator(mode="before")
    @classmethod
    def _rename(cls, data: Any) -> Any:
        return renamed_legacy_keys(data)


class QuerySetResult(LegacyKeys):
    """Scores of one BEIR dataset (one query set)."""

    name: str
    split: str
    num_queries: int
    num_documents: int
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    dropped: dict[str, int]
    seconds: float


class BeirReport(LegacyKeys):
    """Results of :func:`evaluate_beir`: per query set, and their macro-average."""

    model: str | None
    data: str
    split: str
    k_values: list[int]
    sets: dict[str, QuerySetResult]
    mean: dict[str, float]
    created: str
    precision: str = "fp32"
    cpu: dict[str, Any] | None = None  # the CPU encoded on (models.capability)


def evaluate_beir(
    model: Any,
    dataset_dir: str | Path,
    split: str = "dev",
    k_values: Sequence[int] = (10, 100),
    batch_size: int = 64,
    show_progress: bool = False,
    precision: Precision = "fp32",
    cache_dir: Path | None = None,
) -> BeirReport:
    """Evaluate ``model`` (a spec or a loaded model) by dense retrieval on ``dataset_dir``.

    Returns nDCG@k, Recall@k and MRR@k for every k in ``k_values`` per query set, and the mean.
    ``precision``: ``fp32``, ``bf16`` or ``int8``; ``cache_dir``: embedding cache (``None``: no cache).
    """
    precision = check_precision(precision)
    k_values = sorted({int(k) for k in k_values})
    if not k_values or k_values[0] < 1:
        raise ConfigError(f"k values must be positive integers, got {k_values}")
    datasets = [load_beir(path, split) for path in query_set_dirs(dataset_dir)]  # fail before loading a model
    model, spec = resolve_model(model)
    sets: dict[str, QuerySetResult] = {}
    for dataset in datasets:
        sets[dataset.name] = evaluate_dataset(
            model, dataset, k_values, batch_size, show_progress, precision, cache_dir
        )
    names = list(next(iter(sets.values())).metrics)
    mean = {m: sum(s.metrics[m] for s in sets.values()) / len(sets) for m in names}
    return BeirReport(
        model=spec,
        data=str(dataset_dir),
        split=split,
        k_values=k_values,
        sets=sets,
        mean=mean,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        precision=precision,
        cpu=cpu_record(),
    )


def query_set_dirs(dataset_dir: str | Path) -> list[Path]:
    """``[dataset_dir]`` when it is a BEIR directory, else its BEIR subdirectories (sorted)."""
    root = Path(dataset_dir)
    if is_beir_dir(root):
        return [root]
    subdirs = sorted(p for p in root.iterdir() if is_beir_dir(p)) if root.is_dir() else []
    if not subdirs:
        raise DataError(f"{root}: not a BEIR dataset (no corpus.jsonl) nor a directory of them")
    return subdirs


def evaluate_dataset(
    model: Any,
    dataset: BeirDataset,
    k_values: Sequence[int],
    batch_size: int = 64,
    show_progress: bool = False,
    precision: Precision = "fp32",
    cache_dir: Path | None = None,
) -> QuerySetResult:
    """Encode ``dataset``'s corpus with ``model``, retrieve the top max(k) per query exactly and score."""
    import faiss

    start = time.perf_counter()
    options: dict[str, Any] = {
        "label": f"beir-{dataset.name}-{dataset.split}",
        "cache": model_cache(model, cache_dir),
        "batch_size": batch_size,
        "show_progress": show_progress,
        "precision": precision,
    }
    docs = encode_cached(model, dataset.documents, "passage", **options)
    qids = list(dataset.queries)
    emb = encode_cached(model, [dataset.queries[q] for q in qids], "query", **options)
    index = faiss.IndexFlatIP(docs.shape[1])
    index.add(np.ascontiguousarray(docs))
    scores, rows = index.search(np.ascontiguousarray(emb), min(max(k_values), len(dataset)))
    ids = dataset.corpus_ids
    run = {
        qid: {ids[r]: float(s) for s, r in zip(ss, rr, strict=True) if r >= 0}
        for qid, ss, rr in zip(qids, scores, rows, strict=True)
    }
    per_query = score_run(dataset.qrels, run, k_values)
    metrics = {
        m: sum(q[m] for q in per_query.values()) / len(per_query) for m in next(iter(per_query.values()))
    }
    return QuerySetResult(
        name=dataset.name,
        split=dataset.split,
        num_queries=len(qids),
        num_documents=len(dataset),
        metrics=metrics,
        per_query=per_query,
        dropped=dict(dataset.report.dropped),
        seconds=round(time.perf_counter() - start, 2),
    )


def score_run(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], k_values: Sequence[int]
) -> dict[str, dict[str, float]]:
    """Per-query ``ndcg<k>``, ``r<k>`` and ``mrr<k>`` of ``run`` against ``qrels`` via pytrec_eval.

    A query missing from ``run`` scores 0. MRR@k is trec_eval's ``recip_rank`` on the top-k of the run.
    """
    run = {qid: run.get(qid, {}) for qid in qrels}
    measures = {f"ndcg_cut.{','.join(map(str, k_values))}", f"recall.{','.join(map(str, k_values))}"}
    full = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    rr_eval = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"})
    per_query: dict[str, dict[str, float]] = {qid: {} for qid in qrels}
    for k in k_values:
        cut = rr_eval.evaluate({qid: _top(docs, k) for qid, docs in run.items()})
        for qid in qrels:
            found = full.get(qid, {})
            per_query[qid][metric_name("ndcg", k)] = found.get(f"ndcg_cut_{k}", 0.0)
            per_query[qid][metric_name("r", k)] = found.get(f"recall_{k}", 0.0)
            per_query[qid][metric_name("mrr", k)] = cut.get(qid, {}).get("recip_rank", 0.0)
    return per_query


def _top(docs: dict[str, float], k: int) -> dict[str, float]:
    """The k best-scored documents (trec_eval's order: score descending, then doc id descending)."""
    ranked = sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return dict(ranked[:k])


# --- reports ------------------------------------------------------------------------------
def render_beir_report(report: BeirReport) -> str:
    """A Markdown table: one row per query set (+ the mean), one column per metric."""
    metrics = list(report.mean)
    lines = [
        f"# Retrieval evaluation: {report.data} ({report.split})",
        "",
        f"Model: `{report.model}` · created {report.created} · dense retrieval, exact inner product "
        "over normalized embeddings; metrics by pytrec_eval.",
        "",
        "| query set | queries | documents | " + " | ".join(map(metric_title, metrics)) + " |",
        "|---|---:|---:|" + "---:|" * len(metrics),
    ]
    for s in report.sets.values():
        values = " | ".join(f"{s.metrics[m]:.4f}" for m in metrics)
        lines.append(f"| {s.name} | {s.num_queries} | {s.num_documents} | {values} |")
    if len(report.sets) > 1:
        lines.append("| **mean** | | | " + " | ".join(f"**{report.mean[m]:.4f}**" for m in metrics) + " |")
    dropped = {f"{s.name}: {reason}": n for s in report.sets.values() for reason, n in s.dropped.items()}
    if dropped:
        lines += ["", "Dropped judgements: " + "; ".join(f"{k} ({n})" for k, n in dropped.items())]
    return "\n".join(lines) + "\n"


def write_beir_report(report: BeirReport, out_dir: str | Path) -> Path:
    """Write ``report.json`` and ``report.md`` into ``out_dir`` (atomically); return the directory."""
    out = Path(out_dir)
    atomic_write_text(out / "report.json", report.model_dump_json(indent=2) + "\n")
    atomic_write_text(out / "report.md", render_beir_report(report))
    return out
