"""The ``hybridbatch`` command line: a verb per entry point, each wiring one subpackage.

Every command is a few lines that parse flags and call the library. Errors a user can fix
(:class:`hybridbatch.errors.HybridbatchError`, bad flags) print one line on stderr and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from hybridbatch.comparison.config import ComparisonConfig
from hybridbatch.errors import HybridbatchError
from hybridbatch.sampling.config import SamplerConfig
from hybridbatch.settings import settings_options
from hybridbatch.training.config import TrainConfig


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
data_app = typer.Typer(cls=_Group, help="Inspect parallel QA datasets.", no_args_is_help=True)
models_app = typer.Typer(cls=_Group, help="Build and inspect models.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")

_state = {"debug": False}
OVERWRITE_HELP = "Write into a non-empty --out that is not an output of this command (deletes nothing)."
# Flags generated from the settings models (hybridbatch.settings): each declared once, there.
BATCH_FIELDS = {k: v for k, v in SamplerConfig.model_fields.items() if k != "steps"}
TRAIN_FIELDS = {k: v for k, v in TrainConfig.flat_fields().items() if k != "show_progress"}
COMPARE_FIELDS = {
    k: v for k, v in ComparisonConfig.model_fields.items() if k not in ("out", "train_settings")
}


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
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing OUT file.")] = False,
) -> None:
    """Write a dataset in the JSONL format (see hybridbatch.data.jsonl) and print the path."""
    from hybridbatch.data import load_collection, write_jsonl
    from hybridbatch.io import prepare_output_file

    prepare_output_file(out, overwrite, flag="OUT")
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


@models_app.command("info")
def models_info(
    spec: Annotated[str, typer.Argument(help="builtin:<name>, a model directory or a Hugging Face id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Parameters, embedding size, max length, prompts and training metadata of a model."""
    from hybridbatch.models.info import model_info, render_model_info

    info = model_info(spec)
    typer.echo(info.model_dump_json(indent=2) if as_json else render_model_info(info))


