"""The search service as an ASGI application (FastAPI): endpoints, request limits, structured errors.

``POST /search`` takes ``{"query": str | [str], "k": int = 10, "lang": str | null}`` and answers
``{"hits": [...]}`` (one query) or ``{"results": [{"query", "hits"}, ...]}`` (a list); each hit is
``{"id", "score", "text", "lang"}``. ``query_lang`` (the queries' language) matters only for an index
built with ``--neutralize center``. ``GET /health``, ``GET /info``; the OpenAPI page is ``/docs``.
Concurrent queries are encoded together by a :class:`~hybridbatch.search.batching.MicroBatcher`.
Every error is ``{"error": message, "code": kind, "field": name | null}``: 400 malformed body,
408 body too slow, 413 body or response too large, 422 invalid field, 503 overloaded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hybridbatch.errors import DataError
from hybridbatch.search.batching import MicroBatcher, Overloaded, ShuttingDown
from hybridbatch.search.docs_page import add_docs_page
from hybridbatch.search.index import DenseIndex
from hybridbatch.search.limits import ApiError, ServiceLimits, clip, read_body, request_error

Encoder = Callable[[list[str], list[str | None]], np.ndarray]  # (queries, their languages) -> embeddings
Job = tuple[list[str], int, str | None, str | None]  # queries, k, lang, query_lang


class SearchRequest(BaseModel):
    """The body of ``POST /search`` (limits: see ``GET /info`` → ``server``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    query: str | list[str] = Field(description="One query, or a list of queries.")
    k: int = Field(10, description="Hits per query.")
    lang: str | None = Field(None, description="Only documents of this language (e.g. 'de').")
    query_lang: str | None = Field(None, description="The queries' language (a 'center'-neutralized index).")


class HitOut(BaseModel):
    id: str
    score: float
    text: str
    lang: str | None


class SearchResponse(BaseModel):
    hits: list[HitOut]


class QueryResult(BaseModel):
    query: str
    hits: list[HitOut]


class BatchSearchResponse(BaseModel):
    results: list[QueryResult]


class Health(BaseModel):
    status: str
    documents: int


class ErrorBody(BaseModel):
    error: str
    code: str
    field: str | None = None


ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 408, 413, 415, 422, 503)}


def query_encoder(index: DenseIndex) -> Encoder:
    """The index's own query encoding (model, prompt, neutralization), one call per list of texts."""
    return lambda texts, langs: index.encode_queries(texts, len(texts), langs)


def search_batch(index: DenseIndex, encoder: Encoder, jobs: list[Job]) -> list:
    """Encode every job's queries in one call, then search each job; one result (or error) per job."""
    emb = encoder([q for job in jobs for q in job[0]], [job[3] for job in jobs for _ in job[0]])
    results: list[Any] = []
    start = 0
    docs = index.documents
    for queries, k, lang, _ in jobs:
        part, start = emb[start : start + len(queries)], start + len(queries)
        try:
            scores, rows = index.search_rows(part, k, lang)
        except DataError as exc:  # a language without documents (the dimension is checked at startup)
            results.append(ApiError(422, "invalid_field", str(exc), "lang"))
            continue
        results.append(
            [
                [
                    {"id": docs[r].id, "score": float(s), "text": docs[r].text, "lang": docs[r].lang}
                    for s, r in zip(ss, rr, strict=True)
                    if r >= 0
                ]
                for ss, rr in zip(scores, rows, strict=True)
            ]
        )
    return results


def parse_request(body: bytes, limits: ServiceLimits, languages: dict[str, int]) -> SearchRequest:
    """Validate a ``/search`` body against the schema and the limits, or raise :class:`ApiError`."""
    try:
        req = SearchRequest.model_validate_json(body)
    except ValidationError as exc:
        raise request_error(exc.errors()[0], limits) from None
    queries = [req.query] if isinstance(req.query, str) else req.query
    if not queries or len(queries) > limits.max_queries:
        message = f"field 'query' must hold 1 to {limits.max_queries} queries"
        raise ApiError(422, "invalid_field", message, "query")
    if not all(q.strip() for q in queries):
        raise ApiError(422, "invalid_field", "field 'query' holds an empty query", "query")
    if max(len(q) for q in queries) > limits.max_query_chars:
        message = f"field 'query': a query is longer than {limits.max_query_chars} characters"
        raise ApiError(422, "invalid_field", message, "query")
    if not 1 <= req.k <= limits.max_k:
        raise ApiError(422, "invalid_field", f"field 'k' must be an integer from 1 to {limits.max_k}", "k")
    if len(queries) * req.k > limits.max_hits:
        message = f"{len(queries)} queries x k={req.k} is over {limits.max_hits} hits per request; lower k"
        raise ApiError(422, "invalid_field", message, "k")
    if req.lang is not None and req.lang not in languages:
        known = ", ".join(languages) or "none recorded"
        shown = clip(repr(req.lang))
        message = f"field 'lang': the index has no documents in language {shown} (languages: {known})"
        raise ApiError(422, "invalid_field", message, "lang")
    return req


