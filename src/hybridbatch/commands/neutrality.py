"""``hybridbatch neutralize`` and ``hybridbatch merge`` (training-free language neutrality).

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

from typing import Annotated

import typer


def neutralize_cmd(
    model: Annotated[str, typer.Option("--model", help="Model spec (builtin:..., path, HF id).")],
    fit_on: Annotated[str, typer.Option("--fit-on", help="Dataset/LAReQA dir (pools), or corpus with lang.")],
    out: Annotated[str, typer.Option("--out", help="Directory of the new sentence-transformers model.")],
    method: Annotated[str, typer.Option("--method", help="lsar (no language id) or center.")] = "lsar",
    rank: Annotated[int | None, typer.Option("--rank", min=1, help="LSAR rank r (default L-1).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Encoding batch size.")] = 64,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="No cached embeddings.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Write into a non-empty --out.")] = False,
) -> None:
    """Fit LSAR (Xie et al. 2022) or centering on SOURCE and save the model with the projection built in."""
    from hybridbatch.io import prepare_output_dir
    from hybridbatch.neutrality import check_method

    method = check_method(method)
    target = prepare_output_dir(out, "model", overwrite)
    from hybridbatch.neutrality.model import neutralize_model
    from hybridbatch.paths import embeddings_home

    cache = None if no_cache else embeddings_home()
    path, lmap, missing = neutralize_model(model, fit_on, method, target, rank, batch_size, cache)
    typer.echo(
        f"{lmap.method}: rank {lmap.rank}, fitted on {len(lmap.languages)} languages "
        f"({', '.join(lmap.languages)}) of {lmap.source}"
    )
    if missing:
        typer.echo(f"training languages missing from {fit_on}: {', '.join(missing)}", err=True)
    typer.echo(f"wrote {path}")


def fit_line(fit: dict) -> str:
    """One line saying how an embedding neutralization was fitted."""
    return f"{fit['method']} r={fit['rank']} fitted on {fit['source']} ({', '.join(fit['languages'])})"


def merge_cmd(
    out: Annotated[str, typer.Option("--out", help="Directory of the merged model.")],
    base: Annotated[str | None, typer.Option("--base", help="Base model A (λ = 0).")] = None,
    tuned: Annotated[str | None, typer.Option("--tuned", help="Fine-tuned model B (λ = 1).")] = None,
    weight: Annotated[float, typer.Option("--weight", help="λ in [0, 1]: (1-λ)·A + λ·B.")] = 0.5,
    average: Annotated[list[str] | None, typer.Option("--average", help="Checkpoints to average.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Write into a non-empty --out.")] = False,
) -> None:
    """WiSE-FT weight interpolation (Wortsman et al. 2022) or uniform checkpoint averaging."""
    from hybridbatch.errors import ConfigError
    from hybridbatch.io import prepare_output_dir
    from hybridbatch.neutrality.merge import check_weight

    if bool(average) == bool(base or tuned) or (not average and not (base and tuned)):
        raise ConfigError("give either --base A --tuned B [--weight λ] or --average CKPT --average CKPT ...")
    if not average:
        check_weight(weight)
    target = prepare_output_dir(out, "model", overwrite)
    from hybridbatch.neutrality.merge import average_models, merge_models

    path = average_models(average, target) if average else merge_models(base, tuned, weight, target)
    typer.echo(f"wrote {path}")
