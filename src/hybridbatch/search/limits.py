"""The search service's limits, its structured client errors and the guarded request-body reader."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import ConfigDict, Field
from starlette.requests import Request

from hybridbatch.settings import Settings

Seconds = Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1)]


class ServiceLimits(Settings):
    """Bounds on what a request and a connection may cost (sizes in bytes, times in seconds).

    Declared once: the ``serve`` flags are generated from these fields. ``max_batch`` /
    ``max_wait_ms`` shape the micro-batches (``max_batch=1``: one encode per query); ``max_queue``
    bounds the jobs waiting for the encoder (beyond: 503).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_k: Count = Field(1000, description="Largest k per query (else 422)")
    max_queries: Count = Field(64, description="Queries per request (else 422)")
    max_hits: Count = Field(10_000, description="queries x k per request (else 422)")
    max_query_chars: Count = Field(2000, description="Characters per query (else 422)")
    max_body_bytes: Count = Field(1 << 20, description="Request body limit (else 413)")
    max_response_bytes: Count = Field(8 << 20, description="Response limit (else 413)")
    max_batch: Count = Field(32, description="Queries per encode call (1 = no batching)")
    max_wait_ms: float = Field(5.0, ge=0, le=1000, allow_inf_nan=False, description="Wait to fill a batch")
    max_queue: Count = Field(1024, description="Requests waiting to encode (else 503)")
    request_timeout: Seconds = Field(10.0, description="Seconds to receive headers and body (else 408)")
    request_line_timeout: Seconds = Field(
        2.0, description="Seconds a new connection may take to send its request line (else closed)"
    )
    send_timeout: Seconds = Field(
        10.0, description="Seconds a client may leave over 64 KiB of an answer unread (else dropped)"
    )
    linger_timeout: Seconds = Field(
        2.0, description="Seconds a refused request's unread body is still read and dropped (no reset)"
    )
    max_unsent_bytes: Count = Field(
        64 << 20, description="Unread answer bytes held for all clients beyond which new answers get 503"
    )
    max_connections: Count = Field(256, description="Open connections (beyond: an idle one closes, else 503)")
    health_reserve: int = Field(8, ge=0, description="Connections beyond --max-connections kept for /health")
    keep_alive: Seconds = Field(5.0, description="Idle keep-alive seconds")
    graceful_timeout: Seconds = Field(10.0, description="Seconds to finish in-flight requests on shutdown")

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class ApiError(Exception):
    """A client-facing error: HTTP ``status``, a short ``code``, a message and the field it concerns."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = dict(headers or {})
        if close:
            self.headers["Connection"] = "close"

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, "field": self.field}


ECHO_CHARS = 64  # input quoted back in an error message is cut to this many characters


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis and the full length mark a cut)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


FIELD_RULES = {
    "query": "a non-empty string or a list of non-empty strings",
    "k": "an integer from 1 to {max_k}",
    "lang": "a non-empty string or null",
    "query_lang": "a string or null",
}


def request_error(error: dict[str, Any], limits: ServiceLimits) -> ApiError:
    """An :class:`ApiError` for the first error pydantic reported on a ``/search`` body."""
    kind, loc = error["type"], error.get("loc", ())
    if kind == "json_invalid":
        detail = str(error.get("msg", "")).removeprefix("Invalid JSON: ")
        return ApiError(400, "invalid_json", f"request body is not valid JSON ({detail})")
    if not loc:
        return ApiError(400, "invalid_body", "request body must be a JSON object with field 'query'")
    field = str(loc[0])
    if kind == "extra_forbidden":
        expected = ", ".join(FIELD_RULES)
        shown = clip(field)
        return ApiError(422, "unknown_field", f"unknown field '{shown}'; expected {expected}", shown)
    if kind == "missing":
        return ApiError(422, "missing_field", f"field '{field}' is required", field)
    rule = FIELD_RULES.get(field, "valid").format(max_k=limits.max_k)
    return ApiError(422, "invalid_field", f"field '{field}' must be {rule}", field)


async def read_body(request: Request, limits: ServiceLimits) -> bytes:
    """The request body, refused with 413 beyond ``max_body_bytes`` (from Content-Length, then while
    reading) and with 408 when it takes longer than ``request_timeout``."""
    declared = request.headers.get("content-length")
    too_large = f"request body is over the limit of {limits.max_body_bytes} bytes"
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "invalid_header", "invalid Content-Length header", close=True)
        if int(declared) > limits.max_body_bytes:
            raise ApiError(413, "body_too_large", too_large, close=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.request_timeout
    chunks, size, more = [], 0, True
    while more:
        try:
            message = await asyncio.wait_for(request.receive(), max(deadline - loop.time(), 0))
        except TimeoutError:
            message = f"request body not received within {limits.request_timeout:g} s"
            raise ApiError(408, "timeout", message, close=True) from None
        if message["type"] == "http.disconnect":
            raise ApiError(400, "disconnected", "the client closed the connection", close=True)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise ApiError(413, "body_too_large", too_large, close=True)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
