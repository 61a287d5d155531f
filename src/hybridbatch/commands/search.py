"""``hybridbatch index``, ``search`` and ``serve``.

Thin wiring: parse flags, validate, call the library (heavy imports inside the function)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hybridbatch.commands import OVERWRITE_HELP, PRECISION_HELP
from hybridbatch.errors import HybridbatchError
from hybridbatch.search.limits import ServiceLimits
from hybridbatch.search.security import SecuritySettings
from hybridbatch.search.storage import IndexLoading
from hybridbatch.settings import settings_options

# serve's flags are generated from the settings models (hybridbatch.settings): each declared once, there.
LIMIT_FIELDS = ServiceLimits.model_fields
SECURITY_FIELDS = SecuritySettings.model_fields
LOADING_FIELDS = IndexLoading.model_fields  # --verify/--no-verify of search and serve
SERVE_FIELDS = {**LIMIT_FIELDS, **SECURITY_FIELDS, **LOADING_FIELDS}


def index_build(
    model: Annotated[str, typer.Option("--model", help="Model spec (builtin:..., path, HF id).")],
    corpus: Annotated[str, typer.Option("--corpus", help="BEIR dir, JSONL {id,text[,lang]}, or dataset.")],
    out: Annotated[str, typer.Option("--out", help="Index directory to write.")],
    hnsw: Annotated[bool, typer.Option("--hnsw", help="Approximate HNSW index instead of exact.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Encoding batch size.")] = 64,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    neutralize: Annotated[str | None, typer.Option("--neutralize", help="lsar or center.")] = None,
    precision: Annotated[
        str, typer.Option("--precision", help=f"Documents and later queries: {PRECISION_HELP}")
    ] = "fp32",
) -> None:
    """Encode a corpus with a model and save a dense (faiss) index directory."""
    from hybridbatch.models.encoding import check_precision

    precision = check_precision(precision)
    from hybridbatch.io import prepare_output_dir

    if neutralize:  # hybridbatch.neutrality: fitted on this corpus's texts and languages
        from hybridbatch.neutrality import check_method

        neutralize = check_method(neutralize)
    prepare_output_dir(out, "index", overwrite)
    from hybridbatch.search import build_index

    index = build_index(
        model, corpus, out, hnsw=hnsw, batch_size=batch_size, neutralize=neutralize, precision=precision
    )
    typer.echo(f"indexed {len(index)} documents (dim {index.info.dim}) into {out}")


@settings_options(LOADING_FIELDS)
def search_index(
    query: Annotated[str, typer.Argument(help="Query text.")],
    index: Annotated[str, typer.Option("--index", help="Index directory (hybridbatch index).")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Number of hits.")] = 10,
    lang: Annotated[str | None, typer.Option("--lang", help="Only documents of this language.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Override the index's model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as one JSON list.")] = False,
    query_lang: Annotated[str | None, typer.Option("--query-lang", help="Query language (center).")] = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Search an index and print the top hits."""
    from hybridbatch.search import DenseIndex, render_hits

    if not query.strip():
        raise HybridbatchError("QUERY: empty query text")
    loading = IndexLoading.validated(settings or {}, flags=settings or {})
    loaded = DenseIndex.load(index, model=model, verify=loading.verify)
    hits = loaded.search([query], k=k, lang=lang, query_lang=query_lang)[0]
    typer.echo(render_hits(hits, as_json=as_json))


@settings_options(SERVE_FIELDS, flags={"allowed_hosts": "--allowed-host"})
def serve_index(
    index: Annotated[str, typer.Option("--index", help="Index directory (hybridbatch index).")],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0 = any free).")] = 8000,
    model: Annotated[str | None, typer.Option("--model", help="Override the index's model.")] = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Serve an index over HTTP (FastAPI + uvicorn): POST /search, GET /health, GET /info, /docs."""
    from hybridbatch.search.limits import ServiceLimits
    from hybridbatch.search.security import SecuritySettings
    from hybridbatch.search.server import serve

    given = settings or {}
    limits = ServiceLimits.validated({k: v for k, v in given.items() if k in LIMIT_FIELDS}, flags=given)
    security = SecuritySettings.validated(
        {k: v for k, v in given.items() if k in SECURITY_FIELDS}, flags=given
    )
    loading = IndexLoading.validated({k: v for k, v in given.items() if k in LOADING_FIELDS}, flags=given)
    serve(index, host=host, port=port, model=model, limits=limits, security=security, verify=loading.verify)