# ----------------------------------------------------------------------------------------------
# batches  (owner: sampling)
# ----------------------------------------------------------------------------------------------
@app.command("batches")
@settings_options(BATCH_FIELDS, flags={"strategy": "--sampler"})
def batches(
    data: Annotated[list[str], typer.Option("--data", help="Training dataset (name or path); repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="JSONL file: one planned batch per line.")],
    steps: Annotated[int, typer.Option(min=1, help="Number of batches to plan.")] = 1000,
    top: Annotated[int, typer.Option(min=1, help="Language pairs to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    settings: dict[str, Any] | None = None,
) -> None:
    """Plan the batches a training run would draw (dry run) and summarize the mix."""
    from hybridbatch.data import load_collection
    from hybridbatch.sampling import SamplerConfig, build_sampler
    from hybridbatch.sampling.plan import render_summary, write_plan

    config = SamplerConfig.validated({**(settings or {}), "steps": steps}, flags=settings or {})
    summary = write_plan(build_sampler(config, [load_collection(d) for d in data]), out, steps, top)
    typer.echo(summary.model_dump_json(indent=2)) if as_json else render_summary(summary)
    typer.echo(f"wrote {summary.steps} batches to {out}", err=as_json)


# ----------------------------------------------------------------------------------------------
# train  (owner: training)
# ----------------------------------------------------------------------------------------------
@app.command("train")
@settings_options(TRAIN_FIELDS, flags={"num_threads": "--threads"})
def train_cmd(
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML settings file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    settings: dict[str, Any] | None = None,
) -> None:
    """Train a retriever with hybrid (X-X / X-Y) batches; rerunning with the same --out resumes."""
    from hybridbatch.training import load_train_config

    config = load_train_config(config_file, **(settings or {}), show_progress=False if quiet else None)
    from hybridbatch.training.checkpoint import prepare_run_dir  # torch: only once the settings are valid
    from hybridbatch.training.trainer import console_logging, format_result, train

    prepare_run_dir(config.out, overwrite)
    console_logging()
    result = train(config)
    if result.rank == 0:
        typer.echo(format_result(result))


# ----------------------------------------------------------------------------------------------
# evaluate  (owner: evaluation)
# ----------------------------------------------------------------------------------------------
@app.command("evaluate")
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
    precision: Annotated[str, typer.Option("--precision", help="fp32, or int8 (fast CPU path).")] = "fp32",
) -> None:
    """Mono / Cross / Multi mAP, Recall, rank distance on LAReQA-format data; writes a report with plots."""
    from rich.console import Console

    from hybridbatch.io import marked_output, prepare_output_dir
    from hybridbatch.models.encoding import check_precision

    precision = check_precision(precision)
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
            model, data, target, settings.split(","), batch_size, True, cache_dir, with_context=with_context,
            transform=transform, precision=precision,
        )  # fmt: skip
        if transform is not None:  # how the neutralization was fitted, beside the report
            from hybridbatch.io import atomic_write_json

            atomic_write_json(target / "neutralization.json", transform.fits)
            typer.echo(f"neutralized: {'; '.join(_fit_line(f) for f in transform.fits)}", err=True)
    Console(width=max(Console().width, 120)).print(render_summary(report))
    typer.echo(f"wrote {out}/report.json, report.md and plots")


# ----------------------------------------------------------------------------------------------
# compare  (owner: comparison)
# ----------------------------------------------------------------------------------------------
@app.command("compare")
@settings_options(COMPARE_FIELDS, flags={"alphas": "--alpha"})
def compare_cmd(
    out: Annotated[Path, typer.Option(help="Comparison directory; rerun to resume.")],
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML of settings.")] = None,
    quick: Annotated[bool, typer.Option(help="A few-minute trial: small budget and batch.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    seeds: Annotated[
        str | None, typer.Option("--seeds", help="Train every run once per seed, e.g. 0,1,2.")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Run tested against [default: hybrid].")
    ] = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Train one model per strategy (same data, seed, budget) and compare them on held-out data.

    Every run is tested against the reference over the same queries (95% CI, p-value); --seeds adds
    mean ± std across seeds; --eval afriqa[:split] adds AfriQA (see hybridbatch.comparison.seeds).
    """
    from hybridbatch.comparison.cli import build_config, prepare_comparison_dir, print_table
    from hybridbatch.comparison.seeds import compare_seeds, parse_seeds, print_significance

    config = build_config(out, settings or {}, config_file, quick)
    seed_list = parse_seeds(seeds, config.seed)
    prepare_comparison_dir(config.out, overwrite)
    result = compare_seeds(config, seed_list, reference)
    print_table(result.reports[seed_list[0]])
    print_significance(result)


# ----------------------------------------------------------------------------------------------
# index / search / serve  (owner: search)
# ----------------------------------------------------------------------------------------------
@app.command("index")
def index_build(
    model: Annotated[str, typer.Option("--model", help="Model spec (builtin:..., path, HF id).")],
    corpus: Annotated[str, typer.Option("--corpus", help="BEIR dir, JSONL {id,text[,lang]}, or dataset.")],
    out: Annotated[str, typer.Option("--out", help="Index directory to write.")],
    hnsw: Annotated[bool, typer.Option("--hnsw", help="Approximate HNSW index instead of exact.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Encoding batch size.")] = 64,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    neutralize: Annotated[str | None, typer.Option("--neutralize", help="lsar or center.")] = None,
) -> None:
    """Encode a corpus with a model and save a dense (faiss) index directory."""
    from hybridbatch.io import prepare_output_dir

    if neutralize:  # hybridbatch.neutrality: fitted on this corpus's texts and languages
        from hybridbatch.neutrality import check_method

        neutralize = check_method(neutralize)
    prepare_output_dir(out, "index", overwrite)
    from hybridbatch.search import build_index

    index = build_index(model, corpus, out, hnsw=hnsw, batch_size=batch_size, neutralize=neutralize)
    typer.echo(f"indexed {len(index)} documents (dim {index.info.dim}) into {out}")


@app.command("search")
def search_index(
    query: Annotated[str, typer.Argument(help="Query text.")],
    index: Annotated[str, typer.Option("--index", help="Index directory (hybridbatch index).")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Number of hits.")] = 10,
    lang: Annotated[str | None, typer.Option("--lang", help="Only documents of this language.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Override the index's model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as one JSON list.")] = False,
    query_lang: Annotated[str | None, typer.Option("--query-lang", help="Query language (center).")] = None,
) -> None:
    """Search an index and print the top hits."""
    from hybridbatch.search import DenseIndex, render_hits

    if not query.strip():
        raise HybridbatchError("QUERY: empty query text")
    hits = DenseIndex.load(index, model=model).search([query], k=k, lang=lang, query_lang=query_lang)[0]
    typer.echo(render_hits(hits, as_json=as_json))


@app.command("serve")
def serve_index(
    index: Annotated[str, typer.Option("--index", help="Index directory (hybridbatch index).")],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0 = any free).")] = 8000,
    model: Annotated[str | None, typer.Option("--model", help="Override the index's model.")] = None,
    max_k: Annotated[int, typer.Option(min=1, help="Largest k per query (else 422).")] = 1000,
    max_queries: Annotated[int, typer.Option(min=1, help="Queries per request (else 422).")] = 64,
    max_hits: Annotated[int, typer.Option(min=1, help="queries x k per request (else 422).")] = 10_000,
    max_query_chars: Annotated[int, typer.Option(min=1, help="Characters per query (else 422).")] = 2000,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Request body limit (else 413).")] = 1 << 20,
    max_response_bytes: Annotated[int, typer.Option(min=1, help="Response limit (else 413).")] = 8 << 20,
    max_batch: Annotated[int, typer.Option(min=1, help="Queries per encode call (1 = no batching).")] = 32,
    max_wait_ms: Annotated[float, typer.Option(min=0, max=1000, help="Wait to fill a batch.")] = 5.0,
    max_queue: Annotated[int, typer.Option(min=1, help="Requests waiting to encode (else 503).")] = 1024,
    request_timeout: Annotated[
        float, typer.Option(min=0.01, max=3600, help="Seconds to receive headers+body (else 408).")
    ] = 10.0,
    max_connections: Annotated[int, typer.Option(min=1, help="Open connections (else 503).")] = 256,
    keep_alive: Annotated[int, typer.Option(min=1, max=3600, help="Idle keep-alive seconds.")] = 5,
    graceful_timeout: Annotated[int, typer.Option(min=1, help="Seconds to finish on shutdown.")] = 10,
) -> None:
    """Serve an index over HTTP (FastAPI + uvicorn): POST /search, GET /health, GET /info, /docs."""
    from hybridbatch.search.limits import ServiceLimits
    from hybridbatch.search.server import serve

    limits = ServiceLimits(
        max_body_bytes=max_body_bytes, max_response_bytes=max_response_bytes, max_k=max_k,
        max_queries=max_queries, max_query_chars=max_query_chars, max_hits=max_hits, max_batch=max_batch,
        max_wait_ms=max_wait_ms, max_queue=max_queue, request_timeout=request_timeout,
    )  # fmt: skip
    serve(
        index, host=host, port=port, model=model, limits=limits, max_connections=max_connections,
        keep_alive=keep_alive, graceful_timeout=graceful_timeout,
    )  # fmt: skip


@app.command("evaluate-retrieval")
def evaluate_retrieval(
    model: Annotated[str, typer.Option("--model", help="Model spec (builtin:..., path, HF id).")],
    data: Annotated[str, typer.Option("--data", help="BEIR/MIRACL dir, a dir of them, or afriqa.")],
    out: Annotated[
        str | None, typer.Option("--out", help="Directory for report.json and report.md (afriqa: optional).")
    ] = None,
    split: Annotated[str | None, typer.Option("--split", help="Split (BEIR: dev; afriqa: test).")] = None,
    k: Annotated[list[int], typer.Option("-k", "--k", help="Cutoffs (repeatable).")] = [10, 100],  # noqa: B006
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Encoding batch size.")] = 64,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Dense retrieval on a BEIR-layout dataset (MIRACL) or AfriQA: nDCG@k, Recall@k, MRR@k."""
    from hybridbatch.io import marked_output, prepare_output_dir

    if data == "afriqa":  # cross-lingual AfriQA, native vs translate-test (hybridbatch.evaluation.afriqa)
        from hybridbatch.evaluation.afriqa import afriqa_command

        typer.echo(afriqa_command(model, split, out, batch_size, k_values=k, overwrite=overwrite))
        return
    if out is None:
        from hybridbatch.errors import ConfigError

        raise ConfigError("--out: required for BEIR data (a directory for report.json and report.md)")
    target = prepare_output_dir(out, "retrieval-evaluation", overwrite)
    from hybridbatch.evaluation.beir import evaluate_beir, render_beir_report, write_beir_report

    split = split or "dev"
    report = evaluate_beir(model, data, split=split, k_values=k, batch_size=batch_size, show_progress=True)
    with marked_output(target, "retrieval-evaluation"):
        write_beir_report(report, target)
    typer.echo(render_beir_report(report) + f"\nwrote {out}/report.json and report.md")


# ----------------------------------------------------------------------------------------------
# neutralize / merge  (owner: neutrality)
# ----------------------------------------------------------------------------------------------
@app.command("neutralize")
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
    typer.echo(f"{lmap.method}: rank {lmap.rank}, fitted on {len(lmap.languages)} languages "
               f"({', '.join(lmap.languages)}) of {lmap.source}")  # fmt: skip
    if missing:
        typer.echo(f"training languages missing from {fit_on}: {', '.join(missing)}", err=True)
    typer.echo(f"wrote {path}")


def _fit_line(fit: dict) -> str:
    return f"{fit['method']} r={fit['rank']} fitted on {fit['source']} ({', '.join(fit['languages'])})"


@app.command("merge")
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


# ----------------------------------------------------------------------------------------------
# study  (owner: studies)
# ----------------------------------------------------------------------------------------------
@app.command("study")
def study_cmd(
    config: Annotated[Path, typer.Argument(help="Study YAML (e.g. benchmarks/studies/low-resource.yaml).")],
    train: Annotated[bool, typer.Option("--train", help="Train the missing runs first (slow).")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Markdown path (default: YAML).")] = None,
) -> None:
    """Answer one research question: reuse (or train) its runs, evaluate, test, write the study Markdown."""
    from hybridbatch.comparison.study import load_study
    from hybridbatch.comparison.study_report import write_study
    from hybridbatch.comparison.study_run import run_study

    result = run_study(load_study(config), train=train)
    path = write_study(result, report)
    missing = sorted({r.label for r in result.missing})
    note = f" (not yet run: {', '.join(missing)}; --train trains them)" if missing else ""
    typer.echo(f"wrote {path}{note}")


if __name__ == "__main__":
    main()
