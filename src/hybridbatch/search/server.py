"""Serve a :class:`~hybridbatch.search.index.DenseIndex` over HTTP with uvicorn (the app: ``search.app``).

uvicorn runs the ASGI app on one event loop with the h11 protocol of :mod:`hybridbatch.search.protocol`
(deadlines, connection cap with a ``/health`` reserve, slow-reader drops, JSON protocol errors) behind
the :class:`~hybridbatch.search.security.AccessMiddleware` (Host names, API key, framing). The flags
are checked and the socket bound before the model loads; the model's embedding dimension is checked
against the index before serving. SIGINT/SIGTERM shut down gracefully: no new connections, in-flight
requests finish; shortly before ``graceful_timeout`` s the requests still waiting for the encoder get
a JSON 503 ``shutting_down`` (never uvicorn's plain-text 500); uvicorn then re-raises the signal.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import uvicorn

from hybridbatch.errors import HybridbatchError, ModelError
from hybridbatch.search.app import Encoder, create_app
from hybridbatch.search.index import DenseIndex
from hybridbatch.search.limits import ServiceLimits
from hybridbatch.search.protocol import MAX_HEADER_BYTES, SearchH11Protocol, unsent_bytes
from hybridbatch.search.security import AccessMiddleware, SecuritySettings, check_access

SHUTDOWN_MARGIN = 0.5  # seconds before --graceful-timeout at which waiting requests get 503


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    limits: ServiceLimits,
    security: SecuritySettings | None = None,
    *,
    log_level: str = "warning",
    access_log: bool = False,
) -> uvicorn.Config:
    """uvicorn settings for the search app: h11 with the service's connection rules, optional TLS."""
    security = security or SecuritySettings()
    protocol = type("LimitedH11Protocol", (SearchH11Protocol,), {"limits": limits})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
        limit_concurrency=None,  # the protocol bounds connections (uvicorn's 503 is plain text)
        timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]  # float seconds work
        timeout_graceful_shutdown=limits.graceful_timeout,  # type: ignore[arg-type]
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        proxy_headers=False,
        server_header=False,
        ws="none",
        ssl_certfile=security.ssl_certfile,
        ssl_keyfile=security.ssl_keyfile,
    )


class SearchServer(uvicorn.Server):
    """uvicorn's server; on shutdown the micro-batcher's waiting requests are answered 503 just
    before uvicorn would cancel them (a cancelled request is a plain-text 500 and a traceback)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        batcher = getattr(self, "batcher", None)
        if batcher is not None:
            delay = max(self.config.timeout_graceful_shutdown - SHUTDOWN_MARGIN, 0)  # type: ignore[operator]
            asyncio.get_running_loop().call_later(delay, batcher.abort)
        await super().shutdown(sockets)


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
    :meth:`run` in the foreground (until SIGINT/SIGTERM). ``app`` is the FastAPI application."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket, app: Any):
        self.app = app
        self.server = SearchServer(config)
        self.server.batcher = app.state.batcher  # type: ignore[attr-defined]
        self.socket = sock
        self.thread: threading.Thread | None = None
        app.state.unsent_bytes = lambda: unsent_bytes(self.server.server_state.connections)

    @property
    def index(self) -> DenseIndex:
        return self.app.state.index

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        scheme = "https" if self.server.config.ssl_certfile else "http"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"

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


def load_index(index: DenseIndex | str | Path, model: str | None = None, verify: bool = True) -> DenseIndex:
    """``index`` as a loaded :class:`DenseIndex` (``model`` overrides its recorded model; ``verify``
    checks its files' checksums), its model loaded and checked: queries must have the index's
    dimension (else a one-line error)."""
    if not isinstance(index, DenseIndex):
        index = DenseIndex.load(index, model=model, verify=verify)
    dim = index.encode_queries(["dimension check"], 1).shape[1]
    if dim != index.info.dim:
        used = f"--model {model}" if model else f"the index's model {index.info.model}"
        raise ModelError(
            f"{used} gives {dim}-dimensional embeddings; the index holds {index.info.dim}-dimensional ones "
            f"(built with {index.info.model}); pass the model the index was built with"
        )
    return index


def make_server(
    index: DenseIndex | str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: ServiceLimits | None = None,
    *,
    security: SecuritySettings | None = None,
    model: str | None = None,
    encoder: Encoder | None = None,
    verify: bool = True,
    **options: Any,
) -> SearchService:
    """A :class:`SearchService` for ``index`` (``port=0`` picks a free port); call ``.start()``.

    The security settings and the address are checked before the model loads (one-line errors);
    ``verify`` checks the index files' checksums; ``options`` go to :func:`uvicorn_config`
    (``log_level``, ``access_log``).
    """
    limits, security = limits or ServiceLimits(), security or SecuritySettings()
    access = check_access(security, host)
    sock = bind(host, port)
    try:
        if encoder is None:
            index = load_index(index, model, verify)  # a missing, broken or mismatched model fails here
        elif not isinstance(index, DenseIndex):
            index = DenseIndex.load(index, model=model, verify=verify)
        app = create_app(index, limits, encoder, model_spec=model)
        config = uvicorn_config(AccessMiddleware(app, access), host, port, limits, security, **options)
        return SearchService(config, sock, app)
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
    security: SecuritySettings | None = None,
    **options: Any,
) -> None:
    """Serve ``index_dir`` in the foreground until SIGINT/SIGTERM (then shut down gracefully)."""
    options.setdefault("log_level", "info")
    service = make_server(index_dir, host, port, limits, security=security, model=model, **options)
    print(
        f"serving {len(service.index)} documents from {index_dir} on {service.url} (API: {service.url}/docs)",
        file=sys.stderr,
    )
    service.run()
