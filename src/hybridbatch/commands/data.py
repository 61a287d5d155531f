"""``hybridbatch data …`` and ``hybridbatch models …``: inspect datasets, build and inspect models.

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hybridbatch.commands.inputs import BuildSettings, ExportSettings, InfoSettings, TranslateCommandSettings
from hybridbatch.settings import settings_options


@settings_options(InfoSettings.model_fields, flags=InfoSettings.FLAGS)
def data_info(
    dataset: Annotated[str, typer.Argument(help="A source, as train's --data takes it (docs/data.md).")],
    settings: dict[str, Any] | None = None,
) -> None:
    """Kind, languages, ids, candidates per language and validation findings of a dataset."""
    args = InfoSettings.from_flags(settings or {})
    from hybridbatch.data.info import collection_info, render_info
    from hybridbatch.data.registry import load_source

    info = collection_info(load_source(dataset))
    typer.echo(info.model_dump_json(indent=2) if args.as_json else render_info(info))


@settings_options(ExportSettings.model_fields)
def data_export(
    dataset: Annotated[str, typer.Argument(help="Dataset name (xquad-r, mlqa-r) or path.")],
    out: Annotated[str, typer.Argument(help="Output .jsonl file (one record per id and language).")],
    settings: dict[str, Any] | None = None,
) -> None:
    """Write a dataset in the JSONL format (see hybridbatch.data.jsonl) and print the path."""
    args = ExportSettings.from_flags(settings or {})
    from hybridbatch.data import load_collection, write_jsonl
    from hybridbatch.io import prepare_output_file

    prepare_output_file(out, args.overwrite, flag="OUT")
    typer.echo(str(write_jsonl(load_collection(dataset), out)))


@settings_options(TranslateCommandSettings.model_fields, flags=TranslateCommandSettings.FLAGS)
def data_translate(
    source: Annotated[
        str, typer.Argument(help="Collection to translate: dataset name or path (e.g. mlqa-r).")
    ],
    settings: dict[str, Any] | None = None,
) -> None:
    """Machine-translate a collection's English (--from) side into --to languages, for train --data.

    Questions and every sentence of each paragraph are translated one by one (answer index, hard
    negatives and parallel ids survive). Sentences are cached: a rerun translates only what is missing."""
    from hybridbatch.io import prepare_output_dir

    if "to" not in (settings or {}):
        raise typer.BadParameter("give the target languages, e.g. --to es,ca", param_hint="'--to'")
    args = TranslateCommandSettings.from_flags(settings or {})
    config, out = args.translation(), args.out
    prepare_output_dir(out, "translation", args.overwrite)
    from hybridbatch.data.translation import translate_dataset

    report = translate_dataset(source, out, config, show_progress=not args.quiet)
    totals = report["totals"]
    typer.echo(
        f"translated {report['source_ids']} ids into {', '.join(config.to)}: "
        f"{totals['translated']} sentences translated, {totals['cached']} from the cache, "
        f"{totals['failed']} failed; wrote {out}"
    )


@settings_options(BuildSettings.model_fields)
def models_build(
    spec: Annotated[str, typer.Argument(help="builtin:multilingual-e5-small or builtin:tiny.")],
    settings: dict[str, Any] | None = None,
) -> None:
    """Build a builtin model into the model cache and print its path."""
    args = BuildSettings.from_flags(settings or {})
    from hybridbatch.models import build_builtin

    typer.echo(str(build_builtin(spec, force=args.force)))


@settings_options(InfoSettings.model_fields, flags=InfoSettings.FLAGS)
def models_info(
    spec: Annotated[str, typer.Argument(help="builtin:<name>, a model directory or a Hugging Face id.")],
    settings: dict[str, Any] | None = None,
) -> None:
    """Parameters, embedding size, max length, prompts and training metadata of a model."""
    args = InfoSettings.from_flags(settings or {})
    from hybridbatch.models.info import model_info, render_model_info

    info = model_info(spec)
    typer.echo(info.model_dump_json(indent=2) if args.as_json else render_model_info(info))
