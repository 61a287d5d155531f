"""``hybridbatch neutralize`` and ``hybridbatch merge`` (training-free language neutrality).

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

from typing import Any

import typer

from hybridbatch.commands.inputs import MergeSettings, NeutralizeSettings
from hybridbatch.settings import settings_options


@settings_options(NeutralizeSettings.model_fields)
def neutralize_cmd(settings: dict[str, Any] | None = None) -> None:
    """Fit LSAR (Xie et al. 2022) or centering on SOURCE and save the model with the projection built in."""
    from hybridbatch.io import prepare_output_dir

    args = NeutralizeSettings.from_flags(settings or {})
    target = prepare_output_dir(args.out, "model", args.overwrite)
    from hybridbatch.neutrality.model import neutralize_model
    from hybridbatch.paths import embeddings_home

    cache = None if args.no_cache else embeddings_home()
    path, lmap, missing = neutralize_model(
        args.model, args.fit_on, args.method, target, args.rank, args.batch_size, cache
    )
    typer.echo(
        f"{lmap.method}: rank {lmap.rank}, fitted on {len(lmap.languages)} languages "
        f"({', '.join(lmap.languages)}) of {lmap.source}"
    )
    if missing:
        typer.echo(f"training languages missing from {args.fit_on}: {', '.join(missing)}", err=True)
    typer.echo(f"wrote {path}")


def fit_line(fit: dict) -> str:
    """One line saying how an embedding neutralization was fitted."""
    return f"{fit['method']} r={fit['rank']} fitted on {fit['source']} ({', '.join(fit['languages'])})"


@settings_options(MergeSettings.model_fields)
def merge_cmd(settings: dict[str, Any] | None = None) -> None:
    """WiSE-FT weight interpolation (Wortsman et al. 2022) or uniform checkpoint averaging."""
    from hybridbatch.errors import ConfigError
    from hybridbatch.io import prepare_output_dir

    args = MergeSettings.from_flags(settings or {})
    base, tuned, average = args.base, args.tuned, args.average
    if bool(average) == bool(base or tuned) or (not average and not (base and tuned)):
        raise ConfigError("give either --base A --tuned B [--weight λ] or --average CKPT --average CKPT ...")
    target = prepare_output_dir(args.out, "model", args.overwrite)
    from hybridbatch.neutrality.merge import average_models, merge_models

    path = average_models(average, target) if average else merge_models(base, tuned, args.weight, target)
    typer.echo(f"wrote {path}")
