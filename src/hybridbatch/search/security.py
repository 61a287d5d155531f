"""Who may talk to the search service: API key, allowed Host names, TLS files (the ``serve`` flags),
checked before the model loads, and the ASGI middleware that enforces them on every request.

The middleware answers, in this order, with the documented JSON errors: a ``Host`` that is not
allowed (400 ``invalid_host``: DNS rebinding), a request framed by both ``Transfer-Encoding`` and
``Content-Length`` (400 ``invalid_header``, the connection closes: RFC 9112 §6.3), a missing or wrong
bearer key (401 ``unauthorized``; ``/health`` is open with ``--open-health``), and a request the
server cancels while shutting down (503 ``shutting_down`` instead of uvicorn's plain-text 500).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from hybridbatch.errors import ConfigError
from hybridbatch.settings import Settings

API_KEY_ENV = "HYBRIDBATCH_API_KEY"
MIN_KEY_CHARS = 16
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


class SecuritySettings(Settings):
    """Authentication, Host names and TLS of ``serve`` (declared once: the flags come from here)."""

    api_key_file: Path | None = Field(
        None, description=f"File holding the API key (else ${API_KEY_ENV}); clients send 'Bearer KEY'"
    )
    auth: bool = Field(True, description="--no-auth: serve a non-loopback --host without an API key")
    open_health: bool = Field(False, description="GET /health answers without the API key")
    allowed_hosts: list[str] = Field(
        [], description="Host names clients may use (default: the bound address and localhost; * = any)"
    )
    ssl_certfile: Path | None = Field(None, description="TLS certificate (PEM); with --ssl-keyfile")
    ssl_keyfile: Path | None = Field(None, description="TLS private key (PEM); with --ssl-certfile")


@dataclass(frozen=True)
class Access:
    """The checked security settings: the accepted keys (none: open), Host names (empty: any)."""

    keys: tuple[bytes, ...] = ()
    hosts: frozenset[str] = frozenset()
    open_health: bool = False


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_keys(settings: SecuritySettings) -> tuple[bytes, ...]:
    """The API keys (one per line) of ``--api-key-file``, else of ``$HYBRIDBATCH_API_KEY``; () if neither."""
    if settings.api_key_file is not None:
        source, path = f"--api-key-file {settings.api_key_file}", settings.api_key_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ConfigError(f"{source}: cannot read the API key ({reason})") from None
    elif API_KEY_ENV in os.environ:
        source, text = f"${API_KEY_ENV}", os.environ[API_KEY_ENV]
    else:
        return ()
    keys = tuple(line.strip().encode() for line in text.splitlines() if line.strip())
    if not keys:
        raise ConfigError(f"{source}: no API key in it (one key per line)")
    if min(len(k) for k in keys) < MIN_KEY_CHARS:
        raise ConfigError(f"{source}: an API key must be at least {MIN_KEY_CHARS} characters")
    return keys


def check_access(settings: SecuritySettings, host: str) -> Access:
    """Validate the settings for binding ``host`` (a :class:`ConfigError` naming the flag otherwise)."""
    keys = read_keys(settings)
    if keys and not settings.auth:
        raise ConfigError("--no-auth: an API key is configured too; drop one of them")
    if not keys and settings.auth and not is_loopback(host):
        raise ConfigError(
            f"--host {host}: not a loopback address; give an API key (--api-key-file or ${API_KEY_ENV}) "
            "or pass --no-auth explicitly"
        )
    if (settings.ssl_certfile is None) != (settings.ssl_keyfile is None):
        raise ConfigError("--ssl-certfile and --ssl-keyfile go together")
    for flag, path in (("--ssl-certfile", settings.ssl_certfile), ("--ssl-keyfile", settings.ssl_keyfile)):
        if path is not None and not os.access(path, os.R_OK):
            raise ConfigError(f"{flag} {path}: not a readable file")
    names = [h.strip().lower() for h in settings.allowed_hosts if h.strip()]
    if "*" in names:
        return Access(keys, frozenset(), settings.open_health)
    if not names and ipaddress_unspecified(host):
        raise ConfigError(f"--host {host}: pass --allowed-host with the names clients use (or '*')")
    names = names or [host.lower().strip("[]"), *LOCAL_NAMES]
    return Access(keys, frozenset(names), settings.open_health)


def ipaddress_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def host_name(value: bytes) -> str:
    """``Host`` header value without its port, lower case (``[::1]:80`` -> ``::1``)."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message, "code": code, "field": None}, status, headers=headers)


class AccessMiddleware:
    """ASGI middleware: Host, framing, API key and shutdown checks (see the module docstring)."""

    def __init__(self, app: Any, access: Access):
        self.app, self.access = app, access

    def refusal(self, scope: dict) -> Any:
        headers = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, []).append(value)
        hosts = headers.get(b"host", [])
        if self.access.hosts and (len(hosts) != 1 or host_name(hosts[0]) not in self.access.hosts):
            return error_response(
                400, "invalid_host", "the Host header names no host this server answers for"
            )
        if b"transfer-encoding" in headers and b"content-length" in headers:
            message = "both Transfer-Encoding and Content-Length: ambiguous framing"
            return error_response(400, "invalid_header", message, {"Connection": "close"})
        if not self.access.keys or (self.access.open_health and scope["path"] == "/health"):
            return None
        given = b"".join(headers.get(b"authorization", []))
        scheme, _, token = given.partition(b" ")
        matches = [hmac.compare_digest(token.strip(), key) for key in self.access.keys]
        if scheme.lower() == b"bearer" and any(matches):
            return None
        message = "missing or wrong API key (send Authorization: Bearer KEY)"
        return error_response(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        started = False

        async def tracked_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except asyncio.CancelledError:  # uvicorn cancels what is left when --graceful-timeout ends
            if started:
                raise
            answer = error_response(
                503, "shutting_down", "the server is shutting down", {"Connection": "close"}
            )
            await answer(scope, receive, send)
