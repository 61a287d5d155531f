"""Every strategy of a comparison against a reference: paired tests per query, spread across seeds.

For each strategy and metric the table holds Δ = strategy − reference on the reference seed's runs,
with a 95% paired-bootstrap CI and the p-value of a paired randomization test over the same queries
(:mod:`hybridbatch.comparison.significance.significance`), and, when several seeds were trained,
the mean ± std of the metric and of Δ across seeds. Per-query scores come from each run's
``eval/per_query.json`` (``{dataset: {metric: {"<lang>:<id>": value}}}``; FLORES-200's in
``flores200-<split>/``) and, for AfriQA, from ``afriqa-<split>/report.json``.
Per-query means weight every query alike; the reported Δ of mAP is the macro difference, which equals
the per-query one when every language has as many queries (XQuAD-R).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field

from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.comparison.significance.significance import PairedComparison, compare_paired, mean_std
from hybridbatch.evaluation.registry import get_score, scores

#: (per-query key in ``per_query.json``, label, summary field) of the LAReQA settings; labels are
#: the registered titles.
LAREQA_METRICS = tuple(
    (key, get_score(field).title, field)
    for key, field in (
        ("mono_ap", "mono_map"),
        ("cross_ap", "cross_map"),
        ("multi_ap", "multi_map"),
        ("rank_distance", "rank_distance"),
    )
)
#: (per-query metric, label) of AfriQA, native questions: the registered ``retrieval`` scores.
AFRIQA_METRICS = tuple((score.name, score.title) for score in scores(task="retrieval"))


class MetricRow(BaseModel):
    """One strategy on one metric: the paired test against the reference, and the seed spread."""

    label: str
    test: PairedComparison | None = None
    seed_mean: float | None = None
    seed_std: float | None = None
    delta_mean: float | None = None
    delta_std: float | None = None


class SignificanceReport(BaseModel):
    """Strategies against ``reference`` on one dataset (``significance.json``)."""

    dataset: str
    reference: str
    seeds: list[int]
    reference_seed: int
    n_resamples: int
    rows: dict[str, dict[str, MetricRow]] = Field(description="strategy -> metric label -> row")
    notes: list[str] = Field(default_factory=list)


def lareqa_per_query(result_report: str | Path, dataset: str) -> dict[str, dict[str, float]] | None:
    """``metric -> query -> score`` of one run on ``dataset`` (None without ``per_query.json``)."""
    file = Path(result_report).parent / "per_query.json"
    if not file.is_file():
        return None
    return json.loads(file.read_text("utf-8")).get(dataset)


def lareqa_significance(
    reports: Mapping[int, ComparisonReport],
    reference: str,
    dataset: str,
    n_resamples: int = 10_000,
    subset: str | None = None,
) -> SignificanceReport:
    """Paired tests on the first seed's runs, seed spread over all ``reports`` (seed -> report).

    ``subset`` ``"seen"`` / ``"unseen"``: only queries whose language was (not) a training language,
    and the seen/unseen summaries for the seed spread.
    """
    seed = next(iter(reports))
    primary = reports[seed]
    keep = _language_filter(primary, subset)
    ref_scores = _filtered(lareqa_per_query(primary.strategies[reference].report, dataset), keep)
    sig = SignificanceReport(
        dataset=dataset if subset is None else f"{dataset} ({subset} languages)",
        reference=reference,
        seeds=list(reports),
        reference_seed=seed,
        n_resamples=n_resamples,
        rows={},
    )
    summary = "summary" if subset is None else f"summary_{subset}"
    for name, result in primary.strategies.items():
        scores = _filtered(lareqa_per_query(result.report, dataset), keep)
        rows: dict[str, MetricRow] = {}
        for metric, label, field in LAREQA_METRICS:
            row = MetricRow(label=label, **_spread(reports, name, reference, dataset, (summary, field)))
            if name != reference and scores.get(metric) and ref_scores.get(metric):
                row.test = compare_paired(label, scores[metric], ref_scores[metric], n_resamples, seed)
            rows[label] = row
        sig.rows[name] = rows
    if not ref_scores:
        sig.notes.append(f"no per-query scores of {reference} on {dataset}: re-evaluate to get p-values")
    return sig


def afriqa_significance(
    reports: Mapping[int, Mapping[str, dict]], reference: str, split: str, n_resamples: int = 10_000
) -> SignificanceReport:
    """The same on AfriQA: ``reports`` maps seed -> strategy -> AfriQA ``report.json`` content."""
    seed = next(iter(reports))
    primary = reports[seed]
    sig = SignificanceReport(
        dataset=f"afriqa {split}",
        reference=reference,
        seeds=list(reports),
        reference_seed=seed,
        n_resamples=n_resamples,
        rows={},
    )
    ref_native = primary[reference]["per_query"]["native"] if reference in primary else None
    for name, report in primary.items():
        rows: dict[str, MetricRow] = {}
        for metric, label in AFRIQA_METRICS:
            values = [r[name]["mean_native"][metric] for r in reports.values() if name in r]
            deltas = [
                r[name]["mean_native"][metric] - r[reference]["mean_native"][metric]
                for r in reports.values()
                if name in r and reference in r
            ]
            row = MetricRow(label=label, **_stats(values, deltas))
            if name != reference and ref_native is not None:
                a = {q: s[metric] for q, s in report["per_query"]["native"].items()}
                b = {q: s[metric] for q, s in ref_native.items()}
                row.test = compare_paired(label, a, b, n_resamples, seed)
            rows[label] = row
        sig.rows[name] = rows
    sig.notes.append(
        "AfriQA values are macro averages over the question languages; the paired test's Δ and CI are "
        "over all questions pooled (every question weighs the same), so Δ can differ from the difference "
        "of the macro averages."
    )
    return sig


def flores_significance(
    reports: Mapping[int, Mapping[str, dict]],
    reference: str,
    split: str,
    n_resamples: int = 10_000,
    group: str = "all",
) -> SignificanceReport:
    """The same on FLORES-200 bitext: ``reports`` maps seed -> run -> FLORES ``report.json`` content
    (with ``folder``, where its ``per_query.json`` is); ``group``: ``all``, ``trained`` or ``held-out``
    languages."""
    from hybridbatch.evaluation.flores import language_group
    from hybridbatch.evaluation.registry import get_score, score_names

    seed = next(iter(reports))
    primary, dataset = reports[seed], f"flores200:{split}"
    keep = (lambda lang: True) if group == "all" else (lambda lang: language_group(lang) == group)
    label = dataset if group == "all" else f"{dataset} ({group} languages)"
    sig = SignificanceReport(
        dataset=label,
        reference=reference,
        seeds=list(reports),
        reference_seed=seed,
        n_resamples=n_resamples,
        rows={},
    )
    ref_scores = _filtered(_flores_per_query(primary.get(reference), dataset), keep)
    for name, report in primary.items():
        scores = _filtered(_flores_per_query(report, dataset), keep)
        rows: dict[str, MetricRow] = {}
        for metric in score_names("flores200"):
            title = get_score(metric).title
            values = [r[name]["means"][group][metric] for r in reports.values() if name in r]
            deltas = [
                r[name]["means"][group][metric] - r[reference]["means"][group][metric]
                for r in reports.values()
                if name in r and reference in r
            ]
            rows[title] = MetricRow(label=title, **_stats(values, deltas))
            if name != reference and scores.get(metric) and ref_scores.get(metric):
                rows[title].test = compare_paired(
                    title, scores[metric], ref_scores[metric], n_resamples, seed
                )
        sig.rows[name] = rows
    return sig


def _flores_per_query(report: dict | None, dataset: str) -> dict[str, dict[str, float]] | None:
    if report is None or "folder" not in report:
        return None
    return lareqa_per_query(Path(report["folder"]) / "report.json", dataset)


def _language_filter(report: ComparisonReport, subset: str | None):
    if subset is None:
        return lambda lang: True
    seen = set(report.train_languages)
    return (lambda lang: lang in seen) if subset == "seen" else (lambda lang: lang not in seen)


def _filtered(scores: dict[str, dict[str, float]] | None, keep) -> dict[str, dict[str, float]]:
    """Per-query scores of the queries whose language (``"<lang>:<id>"``) passes ``keep``."""
    return {
        m: {q: v for q, v in values.items() if keep(q.split(":", 1)[0])}
        for m, values in (scores or {}).items()
    }


def _spread(
    reports: Mapping[int, ComparisonReport], name: str, reference: str, dataset: str, field: tuple[str, str]
) -> dict[str, float | None]:
    values, deltas = [], []
    for report in reports.values():
        value = _summary_value(report, name, dataset, field)
        ref = _summary_value(report, reference, dataset, field)
        if value is not None:
            values.append(value)
            if ref is not None:
                deltas.append(value - ref)
    return _stats(values, deltas)


def _stats(values: list[float], deltas: list[float]) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(("seed_mean", "seed_std", "delta_mean", "delta_std"))
    if values:
        out["seed_mean"], out["seed_std"] = mean_std(values)
    if deltas:
        out["delta_mean"], out["delta_std"] = mean_std(deltas)
    return out


def _summary_value(report: ComparisonReport, name: str, dataset: str, field: tuple[str, str]) -> float | None:
    result = report.strategies.get(name)
    if result is None or dataset not in result.datasets:
        return None
    value = getattr(getattr(result.datasets[dataset], field[0]), field[1], None)
    return float(value) if value is not None else None
