"""Dry runs of a sampler: the planned batches as JSONL and a summary of the mix (``hybridbatch batches``).

Users inspect their mix — share of X-X batches, languages, language pairs, sources — before spending
compute on it. The summary also re-checks the stream's invariants (no repeated id in a batch, every
X-Y pair cross-lingual) so a violation would show up in the report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hybridbatch.io import atomic_write_text
from hybridbatch.sampling.batch import Batch
from hybridbatch.sampling.hybrid import BatchSampler


class PlanSummary(BaseModel):
    """What a planned stream holds. Counts are over pairs unless named per batch."""

    steps: int
    pairs: int
    batches_by_kind: dict[str, int]
    xx_share: float
    mean_alpha: float | None
    batches_by_source: dict[str, int]
    batches_by_xx_language: dict[str, int]
    query_languages: dict[str, int]
    passage_languages: dict[str, int]
    language_pairs: list[tuple[str, str, int]]  # (query lang, passage lang, pairs), most frequent first
    distinct_language_pairs: int
    batches_with_duplicate_ids: int
    same_language_xy_pairs: int
    xx_batches_by_source: dict[str, int] = {}
    source_kinds: dict[str, str] = {}
    source_shares: dict[str, float] = {}
    planned_source_shares: dict[str, float] = {}
    kind_shares: dict[str, float] = {}
    bitext_xx_batches: int = 0


def summarize(
    batches: Iterable[Batch], top: int | None = None, sampler: BatchSampler | None = None
) -> PlanSummary:
    """Summarize a batch stream; ``language_pairs`` keeps the ``top`` most frequent (None: all).

    With the ``sampler``, the summary adds each source's kind, its share of the batches next to its
    configured share of steps, the share of each kind, and re-checks that no bitext batch is X-X."""
    kinds, sources, xx_langs, xx_sources = Counter(), Counter(), Counter(), Counter()
    queries, passages, lang_pairs = Counter(), Counter(), Counter()
    steps = pairs = duplicates = same_lang_xy = 0
    alphas: list[float] = []
    for batch in batches:
        steps += 1
        pairs += len(batch.pairs)
        kinds[batch.kind] += 1
        sources[batch.source] += 1
        if batch.alpha is not None:
            alphas.append(batch.alpha)
        if batch.kind != "xy":
            xx_langs[batch.language or ""] += 1
            xx_sources[batch.source] += 1
        duplicates += len({p.id for p in batch.pairs}) != len(batch.pairs)
        for p in batch.pairs:
            queries[p.query_lang] += 1
            passages[p.passage_lang] += 1
            lang_pairs[p.query_lang, p.passage_lang] += 1
            same_lang_xy += batch.kind == "xy" and p.query_lang == p.passage_lang
    summary = PlanSummary(
        steps=steps,
        pairs=pairs,
        batches_by_kind=dict(sorted(kinds.items())),
        xx_share=(kinds["xx"] + kinds["en-en"]) / steps if steps else 0.0,
        mean_alpha=sum(alphas) / len(alphas) if alphas else None,
        batches_by_source=dict(sources.most_common()),
        batches_by_xx_language=dict(sorted(xx_langs.items())),
        query_languages=dict(sorted(queries.items())),
        passage_languages=dict(sorted(passages.items())),
        language_pairs=[(q, p, n) for (q, p), n in lang_pairs.most_common(top)],
        distinct_language_pairs=len(lang_pairs),
        batches_with_duplicate_ids=duplicates,
        same_language_xy_pairs=same_lang_xy,
        xx_batches_by_source=dict(sorted(xx_sources.items())),
    )
    return _with_sources(summary, sampler) if sampler is not None else summary


def _with_sources(summary: PlanSummary, sampler: BatchSampler) -> PlanSummary:
    kinds = {pool.name: pool.kind for pool in sampler.pools}
    planned = dict(zip(kinds, sampler.source_shares.tolist(), strict=True))
    steps = max(summary.steps, 1)
    by_kind: Counter[str] = Counter()
    for name, n in summary.batches_by_source.items():
        by_kind[kinds[name]] += n
    return summary.model_copy(
        update={
            "source_kinds": kinds,
            "source_shares": {name: summary.batches_by_source.get(name, 0) / steps for name in kinds},
            "planned_source_shares": planned,
            "kind_shares": {kind: by_kind[kind] / steps for kind in sorted(set(kinds.values()))},
            "bitext_xx_batches": sum(
                n for name, n in summary.xx_batches_by_source.items() if kinds[name] == "bitext"
            ),
        }
    )


def write_plan(sampler: BatchSampler, out: str | Path, steps: int, top: int | None = 10) -> PlanSummary:
    """Write steps ``0..steps-1`` of ``sampler`` to ``out`` as JSONL (atomically) and summarize them."""
    batches = list(sampler.batches(start_step=0, stop_step=steps))
    lines = [json.dumps(b.to_json(), ensure_ascii=False, separators=(",", ":")) for b in batches]
    atomic_write_text(out, "".join(line + "\n" for line in lines))
    return summarize(batches, top, sampler)


def render_summary(summary: PlanSummary) -> None:
    """Print the summary as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    overview = Table(title="Batch plan", show_header=False)
    overview.add_row("steps", str(summary.steps))
    overview.add_row("pairs", str(summary.pairs))
    overview.add_row("X-X share", f"{summary.xx_share:.3f}")
    if summary.mean_alpha is not None:
        overview.add_row("mean α", f"{summary.mean_alpha:.3f}")
    for kind, n in summary.batches_by_kind.items():
        overview.add_row(f"{kind} batches", str(n))
    overview.add_row("batches with a repeated id", str(summary.batches_with_duplicate_ids))
    overview.add_row("X-Y pairs within one language", str(summary.same_language_xy_pairs))
    console.print(overview)

    langs = sorted(set(summary.query_languages) | set(summary.passage_languages))
    histogram = Table(title="Languages (pairs)")
    for column in ("language", "queries", "passages", "X-X batches"):
        histogram.add_column(column, justify="right" if column != "language" else "left")
    for lang in langs:
        histogram.add_row(
            lang,
            str(summary.query_languages.get(lang, 0)),
            str(summary.passage_languages.get(lang, 0)),
            str(summary.batches_by_xx_language.get(lang, 0)),
        )
    console.print(histogram)

    pairs = Table(title=f"Top language pairs (of {summary.distinct_language_pairs})")
    for column in ("query", "passage", "pairs", "share"):
        pairs.add_column(column, justify="right" if column in ("pairs", "share") else "left")
    for q, p, n in summary.language_pairs:
        pairs.add_row(q, p, str(n), f"{n / max(summary.pairs, 1):.3f}")
    console.print(pairs)

    _render_sources(console, summary)


def _render_sources(console: Any, summary: PlanSummary) -> None:
    """Per source: kind, batches, share of the batches and configured share; then per kind."""
    from rich.table import Table

    sources = Table(title="Sources (share of batches)")
    for column in ("source", "kind", "batches", "share", "configured share", "X-X batches"):
        sources.add_column(column, justify="left" if column in ("source", "kind") else "right")
    for name, n in summary.batches_by_source.items():
        planned = summary.planned_source_shares.get(name)
        sources.add_row(
            name,
            summary.source_kinds.get(name, "?"),
            str(n),
            f"{n / max(summary.steps, 1):.3f}",
            "" if planned is None else f"{planned:.3f}",
            str(summary.xx_batches_by_source.get(name, 0)),
        )
    console.print(sources)
    if summary.kind_shares:
        kinds = Table(title="Source kinds (share of batches)")
        kinds.add_column("kind")
        kinds.add_column("share", justify="right")
        for kind, share in summary.kind_shares.items():
            kinds.add_row(kind, f"{share:.3f}")
        console.print(kinds)
        console.print(f"bitext X-X batches: {summary.bitext_xx_batches}")
