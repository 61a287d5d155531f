"""``hybridbatch compare`` and ``hybridbatch study``.

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridbatch.commands.inputs import CompareRunSettings, StudyRunSettings
from hybridbatch.comparison.runs.config import ComparisonSettings
from hybridbatch.settings import settings_options

if TYPE_CHECKING:
    from hybridbatch.comparison.runs.results import ComparisonReport
    from hybridbatch.comparison.runs.seeds import SeededComparison

COMPARE_FIELDS = {
    k: v for k, v in ComparisonSettings.model_fields.items() if k not in ("out", "train_settings")
}


@settings_options({**COMPARE_FIELDS, **CompareRunSettings.model_fields}, flags={"alphas": "--alpha"})
def compare_cmd(
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML of settings.")] = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Train one model per strategy (same data, seed, budget) and compare them on held-out data.

    Every run is tested against the reference over the same queries (95% CI, p-value); --seeds adds
    mean ± std across seeds; --eval afriqa[:split] adds AfriQA (see hybridbatch.comparison.runs.seeds).
    """
    settings = dict(settings or {})
    run = CompareRunSettings.from_flags(
        {k: settings.pop(k) for k in CompareRunSettings.model_fields if k in settings}
    )
    out, quick, overwrite, seeds, reference = run.out, run.quick, run.overwrite, run.seeds, run.reference
    from hybridbatch.comparison.runs.config import build_settings, plan_runs
    from hybridbatch.comparison.runs.run import check_leakage, prepare_comparison_dir
    from hybridbatch.comparison.runs.seeds import compare_seeds, parse_seeds

    config = build_settings(out, settings, config_file, quick)
    seed_list = parse_seeds(seeds, config.seed)
    prepare_comparison_dir(config.out, overwrite)
    overlaps: list[str] = []
    if any(run.overrides is not None for run in plan_runs(config)):  # something will be trained
        overlaps = check_leakage(config.train, config.eval, config.allow_overlap)
    result = compare_seeds(config, seed_list, reference)
    print_table(result.reports[seed_list[0]])
    print_significance(result)
    print_phases(result)
    for overlap in overlaps:
        typer.echo(f"warning (--allow-overlap): {overlap}", err=True)


def print_table(report: ComparisonReport) -> None:
    """Print the primary dataset's table and where the report is."""
    from rich.console import Console
    from rich.table import Table

    from hybridbatch.comparison.runs.report import HEADERS, strategy_table

    table = Table(
        title=f"{report.config.model} on {report.primary_eval} (trained on {'+'.join(report.config.train)})"
    )
    for header in ("strategy", *HEADERS):
        table.add_column(header, justify="right")
    for row in strategy_table(report):
        table.add_row(*row)
    console = Console()
    console.print(table)
    out = report.config.report_dir
    console.print(f"report: {out / 'comparison.md'}  json: {out / 'comparison.json'}  plots: {out}/*.png")


def print_phases(result: SeededComparison) -> None:
    """Print the wall time of every phase (model, each training, each evaluation) and the total."""
    from hybridbatch.comparison.runs.phases import phase_rows

    for seed, report in result.reports.items():
        typer.echo(f"wall time per phase (seed {seed}):")
        for name, wall in phase_rows(report.phases):
            typer.echo(f"  {name:<60} {wall:>9}")


def print_significance(result: SeededComparison) -> None:
    """Print every significance table (and where the full report is) on the terminal."""
    from rich.console import Console
    from rich.table import Table

    from hybridbatch.comparison.significance.significance_report import significance_cells

    console = Console()
    for sig in result.significance:
        title, headers, rows = significance_cells(sig)
        table = Table(title=title)
        table.add_column(headers[0])
        for header in headers[1:]:
            table.add_column(header, justify="right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print("(n.s.) = not significant at p < 0.05 (paired randomization test; CI: paired bootstrap)")


@settings_options(StudyRunSettings.model_fields)
def study_cmd(
    config: Annotated[Path, typer.Argument(help="Study YAML (e.g. benchmarks/studies/low-resource.yaml).")],
    settings: dict[str, Any] | None = None,
) -> None:
    """Answer one research question: reuse (or train) its runs, evaluate, test, write the study Markdown."""
    run = StudyRunSettings.from_flags(dict(settings or {}))
    train, report = run.train, run.report
    from hybridbatch.comparison.studies.study import load_study
    from hybridbatch.comparison.studies.study_report import write_study
    from hybridbatch.comparison.studies.study_run import run_study

    result = run_study(load_study(config), train=train)
    path = write_study(result, report)
    missing = sorted({r.label for r in result.missing})
    note = f" (not yet run: {', '.join(missing)}; --train trains them)" if missing else ""
    typer.echo(f"wrote {path}{note}")