def public_model(spec: str | None) -> str | None:
    """A model spec as ``/info`` shows it: a local path by its directory name only."""
    if spec is None or spec.startswith("builtin:") or not (Path(spec).is_absolute() or Path(spec).exists()):
        return spec
    return Path(spec).name


def create_app(
    index: DenseIndex,
    limits: ServiceLimits | None = None,
    encoder: Encoder | None = None,
    model_spec: str | None = None,
) -> FastAPI:
    """The FastAPI application serving ``index``; ``encoder`` overrides the query encoder (tests);
    ``model_spec``: the model in use when it is not the index's own (``/info``)."""
    limits = limits or ServiceLimits()
    encoder = encoder or query_encoder(index)
    batcher = MicroBatcher(
        lambda jobs: search_batch(index, encoder, jobs),
        max_batch=limits.max_batch,
        max_wait=limits.max_wait_ms / 1000,
        max_queue=limits.max_queue,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.get_running_loop().run_in_executor(None, encoder, ["warm-up"], [None])  # load it now
        await batcher.start()
        yield
        await batcher.stop(timeout=limits.request_timeout)

    app = FastAPI(title="hybridbatch search", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.index, app.state.limits, app.state.batcher = index, limits, batcher
    app.state.model = model_spec or index.info.model
    app.state.unsent_bytes = lambda: 0  # the server's count of answers not yet read (server.py)
    add_docs_page(app)
    add_error_handlers(app)
    add_routes(app, index, limits, batcher)
    return app


def add_routes(app: FastAPI, index: DenseIndex, limits: ServiceLimits, batcher: MicroBatcher) -> None:
    body_schema = {"content": {"application/json": {"schema": SearchRequest.model_json_schema()}}}

    @app.get("/health", response_model=Health)
    async def health() -> dict[str, Any]:
        """Liveness: the number of indexed documents."""
        return {"status": "ok", "documents": len(index)}

    @app.get("/info")
    async def info() -> dict[str, Any]:
        """The index metadata (``index.json``) and the server's limits (``server``)."""
        counters = {
            "queued": batcher.queued,
            "encode_calls": batcher.calls,
            "encoded_queries": batcher.batched_items,
        }
        shown = {"model": public_model(app.state.model), "index_model": public_model(index.info.model)}
        return {**index.info.model_dump(), **shown, "server": {**limits.as_dict(), **counters}}

    @app.post(
        "/search",
        response_model=SearchResponse | BatchSearchResponse,
        responses=ERRORS,
        openapi_extra={"requestBody": {**body_schema, "required": True}},
    )
    async def search(request: Request) -> Response:
        """Top-k documents per query by cosine similarity, best first."""
        check_content_type(request)
        req = parse_request(await read_body(request, limits), limits, index.info.languages)
        queries = [req.query] if isinstance(req.query, str) else req.query
        chunks = [queries[i : i + limits.max_batch] for i in range(0, len(queries), limits.max_batch)]
        jobs = [((c, req.k, req.lang, req.query_lang), len(c)) for c in chunks]
        try:
            parts = await asyncio.gather(*(batcher.submit(job, size) for job, size in jobs))
        except ShuttingDown as exc:
            raise ApiError(503, "shutting_down", str(exc), close=True) from None
        except Overloaded as exc:
            raise ApiError(503, "overloaded", str(exc), headers={"Retry-After": "1"}) from None
        hits = [h for part in parts for h in part]
        if isinstance(req.query, str):
            payload: dict[str, Any] = {"hits": hits[0]}
        else:
            payload = {"results": [{"query": q, "hits": h} for q, h in zip(queries, hits, strict=True)]}
        content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(content) > limits.max_response_bytes:
            message = f"the response would be {len(content)} bytes, over {limits.max_response_bytes}; lower k"
            raise ApiError(413, "response_too_large", message, "k")
        if app.state.unsent_bytes() > limits.max_unsent_bytes:
            message = "too many answers are waiting for slow clients; retry later"
            raise ApiError(503, "overloaded", message, headers={"Retry-After": "1"})
        return Response(content, media_type="application/json")


def check_content_type(request: Request) -> None:
    """415 unless the body is declared ``application/json`` (a cross-site form or text POST is not)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        message = "the body must be sent with Content-Type: application/json"
        raise ApiError(415, "unsupported_media_type", message, close=True)


def add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error", "code", "field"}`` JSON."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed"}
        message = exc.detail
        if exc.status_code in names:
            message = f"no such endpoint: {request.method} {request.url.path}"
        body = {"error": message, "code": names.get(exc.status_code, "http_error"), "field": None}
        return JSONResponse(body, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> JSONResponse:
        body = {"error": f"internal error ({type(exc).__name__})", "code": "internal", "field": None}
        return JSONResponse(body, 500)
