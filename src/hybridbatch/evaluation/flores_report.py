"""The FLORES-200 bitext report: a model against a reference model, per language and per group.

``report.json`` (:class:`FloresReport`), ``report.md`` (the means, then every language sorted by
Δ = model − reference of ``bitext_r1``, most damaged first), ``per_query.json`` (``{"flores200:dev":
{metric: {"<lang>:<id>": value}}}``, the layout of every task, for ``compare``'s paired tests) and
``flores.png``. The reference defaults to the model's base model (``model`` in its
``hybridbatch_training.json``), else the model itself (then Δ is 0).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hybridbatch.evaluation.flores import (
    GROUPS,
    HEADLINE,
    BitextScores,
    FloresTask,
    language_group,
    macro_means,
)
from hybridbatch.evaluation.registry import get_score, score_names
from hybridbatch.io import atomic_write_json, atomic_write_text
from hybridbatch.models.capability import cpu_record

#: A language is "below the reference" when its headline drops by more than this (1 point).
BELOW = 0.01


class FloresLanguage(BaseModel):
    """One language variant: the model's scores, the reference's, and Δ of the headline."""

    lang: str
    group: str
    scores: dict[str, float]
    reference: dict[str, float]
    delta: float


class FloresReport(BaseModel):
    """``report.json`` of ``evaluate-retrieval --data flores200:<split>``."""

    task: str = "flores200"
    model: str | None
    reference_model: str | None
    split: str
    precision: str = "fp32"
    cpu: dict[str, Any] | None = None  # the CPU encoded on (models.capability)
    num_sentences: int
    languages: dict[str, FloresLanguage]
    means: dict[str, dict[str, float]]
    reference_means: dict[str, dict[str, float]]
    below_reference: dict[str, int]
    below_threshold: float = BELOW
    seconds: float
    created: str

    @property
    def headline(self) -> float:
        """The task's one number: ``bitext_r1`` macro-averaged over all languages."""
        return self.means["all"][HEADLINE]


def base_model(spec: str | None) -> str | None:
    """The model a trained model directory started from (``model`` of its training metadata), else
    ``spec`` itself."""
    from hybridbatch.models.encoding import model_directory
    from hybridbatch.models.metadata import TrainingMetadata

    directory = model_directory(spec) if spec is not None else None
    metadata = TrainingMetadata.read(directory) if directory is not None else None
    base = metadata.config.get("model") if metadata is not None else None
    return str(base) if base else spec


def evaluate_flores(
    model: Any,
    task: FloresTask,
    reference: Any = None,
    cache_dir: Path | None = None,
    batch_size: int = 64,
    precision: str = "fp32",
    show_progress: bool = False,
) -> tuple[FloresReport, BitextScores]:
    """Score ``model`` (a spec or a loaded model) and ``reference`` (default: its base model) on
    ``task``; the data is checked before any model is loaded."""
    from hybridbatch.models.encoding import resolve_model

    task.load()
    start = time.perf_counter()
    model, spec = resolve_model(model)
    reference_spec = reference if reference is not None else base_model(spec)
    ref_model = None  # loaded before any encoding, so a bad reference fails fast
    if reference_spec is not None and reference_spec != spec:
        ref_model, reference_spec = resolve_model(reference_spec)
    options = {"cache_dir": cache_dir, "batch_size": batch_size, "precision": precision}
    scores = task.evaluate(model, show_progress=show_progress, **options)
    ref_scores = (
        scores if ref_model is None else task.evaluate(ref_model, show_progress=show_progress, **options)
    )
    if ref_model is None:
        reference_spec = spec
    report = build_report(scores, ref_scores, (spec, reference_spec), task.split, precision)
    report.seconds = round(time.perf_counter() - start, 2)
    return report, scores


def build_report(
    scores: BitextScores,
    reference: BitextScores,
    models: tuple[str | None, str | None],
    split: str,
    precision: str,
) -> FloresReport:
    """The report of ``scores`` against ``reference`` (the same task and languages)."""
    languages = {}
    for lang in scores.languages:
        mine, theirs = scores.language_means(lang), reference.language_means(lang)
        languages[lang] = FloresLanguage(
            lang=lang,
            group=language_group(lang),
            scores=mine,
            reference=theirs,
            delta=mine[HEADLINE] - theirs[HEADLINE],
        )
    below = {
        group: sum(1 for r in languages.values() if r.delta < -BELOW and group in ("all", r.group))
        for group in GROUPS
    }
    return FloresReport(
        model=models[0],
        reference_model=models[1],
        split=split,
        precision=precision,
        cpu=cpu_record(),
        num_sentences=len(scores.ids),
        languages=languages,
        means=macro_means(scores),
        reference_means=macro_means(reference),
        below_reference=below,
        seconds=0.0,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def sorted_rows(report: FloresReport) -> list[FloresLanguage]:
    """Languages by Δ (most damaged first), then by the model's headline (weakest first)."""
    return sorted(report.languages.values(), key=lambda r: (r.delta, r.scores[HEADLINE], r.lang))


def render_flores_report(report: FloresReport) -> str:
    """Markdown: the group means (model, reference, Δ, languages below), then the per-language table."""
    names = score_names("flores200")
    titles = [get_score(n).title for n in names]
    lines = [
        f"# FLORES-200 {report.split}: bitext retrieval ({report.num_sentences} sentences per language)",
        "",
        f"Model: `{report.model}` ({report.precision}) · reference: `{report.reference_model}` · "
        f"{report.created} · top-1 accuracy of finding the translation among the split's sentences; "
        f"trained = every variant a flores200 recipe may train on, held-out = the fixed held-out list; "
        f"below = languages more than {report.below_threshold * 100:.0f} point below the reference.",
        "",
        "| languages | n | " + " | ".join(titles) + " | reference | Δ | below |",
        "|---|---:|" + "---:|" * (len(names) + 3),
    ]
    counts = {g: sum(1 for r in report.languages.values() if g in ("all", r.group)) for g in GROUPS}
    for group in GROUPS:
        if group not in report.means:
            continue
        mine, ref = report.means[group], report.reference_means[group]
        cells = [f"{mine[n]:.3f}" for n in names]
        delta = mine[HEADLINE] - ref[HEADLINE]
        lines.append(
            f"| **{group}** | {counts[group]} | {' | '.join(cells)} | {ref[HEADLINE]:.3f} | {delta:+.3f} "
            f"| {report.below_reference[group]} |"
        )
    lines += ["", "| language | group | " + " | ".join(titles) + " | reference | Δ |"]
    lines.append("|---|---|" + "---:|" * (len(names) + 2))
    for row in sorted_rows(report):
        cells = " | ".join(f"{row.scores[n]:.3f}" for n in names)
        lines.append(
            f"| {row.lang} | {row.group} | {cells} | {row.reference[HEADLINE]:.3f} | {row.delta:+.3f} |"
        )
    return "\n".join(lines) + "\n"


def write_flores_report(report: FloresReport, scores: BitextScores, out_dir: str | Path) -> Path:
    """``report.json``, ``report.md``, ``per_query.json`` and ``flores.png`` in ``out_dir`` (atomic)."""
    from hybridbatch.evaluation.flores_plot import plot_flores

    out = Path(out_dir)
    atomic_write_json(out / "per_query.json", {scores.dataset: scores.table()})
    plot_flores(report, out / "flores.png")
    atomic_write_text(out / "report.md", render_flores_report(report))
    atomic_write_text(out / "report.json", report.model_dump_json(indent=2) + "\n")  # last: "finished"
    return out
