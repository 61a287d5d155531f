"""The ``hybridbatch`` command line: root app, error handling, the verbs of :mod:`hybridbatch.commands`.

Every command is a few lines that parse flags and call the library. Errors a user can fix
(:class:`hybridbatch.errors.HybridbatchError`, bad flags) print one line on stderr and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from hybridbatch.commands import comparison, data, evaluation, neutrality, search, training
from hybridbatch.errors import HybridbatchError


class _Group(TyperGroup):
    """Lists each command with the first paragraph of its help, wrapped rather than cut off."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                text = command.short_help or (command.help or "").strip().split("\n\n")[0]
                rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    cls=_Group,
    name="hybridbatch",
    help="Train, evaluate and serve language-agnostic multilingual dense retrievers "
    "(hybrid batch training, arXiv 2408.10536).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # click's plain help: option names never truncated, defaults shown
    context_settings={"max_content_width": 120},
)
data_app = typer.Typer(cls=_Group, help="Inspect, export and translate datasets.", no_args_is_help=True)
models_app = typer.Typer(cls=_Group, help="Build and inspect models.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")

_state = {"debug": False}

# The verbs, one module per concept (hybridbatch.commands.*); the order is the order of --help.
data_app.command("info")(data.data_info)
data_app.command("export")(data.data_export)
data_app.command("translate")(data.data_translate)
models_app.command("build")(data.models_build)
models_app.command("info")(data.models_info)
app.command("batches")(training.batches)
app.command("train")(training.train_cmd)
app.command("evaluate")(evaluation.evaluate_cmd)
app.command("compare")(comparison.compare_cmd)
app.command("index")(search.index_build)
app.command("search")(search.search_index)
app.command("serve")(search.serve_index)
app.command("evaluate-retrieval")(evaluation.evaluate_retrieval)
app.command("neutralize")(neutrality.neutralize_cmd)
app.command("merge")(neutrality.merge_cmd)
app.command("study")(comparison.study_cmd)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def quiet_library_progress() -> None:
    """No transformers / huggingface_hub progress bars ("Loading weights", "Writing model shards") on
    model loads and saves: the commands show their own progress only, and none under ``--quiet``.
    ``HF_HUB_DISABLE_PROGRESS_BARS=0`` in the environment brings them back."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers is imported
    hf_logging = sys.modules.get("transformers.utils.logging")  # already imported (an embedding caller)
    if hf_logging is not None and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1":
        hf_logging.disable_progress_bar()


def main() -> None:
    """Console entry point: run the app, turning user errors into one line and exit code 2."""
    debug = "--debug" in sys.argv
    quiet_library_progress()
    try:
        app(standalone_mode=False, prog_name="hybridbatch")
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
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `hybridbatch` (or a group): its help
            typer.echo(exc.format_message(), err=True)  # type: ignore[attr-defined]
            sys.exit(2)
        if isinstance(exc, _usage_errors()):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        if debug:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
        sys.exit(1)


def _usage_errors() -> tuple[type[Exception], ...]:
    """Bad-flag exceptions: Typer ships its own copy of click (``typer._click``) beside click."""
    import click

    kinds: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # older Typer uses click itself
        pass
    else:
        kinds.append(ClickException)
    return tuple(kinds)


if __name__ == "__main__":
    main()
