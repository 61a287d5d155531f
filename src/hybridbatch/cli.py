"""The ``hybridbatch`` command line: a verb per entry point, each wiring one subpackage.

Every command is a few lines that parse flags and call the library. Errors a user can fix
(:class:`hybridbatch.errors.HybridbatchError`, bad flags) print one line on stderr and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hybridbatch.errors import HybridbatchError

app = typer.Typer(
    name="hybridbatch",
    help="Train, evaluate and serve language-agnostic multilingual dense retrievers "
    "(hybrid batch training, arXiv 2408.10536).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Inspect parallel QA datasets.", no_args_is_help=True)
models_app = typer.Typer(help="Build and inspect models.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def main() -> None:
    """Console entry point: run the app, turning user errors into one line and exit code 2."""
    debug = "--debug" in sys.argv
    try:
        app(standalone_mode=False)
    except HybridbatchError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        if debug:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
        sys.exit(1)


# ----------------------------------------------------------------------------------------------
# data  (owner: data layer)
# ----------------------------------------------------------------------------------------------
@data_app.command("info")
def data_info(
    dataset: Annotated[str, typer.Argument(help="Dataset name (xquad-r, mlqa-r) or path.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Languages, ids, candidates per language and validation findings of a dataset."""
    from hybridbatch.data import load_collection
    from hybridbatch.data.info import collection_info, render_info

    info = collection_info(load_collection(dataset))
    typer.echo(info.model_dump_json(indent=2) if as_json else render_info(info))


@data_app.command("export")
def data_export(
    dataset: Annotated[str, typer.Argument(help="Dataset name (xquad-r, mlqa-r) or path.")],
    out: Annotated[str, typer.Argument(help="Output .jsonl file (one record per id and language).")],
) -> None:
    """Write a dataset in the JSONL format (see hybridbatch.data.jsonl) and print the path."""
    from hybridbatch.data import load_collection, write_jsonl

    typer.echo(str(write_jsonl(load_collection(dataset), out)))


# ----------------------------------------------------------------------------------------------
# models  (owner: models)
# ----------------------------------------------------------------------------------------------
@models_app.command("build")
def models_build(
    spec: Annotated[str, typer.Argument(help="builtin:multilingual-e5-small or builtin:tiny.")],
    force: Annotated[bool, typer.Option(help="Rebuild even if cached.")] = False,
) -> None:
    """Build a builtin model into the model cache and print its path."""
    from hybridbatch.models import build_builtin

    typer.echo(str(build_builtin(spec, force=force)))


# ----------------------------------------------------------------------------------------------
# batches  (owner: sampling)
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# train  (owner: training)
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# evaluate  (owner: evaluation)
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# compare  (owner: comparison)
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# index / search / serve  (owner: search)
# ----------------------------------------------------------------------------------------------


if __name__ == "__main__":
    main()
