"""The search service's limits, its structured client errors and the guarded request-body reader."""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request

from hybridbatch.errors import ConfigError


@dataclass(frozen=True)
class ServiceLimits:
    """Bounds on what one request may cost (sizes in bytes, times in seconds).

    ``max_batch`` / ``max_wait_ms`` shape the micro-batches (``max_batch=1``: one encode per query);
    ``max_queue`` bounds the jobs waiting for the encoder (beyond: 503); ``request_timeout`` bounds
    the time a client may take to send its headers and its body (beyond: 408 and the connection closes).
    """

    max_body_bytes: int = 1 << 20
    max_response_bytes: int = 8 << 20
    max_k: int = 1000
    max_queries: int = 64
    max_query_chars: int = 2000
    max_hits: int = 10_000
    max_batch: int = 32
    max_wait_ms: float = 5.0
    max_queue: int = 1024
    request_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            minimum = 0 if name == "max_wait_ms" else 1e-3
            if isinstance(value, bool) or not math.isfinite(value) or value < minimum:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} must be a finite number >= {minimum:g}, got {value}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
        return ApiError(422, "unknown_field", f"unknown field '{field}'; expected {expected}", field)
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
