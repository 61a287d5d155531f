"""``hybridbatch evaluate`` (LAReQA settings) and ``hybridbatch evaluate-retrieval`` (BEIR, AfriQA).

Thin wiring: flags generated from the settings models of :mod:`.inputs`, validated, then one library
call (heavy imports inside the function)."""

from __future__ import annotations

from typing import Any

import typer

from hybridbatch.commands.inputs import EvaluateSettings, RetrievalSettings
from hybridbatch.commands.neutrality import fit_line
from hybridbatch.settings import settings_options


@settings_options(EvaluateSettings.model_fields, flags=EvaluateSettings.FLAGS)
def evaluate_cmd(settings: dict[str, Any] | None = None) -> None:
    """Mono / Cross / Multi mAP, Recall, rank distance on LAReQA-format data; writes a report with plots."""
    from rich.console import Console

    from hybridbatch.io import marked_output, prepare_output_dir

    args = EvaluateSettings.from_flags(settings or {})  # before anything loads; auto: resolved by evaluate
    target = prepare_output_dir(args.out, "evaluation", args.overwrite)
    from hybridbatch.paths import embeddings_home

    if not args.no_cache:  # a shared cache: any directory we may write into
        prepare_output_dir(args.cache or embeddings_home(), "embedding cache", overwrite=True, flag="--cache")
    from hybridbatch.evaluation import EncodeOptions, evaluate
    from hybridbatch.evaluation.report import render_summary

    cache_dir = None if args.no_cache else (args.cache or embeddings_home())
    model, transform = args.model, None
    if args.neutralize:  # LSAR / centering on the cached embeddings (hybridbatch.neutrality)
        from hybridbatch.neutrality.embeddings import evaluation_transform

        model, transform = evaluation_transform(
            model, args.neutralize, args.fit_on, args.rank, args.batch_size, cache_dir, args.data
        )
    with marked_output(target, "evaluation"):
        encoding = EncodeOptions(batch_size=args.batch_size, precision=args.precision, cache_dir=cache_dir)
        report = evaluate(
            model,
            list(args.data),
            target,
            args.lareqa_settings,
            encoding,
            with_context=args.with_context,
            transform=transform,
        )
        if transform is not None:  # how the neutralization was fitted, beside the report
            from hybridbatch.io import atomic_write_json

            atomic_write_json(target / "neutralization.json", transform.fits)
            typer.echo(f"neutralized: {'; '.join(fit_line(f) for f in transform.fits)}", err=True)
    Console(width=max(Console().width, 120)).print(render_summary(report))
    typer.echo(f"wrote {args.out}/report.json, report.md and plots")


@settings_options(RetrievalSettings.model_fields, flags=RetrievalSettings.FLAGS)
def evaluate_retrieval(settings: dict[str, Any] | None = None) -> None:
    """Dense retrieval on a BEIR-layout dataset (MIRACL), AfriQA (nDCG@k, Recall@k, MRR@k) or FLORES-200
    bitext (top-1 accuracy xx→eng and eng→xx per language, against a reference model)."""
    from hybridbatch.errors import ConfigError

    args = RetrievalSettings.from_flags(settings or {})
    from hybridbatch.evaluation.flores_run import flores_command, is_flores
    from hybridbatch.models.encoding import check_precision

    precision = check_precision(args.precision)  # auto: this CPU's
    if is_flores(args.data):  # FLORES-200 bitext retrieval (hybridbatch.evaluation.flores)
        options = args.model_dump(include={"split", "out", "reference", "batch_size", "overwrite"})
        typer.echo(flores_command(args.model, args.data, {**options, "precision": precision}, args.k))
        return
    if args.reference is not None:
        raise ConfigError("--reference: only for --data flores200 (a model to compare each language with)")
    if (
        args.data == "afriqa"
    ):  # cross-lingual AfriQA, native vs translate-test (hybridbatch.evaluation.afriqa)
        from hybridbatch.evaluation.afriqa import afriqa_command

        output = afriqa_command(
            args.model, args.split, args.out, args.batch_size, args.k, args.overwrite, precision=precision
        )
        typer.echo(output)
        return
    typer.echo(_beir(args, precision))


def _beir(args: RetrievalSettings, precision: str) -> str:
    """Evaluate on a BEIR-layout dataset and write its report; the summary to print."""
    from hybridbatch.errors import ConfigError
    from hybridbatch.io import marked_output, prepare_output_dir

    if args.out is None:
        raise ConfigError("--out: required for BEIR data (a directory for report.json and report.md)")
    target = prepare_output_dir(args.out, "retrieval-evaluation", args.overwrite)
    from hybridbatch.evaluation.beir import evaluate_beir, render_beir_report, write_beir_report

    report = evaluate_beir(
        args.model,
        args.data,
        split=args.split or "dev",
        k_values=args.k,
        batch_size=args.batch_size,
        show_progress=True,
        precision=precision,
    )
    with marked_output(target, "retrieval-evaluation"):
        write_beir_report(report, target)
    return render_beir_report(report) + f"\nwrote {args.out}/report.json and report.md"
