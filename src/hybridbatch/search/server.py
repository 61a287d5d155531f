"""A small HTTP JSON API over a :class:`~hybridbatch.search.index.DenseIndex` (standard library only).

Endpoints:

- ``GET /health`` → ``{"status": "ok", "documents": N}``
- ``GET /info`` → the index metadata (``index.json``)
- ``POST /search`` with ``{"query": str | [str], "k": int = 10, "lang": str | null}`` →
  ``{"hits": [...]}`` for one query, ``{"results": [{"query", "hits"}, ...]}`` for a list; each hit is
  ``{"id", "score", "text", "lang"}``.

Malformed JSON or fields answer 400 with ``{"error": message}``; unknown paths 404.
"""

from __future__ import annotations

import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hybridbatch.errors import HybridbatchError
from hybridbatch.search.index import DenseIndex

MAX_BODY_BYTES = 1 << 20
MAX_K = 1000
MAX_QUERIES = 256
SEARCH_FIELDS = {"query", "k", "lang"}


class BadRequest(Exception):
    """A client error: answered with 400 and the message."""


def parse_search_request(body: bytes) -> tuple[str | list[str], int, str | None]:
    """Validate a ``POST /search`` body; return ``(query, k, lang)`` or raise :class:`BadRequest`."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("request body must be a JSON object with field 'query'")
    unknown = sorted(set(payload) - SEARCH_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}; expected query, k, lang")
    query = payload.get("query")
    if isinstance(query, str):
        if not query.strip():
            raise BadRequest("field 'query' is empty")
    elif isinstance(query, list):
        if not query or len(query) > MAX_QUERIES:
            raise BadRequest(f"field 'query' must hold 1 to {MAX_QUERIES} strings")
        if not all(isinstance(q, str) and q.strip() for q in query):
            raise BadRequest("field 'query' must be a list of non-empty strings")
    else:
        raise BadRequest("field 'query' must be a string or a list of strings")
    k = payload.get("k", 10)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise BadRequest(f"field 'k' must be an integer from 1 to {MAX_K}")
    lang = payload.get("lang")
    if lang is not None and (not isinstance(lang, str) or not lang):
        raise BadRequest("field 'lang' must be a non-empty string or null")
    return query, k, lang


class SearchHandler(BaseHTTPRequestHandler):
    """Request handler; the server carries ``index`` and a ``lock`` serializing model calls."""

    server: SearchServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        index = self.server.index
        if self.path == "/health":
            self._send(HTTPStatus.OK, {"status": "ok", "documents": len(index)})
        elif self.path == "/info":
            self._send(HTTPStatus.OK, index.info.model_dump())
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: GET {self.path}"})

    def do_POST(self) -> None:
        if self.path != "/search":
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: POST {self.path}"})
            return
        try:
            query, k, lang = parse_search_request(self._read_body())
            with self.server.lock:
                results = self.server.index.search(query if isinstance(query, list) else [query], k, lang)
        except BadRequest as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        except HybridbatchError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        except Exception as exc:  # keep serving; report the failure to the client
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})
            return
        dumped = [[h.model_dump() for h in hits] for hits in results]
        if isinstance(query, str):
            self._send(HTTPStatus.OK, {"hits": dumped[0]})
        else:
            results = [{"query": q, "hits": h} for q, h in zip(query, dumped, strict=True)]
            self._send(HTTPStatus.OK, {"results": results})

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest("missing or invalid Content-Length header")
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            raise BadRequest(f"request body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(int(length))

    def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class SearchServer(ThreadingHTTPServer):
    """A threading HTTP server holding one index."""

    daemon_threads = True

    def __init__(self, index: DenseIndex, host: str = "127.0.0.1", port: int = 8000, verbose: bool = False):
        self.index = index
        self.lock = threading.Lock()
        self.verbose = verbose
        super().__init__((host, port), SearchHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(
    index: DenseIndex | str | Path, host: str = "127.0.0.1", port: int = 8000, **kw: Any
) -> SearchServer:
    """A :class:`SearchServer` for ``index`` (an index or its directory); ``port=0`` picks a free port.

    The query model is loaded before the server starts, so the first request is not slow.
    """
    if not isinstance(index, DenseIndex):
        index = DenseIndex.load(index)
    _ = index.model
    try:
        return SearchServer(index, host, port, **kw)
    except OSError as exc:
        raise HybridbatchError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def serve(index_dir: str | Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``index_dir`` until interrupted (Ctrl-C)."""
    server = make_server(index_dir, host, port, verbose=True)
    print(f"serving {len(server.index)} documents from {index_dir} on {server.url}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
