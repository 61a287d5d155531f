"""``--eval flores200[:split]`` in ``compare`` and ``study``: FLORES-200 bitext retrieval of every run.

Like AfriQA, FLORES-200 is an extra evaluation beside the LAReQA sets. Every run's model is scored
in ``<run>/flores200-<split>/`` (``flores200-<split>-<precision>/`` below fp32) against the
comparison's base model (``--model``) as its Δ reference — how many languages a recipe pushes more
than a point below the model it started from — and reused when written for the same models. The
runs are then tested against the comparison's reference run over the same (language, sentence)
queries (:func:`hybridbatch.comparison.significance.paired.flores_significance`).
"""

from __future__ import annotations

from pathlib import Path

from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation.flores_run import flores_split, is_flores

GROUPS = ("all", "trained", "held-out")


def split_flores(evaluations: list[str], flag: str = "--eval") -> tuple[list[str], list[str]]:
    """The evaluations without ``flores200[:split]``, and those splits (validated; default ``dev``)."""
    splits = [flores_split(spec, flag=flag) for spec in evaluations if is_flores(spec)]
    rest = [spec for spec in evaluations if not is_flores(spec)]
    if splits and not rest:
        raise ConfigError(f"{flag} flores200 is an extra evaluation: add a LAReQA one (e.g. {flag} xquad-r)")
    return rest, list(dict.fromkeys(splits))


def flores_dir_name(split: str, precision: str = "fp32") -> str:
    """A run's FLORES-200 folder: ``flores200-<split>`` at fp32, else ``flores200-<split>-<precision>``."""
    return f"flores200-{split}" if precision == "fp32" else f"flores200-{split}-{precision}"


def flores_for_runs(report: ComparisonReport, split: str) -> dict[str, dict]:
    """FLORES-200 ``report.json`` content of every strategy's model (reused when already written)."""
    from hybridbatch.evaluation.flores_run import flores_in_folder

    config = report.config
    return {
        name: flores_in_folder(
            Path(result.report).parent.parent / flores_dir_name(split, config.precision),
            result.model,
            lambda model=result.model: model,
            split,
            config.model,
            config.eval_batch_size,
            config.precision,
        )
        for name, result in report.strategies.items()
    }


def flores_tables(runs: dict[str, dict]) -> list[str]:
    """Markdown: per run, bitext accuracy of each language group and the languages below the base model."""
    head = [f"bitext acc. {g}" for g in GROUPS] + [f"Δ {g} vs base" for g in GROUPS]
    head += ["languages > 1 pt below base"]
    lines = [_row(("run", *head)), _row(("---",) * (len(head) + 1))]
    for name, report in runs.items():
        means, ref = report["means"], report["reference_means"]
        cells = [f"{means[g]['bitext_r1']:.3f}" for g in GROUPS if g in means]
        cells += [f"{means[g]['bitext_r1'] - ref[g]['bitext_r1']:+.3f}" for g in GROUPS if g in means]
        below = report["below_reference"]
        cells.append(f"{below['all']} ({below['held-out']} held-out)")
        lines.append(_row((name, *cells)))
    return lines


def flores_language_rows(runs: dict[str, dict], languages: list[str]) -> list[str]:
    """Markdown: each run's top-1 accuracy (xx→eng, eng→xx mean) in each of ``languages``, Δ vs base."""
    if not languages:
        return []
    lines = [_row(("run", *languages)), _row(("---",) * (len(languages) + 1))]
    for name, report in runs.items():
        rows = report["languages"]
        cells = [
            f"{rows[c]['scores']['bitext_r1']:.3f} ({rows[c]['delta']:+.3f})" if c in rows else "–"
            for c in languages
        ]
        lines.append(_row((name, *cells)))
    return ["Chosen languages, top-1 accuracy (Δ vs base):", "", *lines, ""]


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
