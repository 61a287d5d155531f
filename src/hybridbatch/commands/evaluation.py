"""``hybridbatch evaluate`` (LAReQA settings) and ``hybridbatch evaluate-retrieval`` (BEIR, AfriQA).

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hybridbatch.commands import OVERWRITE_HELP, PRECISION_HELP
from hybridbatch.commands.neutrality import fit_line


def evaluate_cmd(
    model: Annotated[str, typer.Option("--model", help="Model spec (builtin:..., path).")],
    data: Annotated[list[str], typer.Option("--data", help="xquad-r, mlqa-r or a LAReQA dir (repeatable).")],
    out: Annotated[str, typer.Option("--out", help="Directory for report.json, report.md and plots.")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Encoding batch size.")] = 64,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    cache: Annotated[Path | None, typer.Option("--cache", help="Embedding cache dir.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="No cached embeddings.")] = False,
    with_context: Annotated[bool, typer.Option("--with-context", help="Candidates with paragraph.")] = False,
    settings: Annotated[str, typer.Option("--settings", help="Comma-separated subset.")] = "mono,cross,multi",
    neutralize: Annotated[str | None, typer.Option("--neutralize", help="lsar or center.")] = None,
    fit_on: Annotated[str, typer.Option("--fit-on", help="pool (evaluated pools) or a dataset.")] = "pool",
    rank: Annotated[int | None, typer.Option("--rank", min=1, help="LSAR rank r (default L-1).")] = None,
    precision: Annotated[str, typer.Option("--precision", help=PRECISION_HELP)] = "fp32",
) -> None:
    """Mono / Cross / Multi mAP, Recall, rank distance on LAReQA-format data; writes a report with plots."""
    from rich.console import Console

    from hybridbatch.io import marked_output, prepare_output_dir
    from hybridbatch.models.encoding import check_precision

    check_precision(precision)  # before anything loads; auto is resolved and recorded by evaluate
    target = prepare_output_dir(out, "evaluation", overwrite)
    from hybridbatch.paths import embeddings_home

    if not no_cache:  # a shared cache: any directory we may write into
        prepare_output_dir(cache or embeddings_home(), "embedding cache", overwrite=True, flag="--cache")
    from hybridbatch.evaluation import evaluate
    from hybridbatch.evaluation.report import render_summary

    cache_dir = None if no_cache else (cache or embeddings_home())
    transform = None
    if neutralize:  # LSAR / centering on the cached embeddings (hybridbatch.neutrality)
        from hybridbatch.neutrality.embeddings import evaluation_transform

        model, transform = evaluation_transform(model, neutralize, fit_on, rank, batch_size, cache_dir, data)
    with marked_output(target, "evaluation"):
        report = evaluate(
            model,
            data,
            target,
            settings.split(","),
            batch_size,
            True,
            cache_dir,
            with_context=with_context,
            transform=transform,
            precision=precision,
        )
        if transform is not None:  # how the neutralization was fitted, beside the report
            from hybridbatch.io import atomic_write_json

            atomic_write_json(target / "neutralization.json", transform.fits)
            typer.echo(f"neutralized: {'; '.join(fit_line(f) for f in transform.fits)}", err=True)
    Console(width=max(Console().width, 120)).print(render_summary(report))
    typer.echo(f"wrote {out}/report.json, report.md and plots")


def evaluate_retrieval(
    model: Annotated[str, typer.Option("--model", help="Model spec (builtin:..., path, HF id).")],
    data: Annotated[
        str, typer.Option("--data", help="BEIR/MIRACL dir, a dir of them, afriqa or flores200[:dev].")
    ],
    out: Annotated[
        str | None, typer.Option("--out", help="Directory for report.json and report.md (afriqa: optional).")
    ] = None,
    split: Annotated[str | None, typer.Option("--split", help="Split (BEIR: dev; afriqa: test).")] = None,
    k: Annotated[list[int], typer.Option("-k", "--k", help="Cutoffs (repeatable).")] = [10, 100],  # noqa: B006
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Encoding batch size.")] = 64,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    precision: Annotated[str, typer.Option("--precision", help=PRECISION_HELP)] = "fp32",
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="flores200: model to compare with [default: base model]."),
    ] = None,
) -> None:
    """Dense retrieval on a BEIR-layout dataset (MIRACL), AfriQA (nDCG@k, Recall@k, MRR@k) or FLORES-200
    bitext (top-1 accuracy xx→eng and eng→xx per language, against a reference model)."""
    from hybridbatch.errors import ConfigError
    from hybridbatch.io import marked_output, prepare_output_dir
    from hybridbatch.models.encoding import check_precision

    precision = check_precision(precision)
    from hybridbatch.evaluation.flores_run import flores_command, is_flores

    if is_flores(data):  # FLORES-200 bitext retrieval (hybridbatch.evaluation.flores)
        options = {"split": split, "out": out, "reference": reference, "batch_size": batch_size}
        options |= {"overwrite": overwrite, "precision": precision}
        typer.echo(flores_command(model, data, options, k))
        return
    if reference is not None:
        raise ConfigError("--reference: only for --data flores200 (a model to compare each language with)")

    if data == "afriqa":  # cross-lingual AfriQA, native vs translate-test (hybridbatch.evaluation.afriqa)
        from hybridbatch.evaluation.afriqa import afriqa_command

        typer.echo(afriqa_command(model, split, out, batch_size, k, overwrite, precision=precision))
        return
    if out is None:
        raise ConfigError("--out: required for BEIR data (a directory for report.json and report.md)")
    target = prepare_output_dir(out, "retrieval-evaluation", overwrite)
    from hybridbatch.evaluation.beir import evaluate_beir, render_beir_report, write_beir_report

    split = split or "dev"
    report = evaluate_beir(
        model, data, split=split, k_values=k, batch_size=batch_size, show_progress=True, precision=precision
    )
    with marked_output(target, "retrieval-evaluation"):
        write_beir_report(report, target)
    typer.echo(render_beir_report(report) + f"\nwrote {out}/report.json and report.md")
