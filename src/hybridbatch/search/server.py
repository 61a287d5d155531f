"""Serve a :class:`~hybridbatch.search.index.DenseIndex` over HTTP with uvicorn (the app: ``search.app``).

uvicorn runs the ASGI app on one event loop with the h11 protocol, bounded by ``timeout_keep_alive``
(idle keep-alive connections), an h11 header-size cap (16 KiB; beyond it 400) and, added here by a
subclass of its h11 protocol: at most ``max_connections`` open connections (the requests of a newer
one get a JSON 503 — uvicorn's own ``limit_concurrency`` does the same in plain text and for whichever
connection asks next), and a deadline on receiving a request: a client that sends its headers or
body too slowly gets 408 and is disconnected, so slow or half-sent requests cannot hold connections.
SIGINT/SIGTERM shut down gracefully: no new connections, in-flight requests finish (at most
``graceful_timeout`` s), then the micro-batcher drains; uvicorn then re-raises the signal.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hybridbatch.errors import HybridbatchError
from hybridbatch.search.app import Encoder, create_app
from hybridbatch.search.index import DenseIndex
from hybridbatch.search.limits import ServiceLimits

MAX_HEADER_BYTES = 16 * 1024
WAITING = (h11.IDLE, h11.SEND_BODY)  # states of the client's side while its request is incomplete


async def too_many_connections(scope: dict, receive: Any, send: Any) -> None:
    """The ASGI answer to a connection over the limit: 503 JSON, then close."""
    body = b'{"error":"too many open connections; retry later","code":"overloaded","field":null}'
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline of ``request_timeout`` s on receiving each request,
    and a JSON 503 for every request on a connection opened beyond ``max_connections``.

    The deadline starts when the connection opens or the first byte of a request arrives, and is
    cleared once the whole request has arrived. When it passes: a partial request gets 408 and the
    connection closes; a connection that sent nothing is closed silently (idle keep-alive
    connections are left to uvicorn's ``timeout_keep_alive``); a body that stalls while the
    application reads it gets 408 from the body reader.
    """

    request_timeout: float = 10.0
    max_connections: int = 256

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.app = too_many_connections
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        if state is h11.SEND_BODY or (state is h11.IDLE and self.conn.trailing_data[0]):
            self._arm()  # a request has begun and is not complete
        elif state is not h11.IDLE:
            self._disarm()  # complete (or the connection is done); an idle one is uvicorn's keep-alive

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        state = self.conn.their_state
        if self.transport.is_closing() or state not in WAITING:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # the application is reading the body: its reader answers 408
        if state is h11.IDLE and self.conn.trailing_data[0] and self.conn.our_state is h11.IDLE:
            self._send_408()  # part of a request came, not all of it
        self.transport.close()  # a silent close when nothing came or the answer was sent

    def _send_408(self) -> None:
        body = b'{"error":"request not received in time","code":"timeout","field":null}'
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        response = h11.Response(status_code=408, headers=headers, reason=b"Request Timeout")
        try:
            self.transport.write(self.conn.send(response))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            pass


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    limits: ServiceLimits,
    *,
    max_connections: int = 256,
    keep_alive: int = 5,
    graceful_timeout: int = 10,
    log_level: str = "warning",
    access_log: bool = False,
) -> uvicorn.Config:
    """uvicorn settings for the search app: h11 with request deadlines, bounded connections."""
    settings = {"request_timeout": limits.request_timeout, "max_connections": max_connections}
    protocol = type("SearchH11Protocol", (DeadlineH11Protocol,), settings)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
        limit_concurrency=None,  # the protocol bounds connections (uvicorn's 503 is plain text)
        timeout_keep_alive=keep_alive,
        timeout_graceful_shutdown=graceful_timeout,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        proxy_headers=False,
        server_header=False,
        ws="none",
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: any free port), or a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise HybridbatchError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


class SearchService:
    """An index served by uvicorn on a bound socket; :meth:`start` runs it in a background thread,
    :meth:`run` in the foreground (until SIGINT/SIGTERM)."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket | None = None):
        self.server = uvicorn.Server(config)
        self.socket = sock or bind(config.host, config.port)
        self.thread: threading.Thread | None = None

    @property
    def index(self) -> DenseIndex:
        return self.server.config.app.state.index

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def run(self) -> None:
        """Serve in this thread until interrupted."""
        self.server.run(sockets=[self.socket])

    def start(self, timeout: float = 120.0) -> SearchService:
        """Start serving in a daemon thread; return once it listens (raise if it fails to start)."""
        self.thread = threading.Thread(target=self.run, name="search-server", daemon=True)
        self.thread.start()
        self.thread.join(0.01)
        while not self.server.started:
            if not self.thread.is_alive():
                raise HybridbatchError("the search server failed to start (see the log above)")
            self.thread.join(0.05)
            timeout -= 0.06
            if timeout <= 0:
                raise HybridbatchError("the search server did not start in time")
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful shutdown: stop accepting, finish in-flight requests, drain the batcher."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)


def load_index(index: DenseIndex | str | Path, model: str | None = None) -> DenseIndex:
    """``index`` as a loaded :class:`DenseIndex` (``model`` overrides its recorded model)."""
    if isinstance(index, DenseIndex):
        return index
    return DenseIndex.load(index, model=model)


def make_server(
    index: DenseIndex | str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: ServiceLimits | None = None,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    **options: Any,
) -> SearchService:
    """A :class:`SearchService` for ``index`` (``port=0`` picks a free port); call ``.start()``.

    ``options`` go to :func:`uvicorn_config` (``max_connections``, ``keep_alive``, ``log_level``...).
    """
    limits = limits or ServiceLimits()
    sock = bind(host, port)  # fails fast, before the model loads
    try:
        index = load_index(index, model)
        if encoder is None:
            _ = index.model  # a missing or broken model fails here, with a one-line error
        app = create_app(index, limits, encoder)
        return SearchService(uvicorn_config(app, host, port, limits, **options), sock)
    except BaseException:
        sock.close()
        raise


def serve(
    index_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    model: str | None = None,
    limits: ServiceLimits | None = None,
    **options: Any,
) -> None:
    """Serve ``index_dir`` in the foreground until SIGINT/SIGTERM (then shut down gracefully)."""
    options.setdefault("log_level", "info")
    service = make_server(index_dir, host, port, limits, model=model, **options)
    print(
        f"serving {len(service.index)} documents from {index_dir} on {service.url} (API: {service.url}/docs)",
        file=sys.stderr,
    )
    service.run()
