"""``compare --seeds 0,1,2 --reference NAME [--eval afriqa]``: a comparison per seed plus significance.

Each seed is a full comparison with the same recipe: the seed of ``--seed`` (default 0) lives in
``OUT/`` itself, so a finished single-seed comparison is reused as is; seed ``s`` in
``OUT/seeds/seed-<s>/`` (same recipe + seed = same run, so reruns resume). ``--eval afriqa[:split]``
adds AfriQA (:mod:`hybridbatch.evaluation.afriqa`) for every strategy's model, in
``<run>/afriqa-<split>/``; ``--eval flores200[:split]`` adds FLORES-200 bitext retrieval
(:mod:`hybridbatch.comparison.runs.flores`) in ``<run>/flores200-<split>/``. Then every strategy is tested
against the reference
(:mod:`hybridbatch.comparison.significance.paired`): ``OUT/significance.json`` and a "Significance" section
appended to ``OUT/comparison.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from hybridbatch.comparison.runs.config import ComparisonSettings, afriqa_dir_name, plan_runs
from hybridbatch.comparison.runs.flores import flores_for_runs, flores_tables, split_flores
from hybridbatch.comparison.runs.results import ComparisonReport
from hybridbatch.comparison.significance.paired import (
    SignificanceReport,
    afriqa_significance,
    flores_significance,
    lareqa_significance,
)
from hybridbatch.comparison.significance.significance_report import (
    afriqa_tables,
    render_significance,
)
from hybridbatch.data.afriqa import SPLITS
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation.afriqa import afriqa_in_folder
from hybridbatch.io import atomic_write_text

SECTION = "## Significance"
DEFAULT_REFERENCE = "hybrid"


class SeededComparison(BaseModel):
    """The comparison of every seed and the significance tables."""

    seeds: list[int]
    reference: str
    reports: dict[int, ComparisonReport]
    significance: list[SignificanceReport]
    afriqa: dict[str, dict[str, dict]] = {}  # split -> run -> AfriQA report.json (first seed)
    flores: dict[str, dict[str, dict]] = {}  # split -> run -> FLORES-200 report.json (first seed)


def parse_seeds(text: str | None, default: int) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]`` (``[default]`` when not given); one-line errors on bad input."""
    if not text:
        return [default]
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit():
            raise ConfigError(f"--seeds: {part!r} is not a non-negative integer (e.g. --seeds 0,1,2)")
        if int(part) in seeds:
            raise ConfigError(f"--seeds: seed {part} is listed twice")
        seeds.append(int(part))
    return seeds


def split_afriqa(config: ComparisonSettings) -> tuple[ComparisonSettings, list[str]]:
    """The config without its ``afriqa[:split]`` evaluations, and those splits (validated)."""
    splits = []
    for spec in config.eval:
        if spec == "afriqa" or spec.startswith("afriqa:"):
            split = spec.partition(":")[2] or "test"
            if split not in SPLITS:
                raise ConfigError(f"--eval {spec}: AfriQA has no split {split!r} ({', '.join(SPLITS)})")
            splits.append(split)
    rest = [spec for spec in config.eval if not (spec == "afriqa" or spec.startswith("afriqa:"))]
    if splits and not rest:
        raise ConfigError("--eval afriqa is an extra evaluation: add a LAReQA one (e.g. --eval xquad-r)")
    return config.model_copy(update={"eval": rest}), splits


def choose_reference(config: ComparisonSettings, reference: str | None) -> str:
    """The reference run name: ``reference``, else hybrid, else the first run (checked before training)."""
    names = [run.name for run in plan_runs(config)]
    if reference is not None:
        if reference not in names:
            raise ConfigError(f"--reference: {reference!r} is not one of the runs ({', '.join(names)})")
        return reference
    return DEFAULT_REFERENCE if DEFAULT_REFERENCE in names else names[0]


def seed_config(config: ComparisonSettings, seed: int) -> ComparisonSettings:
    """The comparison of ``seed``: ``OUT`` for ``config.seed``, else ``OUT/seeds/seed-<seed>``."""
    if seed == config.seed:
        return config
    return config.model_copy(update={"seed": seed, "out": config.out / "seeds" / f"seed-{seed}"})


def compare_seeds(
    config: ComparisonSettings, seeds: list[int], reference: str | None = None, n_resamples: int = 10_000
) -> SeededComparison:
    """Run (or resume) the comparison of every seed, AfriQA extras, and the significance tables."""
    from hybridbatch.comparison import compare

    lareqa_config, afriqa_splits = split_afriqa(config)
    rest, flores_splits = split_flores(lareqa_config.eval)
    lareqa_config = lareqa_config.model_copy(update={"eval": rest})
    reference = choose_reference(lareqa_config, reference)
    reports: dict[int, ComparisonReport] = {}
    afriqa: dict[str, dict[int, dict[str, dict]]] = {split: {} for split in afriqa_splits}
    flores: dict[str, dict[int, dict[str, dict]]] = {split: {} for split in flores_splits}
    for seed in seeds:
        reports[seed] = compare(seed_config(lareqa_config, seed))
        for split in afriqa_splits:
            afriqa[split][seed] = afriqa_for_runs(reports[seed], split)
        for split in flores_splits:
            flores[split][seed] = flores_for_runs(reports[seed], split)
    significance = [
        lareqa_significance(reports, reference, dataset, n_resamples)
        for dataset in next(iter(reports.values())).strategies[reference].datasets
    ]
    significance += [afriqa_significance(afriqa[s], reference, s, n_resamples) for s in afriqa_splits]
    significance += [
        flores_significance(flores[s], reference, s, n_resamples, group)
        for s in flores_splits
        for group in ("all", "held-out")
    ]
    first = {split: by_seed[seeds[0]] for split, by_seed in afriqa.items()}
    result = SeededComparison(
        seeds=seeds,
        reference=reference,
        reports=reports,
        significance=significance,
        afriqa=first,
        flores={split: by_seed[seeds[0]] for split, by_seed in flores.items()},
    )
    write_significance(result, config.report_dir)
    return result


def afriqa_for_runs(report: ComparisonReport, split: str) -> dict[str, dict]:
    """AfriQA ``report.json`` content of every strategy's model (reused when already written)."""
    batch, precision = report.config.eval_batch_size, report.config.precision
    return {
        name: afriqa_in_folder(
            Path(result.report).parent.parent / afriqa_dir_name(split, precision),
            result.model,
            lambda model=result.model: model,
            split,
            batch,
            precision,
        )
        for name, result in report.strategies.items()
    }


def write_significance(result: SeededComparison, out: Path) -> None:
    """``OUT/significance.json`` and the Significance section of ``OUT/comparison.md`` (replaced on rerun)."""
    payload = {"seeds": result.seeds, "reference": result.reference}
    payload["tables"] = [json.loads(s.model_dump_json()) for s in result.significance]
    atomic_write_text(out / "significance.json", json.dumps(payload, indent=2) + "\n")
    lines = [SECTION, ""]
    for split, runs in result.afriqa.items():
        lines += [f"### AfriQA {split} (seed {result.seeds[0]})", "", *afriqa_tables(runs), ""]
    for split, runs in result.flores.items():
        lines += [f"### FLORES-200 {split} bitext (seed {result.seeds[0]})", "", *flores_tables(runs), ""]
    for sig in result.significance:
        lines += render_significance(sig)
    markdown = out / "comparison.md"
    text = markdown.read_text("utf-8") if markdown.is_file() else ""
    text = text.split(f"\n{SECTION}\n", 1)[0].rstrip("\n")
    atomic_write_text(markdown, text + "\n\n" + "\n".join(lines) + "\n")
