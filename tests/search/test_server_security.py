"""Issue 24, the service: API key, Host names, Content-Type, request framing, JSON protocol errors,
bounded error bodies, the offline /docs page and /info (one ``hybridbatch serve`` subprocess), then
idle crowds, slow readers and shutdown under load (uvicorn in-process on 127.0.0.1, port 0)."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_server import DOCS, CountingEncoder, read_all

from hybridbatch.search import DenseIndex, Document
from hybridbatch.search.launch import serve_subprocess
from hybridbatch.search.limits import ServiceLimits
from hybridbatch.search.security import SecuritySettings
from hybridbatch.search.server import SearchService, make_server

KEY = "k" * 12 + "-secret-key"
SEARCH = b'{"query": "tower", "k": 1}'


def raw(address: tuple[str, int], data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` on a new connection; everything the server answers until it closes."""
    sock = socket.create_connection(address, timeout=timeout)
    try:
        sock.sendall(data)
        return read_all(sock)
    except ConnectionResetError:
        return b""
    finally:
        sock.close()


def request(method: str, path: str, body: bytes = b"", host: str = "localhost", **headers: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def index(tiny_model) -> DenseIndex:
    return DenseIndex.build(tiny_model, DOCS)


@pytest.fixture(scope="module")
def subprocess_server(index: DenseIndex, tmp_path_factory) -> Iterator[tuple[str, int]]:
    path = tmp_path_factory.mktemp("served") / "index"
    index.save(path)
    flags = ["--open-health", "--max-body-bytes", "3000000"]
    with serve_subprocess(path, *flags, env={"HYBRIDBATCH_API_KEY": KEY}) as server:
        yield server.address


def test_api_key_hosts_and_content_type(subprocess_server) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    status, _, body = parse(raw(subprocess_server, request("GET", "/health")))
    assert status == 200 and json.loads(body)["status"] == "ok"  # --open-health
    for headers in ({}, {"Authorization": "Bearer wrong-key-of-some-length"}, {"Authorization": KEY}):
        status, head, body = parse(raw(subprocess_server, request("GET", "/info", **headers)))
        assert (status, json.loads(body)["code"]) == (401, "unauthorized") and head[
            "www-authenticate"
        ] == "Bearer"
        assert b"wrong-key" not in body
    status, _, body = parse(raw(subprocess_server, request("GET", "/info", **auth)))
    info = json.loads(body)
    assert status == 200 and info["model"] == "builtin:tiny" and str(Path.home()) not in body.decode()
    status, _, body = parse(raw(subprocess_server, request("GET", "/info", host="evil.example", **auth)))
    assert (status, json.loads(body)["code"]) == (400, "invalid_host")  # DNS rebinding
    status, _, body = parse(
        raw(subprocess_server, request("POST", "/search", SEARCH, Content_Type="text/plain", **auth))
    )
    assert (status, json.loads(body)["code"]) == (415, "unsupported_media_type")
    answer = raw(
        subprocess_server, request("POST", "/search", SEARCH, Content_Type="application/json", **auth)
    )
    assert parse(answer)[0] == 200 and json.loads(parse(answer)[2])["hits"][0]["id"] == "en-1"
    status, _, body = parse(raw(subprocess_server, request("GET", "/docs", **auth)))
    assert (
        status == 200 and b"/openapi.json" in body and b"http" not in body.lower().replace(b"http-equiv", b"")
    )


def test_smuggling_and_protocol_errors_are_json(subprocess_server) -> None:
    smuggled = request("GET", "/health", host="localhost")
    body = b"0\r\n\r\n" + smuggled
    first = (
        f"POST /search HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    answer = raw(subprocess_server, first + body)
    assert answer.count(b"HTTP/1.1 ") == 1  # the smuggled request is not served: 400, then close
    assert parse(answer)[0] == 400 and json.loads(parse(answer)[2])["code"] == "invalid_header"
    broken = {
        "no Host": b"GET /health HTTP/1.1\r\n\r\n",
        "two Hosts": b"GET /health HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n",
        "bad Content-Length": b"POST /search HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n",
        "bad header line": b"GET /health HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n",
        "100 KB header": request("GET", "/health", X_Big="x" * 100_000),
    }
    for name, data in broken.items():
        status, head, payload = parse(raw(subprocess_server, data))
        expected = 431 if name == "100 KB header" else 400
        assert status == expected and head["content-type"] == "application/json", name
        assert json.loads(payload)["code"] in ("invalid_request", "headers_too_large"), name


def test_error_bodies_do_not_echo_large_input(subprocess_server) -> None:
    auth = {"Authorization": f"Bearer {KEY}", "Content_Type": "application/json"}
    for body in (
        json.dumps({"query": "x", "f" * 1_000_000: 1}).encode(),
        json.dumps({"query": "x", "lang": "l" * 1_000_000}).encode(),
    ):
        status, _, payload = parse(
            raw(subprocess_server, request("POST", "/search", body, **auth), timeout=30)
        )
        assert status == 422 and len(payload) < 1000


def test_a_model_of_another_dimension_is_refused_at_startup(index: DenseIndex, tmp_path: Path, cli) -> None:
    import faiss
    import numpy as np

    flat = faiss.IndexFlatIP(7)
    flat.add(np.eye(7, dtype="float32")[:4])
    DenseIndex(flat, index.documents, index.info.model_copy(update={"dim": 7})).save(tmp_path / "index")
    code, _, err = cli("serve", "--index", str(tmp_path / "index"), "--port", "0")
    assert code == 2 and err.strip().splitlines()[-1].startswith("error: ")
    assert "7-dimensional" in err and "dimension" in err


def test_info_shows_the_model_in_use_without_absolute_paths(index: DenseIndex, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from hybridbatch.search.app import create_app

    recorded = index.info.model_copy(update={"model": str(tmp_path / "trained" / "model")})
    local = DenseIndex(index.index, index.documents, recorded, index.model)
    with TestClient(create_app(local, model_spec=str(tmp_path / "other-model"))) as client:
        info = client.get("/info").json()
    assert (info["model"], info["index_model"]) == ("other-model", "model")
    assert str(tmp_path) not in json.dumps(info)


# --- in-process uvicorn -------------------------------------------------------------------------
def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def started(index: DenseIndex, encoder: CountingEncoder, **limits) -> SearchService:
    service = make_server(index, "127.0.0.1", 0, ServiceLimits(max_wait_ms=0, **limits), encoder=encoder)
    return service.start()


def post(service: SearchService, body: bytes = SEARCH) -> tuple[int, dict]:
    answer = raw(
        service.socket.getsockname()[:2], request("POST", "/search", body, Content_Type="application/json")
    )
    if not answer:
        return 0, {}
    status, _, payload = parse(answer)
    return status, json.loads(payload)


def test_an_idle_crowd_does_not_lock_out_clients_and_health_has_a_reserve(index: DenseIndex) -> None:
    encoder = CountingEncoder(index)
    service = started(
        index, encoder, max_connections=4, health_reserve=1, request_line_timeout=0.5, request_timeout=5
    )
    address = service.socket.getsockname()[:2]
    try:
        crowd = [socket.create_connection(address) for _ in range(10)]  # send nothing
        assert parse(raw(address, request("GET", "/health")))[0] == 200
        assert post(service)[0] == 200
        begun = time.monotonic()
        assert read_all(crowd[-1]) == b""  # closed well before --request-timeout
        assert time.monotonic() - begun < 3
        encoder.gate.clear()
        with ThreadPoolExecutor(4) as pool:
            busy = [pool.submit(post, service) for _ in range(4)]
            wait_until(lambda: len(service.server.server_state.tasks) >= 4)
            assert parse(raw(address, request("GET", "/health")))[0] == 200  # the reserve
            status, payload = post(service)
            assert (status, payload["code"]) == (503, "overloaded")
            encoder.gate.set()
            assert [f.result()[0] for f in busy] == [200] * 4
        for sock in crowd:
            sock.close()
    finally:
        encoder.gate.set()
        service.stop()


def test_shutdown_answers_waiting_requests_503_json_without_traceback(index: DenseIndex, caplog) -> None:
    encoder = CountingEncoder(index)
    service = started(index, encoder, graceful_timeout=1.0, max_batch=1)
    encoder.sizes.clear()
    encoder.gate.clear()
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    with ThreadPoolExecutor(8) as pool:
        pending = [pool.submit(post, service) for _ in range(8)]
        wait_until(lambda: service.app.state.batcher.queued >= 7)
        stopper = threading.Thread(target=service.stop)
        stopper.start()
        results = [f.result(timeout=20) for f in pending]
    encoder.gate.set()
    stopper.join(30)
    assert [(s, r["code"]) for s, r in results] == [(503, "shutting_down")] * 8
    assert "Exception in ASGI application" not in caplog.text and "Traceback" not in caplog.text


def test_slow_readers_are_dropped_and_their_answers_bounded(tiny_model) -> None:
    big = DenseIndex.build(tiny_model, [Document(f"d{i}", f"{i} word", "en") for i in range(16)])
    big.documents = [Document(d.id, d.text + " word" * 40_000, d.lang) for d in big.documents]  # 3.2 MB
    encoder = CountingEncoder(big)
    service = started(big, encoder, send_timeout=1.0, max_unsent_bytes=100_000, max_response_bytes=50_000_000)
    address = service.socket.getsockname()[:2]
    body = b'{"query": "word", "k": 16}'
    try:
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.connect(address)
        reader.sendall(request("POST", "/search", body, Content_Type="application/json"))  # never read
        time.sleep(0.3)
        assert post(service, body)[1].get("code") == "overloaded"  # part of a 3.2 MB answer is held unread
        time.sleep(1.5)  # > --send-timeout: the reader is dropped, its answer freed
        status, payload = post(service, body)
        assert status == 200
        received = b""
        reader.settimeout(10)
        with contextlib.suppress(OSError):
            while chunk := reader.recv(1 << 20):
                received += chunk
        reader.close()
        assert len(received) < len(json.dumps(payload))  # the rest of its answer was dropped
    finally:
        service.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_certificate_options_reach_uvicorn(index: DenseIndex, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-subj", "/CN=localhost"]
    subprocess.run([*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    security = SecuritySettings(ssl_certfile=cert, ssl_keyfile=key)
    service = make_server(index, "127.0.0.1", 0, security=security, encoder=CountingEncoder(index)).start()
    try:
        assert service.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        conn = http.client.HTTPSConnection(*service.socket.getsockname()[:2], timeout=10, context=context)
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        service.stop()
