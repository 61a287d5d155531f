"""uvicorn's h11 protocol with the search service's connection rules (``ServiceLimits``).

Added to uvicorn's own keep-alive timeout and h11's incomplete-event cap:

- **deadlines**: a request's headers and body must arrive within ``request_timeout`` (else 408 and
  the connection closes); a new connection must send its request line within
  ``request_line_timeout`` (else it is closed: an idle crowd cannot keep sockets for long);
- **connection cap**: beyond ``max_connections`` open connections a new one first evicts the oldest
  idle one (no request in progress); failing that, the next ``health_reserve`` connections are
  served ``GET /health`` only, and every other request gets a JSON 503;
- **slow readers**: a connection whose unsent answer stays above the transport's high-water mark
  (64 KiB) for ``send_timeout`` s is dropped, freeing the buffer (the app also refuses answers while
  ``max_unsent_bytes`` are waiting, see :func:`unsent_bytes`);
- **lingering close** (as nginx and Apache do): a connection closed while its client may still be
  sending (a 413 or 408 before its whole body was read) first sends its answer and a FIN, then reads
  and drops what still arrives for up to ``linger_timeout`` s, so the client's kernel does not get a
  reset that would throw away the answer before the client read it;
- **protocol errors** (malformed request, missing Host, bad Content-Length, headers over 16 KiB even
  when they arrive in one piece) are answered with the documented JSON, 400 or 431.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from hybridbatch.search.limits import ServiceLimits, clip

MAX_HEADER_BYTES = 16 * 1024
WAITING = (h11.IDLE, h11.SEND_BODY)  # states of the client's side while its request is incomplete


def json_error(status: int, code: str, message: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a JSON error that closes the connection."""
    body = json.dumps({"error": message, "code": code, "field": None}, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


async def too_many_connections(scope: dict, receive: Any, send: Any) -> None:
    """The ASGI answer to a connection over the limit: 503 JSON, then close."""
    headers, body = json_error(503, "overloaded", "too many open connections; retry later")
    await send({"type": "http.response.start", "status": 503, "headers": [*headers, (b"retry-after", b"1")]})
    await send({"type": "http.response.body", "body": body})


def health_only(app: Any) -> Any:
    """``app`` for ``GET /health``; a JSON 503 for everything else (the reserve's connections)."""

    async def reserve(scope: dict, receive: Any, send: Any) -> None:
        if scope.get("path") == "/health" and scope.get("method") in ("GET", "HEAD"):
            await app(scope, receive, send)
        else:
            await too_many_connections(scope, receive, send)

    return reserve


def request_bytes(event: h11.Request) -> int:
    """The size of a request's line and headers, as sent."""
    return len(event.method) + len(event.target) + 12 + sum(len(k) + len(v) + 4 for k, v in event.headers)


def unsent_bytes(connections: Iterable[Any]) -> int:
    """Bytes of answers written but not yet taken by the clients, over all connections."""
    return sum(c.transport.get_write_buffer_size() for c in list(connections) if c.transport is not None)


class LingeringTransport:
    """The connection's transport, whose ``close`` lingers while ``protocol.may_still_send()``."""

    def __init__(self, transport: asyncio.Transport, protocol: SearchH11Protocol):
        self._transport, self._protocol = transport, protocol
        self.lingering: asyncio.TimerHandle | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self.lingering is not None or self._transport.is_closing()

    def close(self) -> None:
        if self.is_closing():
            return
        if not (self._protocol.may_still_send() and self._transport.can_write_eof()):
            self._transport.close()
            return
        self._transport.write_eof()  # the answer, then FIN; reading goes on
        self._transport.resume_reading()
        timeout = self._protocol.limits.linger_timeout
        self.lingering = self._protocol.loop.call_later(timeout, self._transport.close)

    def end_lingering(self) -> None:
        if self.lingering is not None:
            self.lingering.cancel()
            self._transport.close()


class SearchH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the rules of the module docstring (``limits``: set by a subclass)."""

    limits: ServiceLimits = ServiceLimits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._protocol_error: h11.RemoteProtocolError | None = None
        self.seen_request, self.opened = False, self.loop.time()
        self._wrap_parser()
        super().connection_made(LingeringTransport(transport, self))  # type: ignore[arg-type]
        self._admit()
        self._arm()
        line_timeout = min(self.limits.request_line_timeout, self.limits.request_timeout)
        self._line_timer = self.loop.call_later(line_timeout, self._line_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._deadline, self._send_timer, self._line_timer, self.transport.lingering):
            if timer is not None:
                timer.cancel()
        self._deadline = self._send_timer = None
        super().connection_lost(exc)

    # --- lingering close -------------------------------------------------------------------
    def may_still_send(self) -> bool:
        """Whether the client may be sending a request we will not read (so closing would reset)."""
        return self.conn.their_state in WAITING and (
            self.conn.their_state is h11.SEND_BODY or bool(self.conn.trailing_data[0])
        )

    def data_received(self, data: bytes) -> None:
        if self.transport.lingering is None:
            super().data_received(data)

    def eof_received(self) -> bool | None:
        self.transport.end_lingering()  # the client is done: close now
        return super().eof_received()

    # --- the connection cap ----------------------------------------------------------------
    def _admit(self) -> None:
        live = [c for c in list(self.connections) if c is not self and not c.transport.is_closing()]
        if len(live) < self.limits.max_connections:
            return
        idle = [c for c in live if isinstance(c, SearchH11Protocol) and c.idle()]
        if idle:
            min(idle, key=lambda c: (c.seen_request, c.opened)).transport.close()
        elif len(live) < self.limits.max_connections + self.limits.health_reserve:
            self.app = health_only(self.app)
        else:
            self.app = too_many_connections

    def idle(self) -> bool:
        """No request in progress and nothing of one received or waiting to be sent."""
        return (
            self.conn.their_state is h11.IDLE
            and self.conn.our_state is h11.IDLE
            and not self.conn.trailing_data[0]
            and (self.cycle is None or self.cycle.response_complete)
            and self.transport.get_write_buffer_size() == 0
        )

    # --- request deadlines -----------------------------------------------------------------
    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        self.seen_request = self.seen_request or state is not h11.IDLE
        if state is h11.SEND_BODY or (state is h11.IDLE and self.conn.trailing_data[0]):
            self._arm()  # a request has begun and is not complete
        elif state is not h11.IDLE:
            self._disarm()  # complete (or the connection is done); an idle one is uvicorn's keep-alive

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.limits.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _line_expired(self) -> None:
        self._line_timer = None
        received = self.conn.trailing_data[0]
        if not self.seen_request and self.conn.their_state is h11.IDLE and b"\n" not in received:
            self._close_incomplete()

    def _expire(self) -> None:
        self._deadline = None
        if self.conn.their_state not in WAITING:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # the application is reading the body: its reader answers 408
        self._close_incomplete()

    def _close_incomplete(self) -> None:
        """408 to a partial request, then close; a connection that sent nothing is closed silently."""
        if self.transport.is_closing():
            return
        if (
            self.conn.their_state is h11.IDLE
            and self.conn.trailing_data[0]
            and self.conn.our_state is h11.IDLE
        ):
            self._send_error(408, "timeout", "request not received in time")
        self.transport.close()

    # --- protocol errors as JSON -----------------------------------------------------------
    def _wrap_parser(self) -> None:
        """Remember h11's error for :meth:`send_400_response`; refuse headers over the cap."""
        next_event = self.conn.next_event

        def checked() -> Any:
            try:
                event = next_event()
                if isinstance(event, h11.Request) and request_bytes(event) > MAX_HEADER_BYTES:
                    raise h11.RemoteProtocolError("request headers over 16 KiB", error_status_hint=431)
            except h11.RemoteProtocolError as exc:
                self._protocol_error = exc
                raise
            return event

        self.conn.next_event = checked  # type: ignore[method-assign]

    def send_400_response(self, msg: str) -> None:
        error = self._protocol_error
        status = error.error_status_hint if error is not None else 400
        code = "headers_too_large" if status == 431 else "invalid_request"
        detail = "request headers over 16 KiB" if status == 431 else clip(str(error or msg), 120)
        self._send_error(status, code, f"malformed HTTP request ({detail})")
        self.transport.close()

    def _send_error(self, status: int, code: str, message: str) -> None:
        headers, body = json_error(status, code, message)
        try:
            self.transport.write(
                self.conn.send(
                    h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status])
                )
            )
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            pass

    # --- slow readers ----------------------------------------------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._send_expired)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_expired(self) -> None:
        self._send_timer = None
        if self.flow.write_paused:
            self.transport.abort()  # the unread answer is dropped with the connection
