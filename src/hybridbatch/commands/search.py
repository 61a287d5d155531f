"""``hybridbatch index``, ``search`` and ``serve``.

Thin wiring: flags generated from the settings models of :mod:`.inputs` (serve's limits, access rules
and index loading declared in :mod:`hybridbatch.search`), validated, then one library call (heavy
imports inside the function)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hybridbatch.commands.inputs import IndexSettings, SearchSettings, ServeSettings
from hybridbatch.errors import HybridbatchError
from hybridbatch.search.limits import ServiceLimits
from hybridbatch.search.security import SecuritySettings
from hybridbatch.settings import settings_options


@settings_options(IndexSettings.model_fields)
def index_build(settings: dict[str, Any] | None = None) -> None:
    """Encode a corpus with a model and save a dense (faiss) index directory."""
    args = IndexSettings.from_flags(settings or {})
    from hybridbatch.io import prepare_output_dir

    prepare_output_dir(args.out, "index", args.overwrite)
    from hybridbatch.search import build_index

    options = args.model_dump(include={"hnsw", "batch_size", "neutralize", "precision"})
    index = build_index(args.model, args.corpus, args.out, **options)
    typer.echo(f"indexed {len(index)} documents (dim {index.info.dim}) into {args.out}")


@settings_options(SearchSettings.model_fields, flags=SearchSettings.FLAGS)
def search_index(
    query: Annotated[str, typer.Argument(help="Query text.")],
    settings: dict[str, Any] | None = None,
) -> None:
    """Search an index and print the top hits."""
    args = SearchSettings.from_flags(settings or {})
    from hybridbatch.search import DenseIndex, render_hits

    if not query.strip():
        raise HybridbatchError("QUERY: empty query text")
    loaded = DenseIndex.load(args.index, model=args.model, verify=args.verify)
    hits = loaded.search([query], k=args.k, lang=args.lang, query_lang=args.query_lang)[0]
    typer.echo(render_hits(hits, as_json=args.as_json))


@settings_options(ServeSettings.model_fields, flags=ServeSettings.FLAGS)
def serve_index(settings: dict[str, Any] | None = None) -> None:
    """Serve an index over HTTP (FastAPI + uvicorn): POST /search, GET /health, GET /info, /docs."""
    args = ServeSettings.from_flags(settings or {})
    from hybridbatch.search.server import serve

    limits, security = args.part(ServiceLimits), args.part(SecuritySettings)
    serve(
        args.index,
        args.host,
        args.port,
        model=args.model,
        limits=limits,
        security=security,
        verify=args.verify,
    )
