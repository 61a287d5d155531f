"""The search service: the FastAPI app (TestClient) and real uvicorn on 127.0.0.1, port 0."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from hybridbatch.search import DenseIndex, Document
from hybridbatch.search.app import create_app, query_encoder
from hybridbatch.search.launch import serve_subprocess
from hybridbatch.search.limits import ServiceLimits
from hybridbatch.search.server import SearchService, make_server

JSON = {"Content-Type": "application/json"}
CT = b"Content-Type: application/json\r\n"
DOCS = [
    Document("en-1", "The tower is in Paris.", "en"),
    Document("de-1", "Der Turm ist in Paris.", "de"),
    Document("en-2", "Anna wrote the book.", "en"),
    Document("es-1", "El gato duerme.", "es"),
]


@pytest.fixture(scope="module")
def index(tiny_model) -> DenseIndex:
    return DenseIndex.build(tiny_model, DOCS)


@pytest.fixture(scope="module")
def client(index: DenseIndex) -> Iterator[TestClient]:
    limits = ServiceLimits(max_k=50, max_queries=4, max_hits=100, max_body_bytes=4096, max_query_chars=200)
    with TestClient(create_app(index, limits)) as test_client:
        yield test_client


class CountingEncoder:
    """The real query encoder, counting calls and batch sizes; ``gate`` holds calls until set."""

    def __init__(self, index: DenseIndex):
        self.encode = query_encoder(index)
        self.sizes: list[int] = []
        self.langs: list[list[str | None]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, texts: list[str], langs: list[str | None]) -> np.ndarray:
        self.sizes.append(len(texts))
        self.langs.append(langs)
        assert self.gate.wait(30)
        return self.encode(texts, langs)


def test_health_and_info(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "documents": 4}
    info = client.get("/info").json()
    assert info["count"] == 4 and info["model"] == "builtin:tiny"
    assert info["languages"] == {"de": 1, "en": 2, "es": 1}
    assert info["server"]["max_k"] == 50 and info["server"]["max_batch"] == 32


def test_openapi_page_documents_search(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()["paths"]["/search"]["post"]
    assert set(schema["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {
        "query",
        "k",
        "lang",
        "query_lang",
    }
    assert {"200", "400", "413", "422", "503"} <= set(schema["responses"])


def test_search_one_query(client: TestClient, index: DenseIndex) -> None:
    response = client.post("/search", content=b'{"query": "Anna wrote the book.", "k": 2}', headers=JSON)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    hits = response.json()["hits"]
    assert hits == [h.model_dump() for h in index.search("Anna wrote the book.", k=2)[0]]
    assert hits[0]["id"] == "en-2"


def test_search_many_queries_with_language(client: TestClient) -> None:
    body = client.post("/search", json={"query": ["Paris", "El gato duerme."], "k": 3, "lang": "en"}).json()
    assert [r["query"] for r in body["results"]] == ["Paris", "El gato duerme."]
    assert all(h["lang"] == "en" for r in body["results"] for h in r["hits"])
    assert [len(r["hits"]) for r in body["results"]] == [2, 2]


DEEP = b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize(
    ("body", "status", "code", "field", "message"),
    [
        (b"{not json", 400, "invalid_json", None, "not valid JSON"),
        (b"\xff\xfe", 400, "invalid_json", None, "not valid JSON"),
        (b"", 400, "invalid_json", None, "not valid JSON"),
        (DEEP[:3000], 400, "invalid_json", None, "recursion limit"),
        (b"[1, 2]", 400, "invalid_body", None, "must be a JSON object"),
        (b'{"k": 3}', 422, "missing_field", "query", "field 'query' is required"),
        (b'{"query": "  "}', 422, "invalid_field", "query", "empty query"),
        (b'{"query": ["ok", 3]}', 422, "invalid_field", "query", "list of non-empty strings"),
        (b'{"query": []}', 422, "invalid_field", "query", "1 to 4 queries"),
        (b'{"query": ["a", "b", "c", "d", "e"]}', 422, "invalid_field", "query", "1 to 4 queries"),
        (b'{"query": "' + b"x" * 201 + b'"}', 422, "invalid_field", "query", "longer than 200"),
        (b'{"query": "x", "k": 0}', 422, "invalid_field", "k", "from 1 to 50"),
        (b'{"query": "x", "k": 51}', 422, "invalid_field", "k", "from 1 to 50"),
        (b'{"query": "x", "k": true}', 422, "invalid_field", "k", "from 1 to 50"),
        (b'{"query": "x", "k": 2.0}', 422, "invalid_field", "k", "from 1 to 50"),
        (b'{"query": ["a", "b", "c"], "k": 40}', 422, "invalid_field", "k", "over 100 hits"),
        (b'{"query": "x", "top_k": 3}', 422, "unknown_field", "top_k", "unknown field 'top_k'"),
        (b'{"query": "x", "lang": ""}', 422, "invalid_field", "lang", "no documents in language ''"),
        (b'{"query": "x", "lang": 7}', 422, "invalid_field", "lang", "non-empty string or null"),
        (b'{"query": "x", "lang": "fr"}', 422, "invalid_field", "lang", "no documents in language 'fr'"),
    ],
)
def test_client_mistakes_are_structured_errors(
    client: TestClient, body: bytes, status: int, code: str, field: str | None, message: str
) -> None:
    response = client.post("/search", content=body, headers=JSON)
    assert response.status_code == status
    payload = response.json()
    assert (payload["code"], payload["field"]) == (code, field)
    assert message in payload["error"]


def test_deeply_nested_json_of_any_size_is_400(client: TestClient, index: DenseIndex) -> None:
    limits = ServiceLimits(max_body_bytes=1 << 20)
    with TestClient(create_app(index, limits)) as big:
        response = big.post("/search", content=DEEP, headers=JSON)
    assert response.status_code == 400 and response.json()["code"] == "invalid_json"


def test_oversized_body_is_413_and_closes(client: TestClient) -> None:
    response = client.post("/search", content=b'{"query": "' + b"x" * 5000 + b'"}', headers=JSON)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.headers["connection"] == "close"


def test_response_size_limit_is_413(index: DenseIndex) -> None:
    with TestClient(create_app(index, ServiceLimits(max_response_bytes=300))) as small:
        assert small.post("/search", json={"query": "tower", "k": 1}).status_code == 200
        response = small.post("/search", json={"query": "tower", "k": 4})
    assert response.status_code == 413
    assert response.json()["code"] == "response_too_large" and response.json()["field"] == "k"


def test_unknown_paths_and_methods(client: TestClient) -> None:
    assert client.get("/nope").json()["code"] == "not_found"
    response = client.post("/health", content=b"{}", headers=JSON)
    assert response.status_code == 405 and "POST /health" in response.json()["error"]


def test_limits_are_validated() -> None:
    from hybridbatch.errors import ConfigError

    with pytest.raises(ConfigError, match="max k must be >= 1"):
        ServiceLimits(max_k=0)
    with pytest.raises(ConfigError, match="request timeout must be a finite number"):
        ServiceLimits(request_timeout=float("nan"))


# --- real uvicorn ---------------------------------------------------------------------------
def address(service: SearchService) -> tuple[str, int]:
    return service.socket.getsockname()[:2]


def call(service: SearchService, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(*address(service), timeout=30)
    try:
        conn.request(method, path, body=body, headers=JSON if body is not None else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def served(index: DenseIndex) -> Iterator[tuple[SearchService, CountingEncoder]]:
    encoder = CountingEncoder(index)
    limits = ServiceLimits(
        request_timeout=1.0, max_body_bytes=4096, max_wait_ms=0, max_connections=6, health_reserve=0
    )
    service = make_server(index, "127.0.0.1", 0, limits, encoder=encoder).start()
    encoder.sizes.clear()  # the warm-up call
    encoder.langs.clear()
    yield service, encoder
    encoder.gate.set()
    service.stop()
    assert not service.thread.is_alive()


def test_concurrent_queries_share_one_encode_call(served) -> None:
    service, encoder = served
    batcher = service.app.state.batcher
    encoder.gate.clear()
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(call, service, "POST", "/search", b'{"query": "tower", "k": 1}')
        while encoder.sizes != [1]:
            time.sleep(0.01)
        bodies = [{"query": "q0"}, {"query": ["q1", "q2"], "query_lang": "de"}, {"query": "q3", "k": 2}]
        rest = [pool.submit(call, service, "POST", "/search", json.dumps(b).encode()) for b in bodies]
        while batcher.queued < 3:
            time.sleep(0.01)
        encoder.gate.set()
        results = [first.result(), *(f.result() for f in rest)]
    assert encoder.sizes == [1, 4]  # the three waiting requests (four queries) were encoded in one call
    assert sorted(encoder.langs[1], key=str) == [None, None, "de", "de"]  # each query with its request's
    assert all(status == 200 for status, _ in results)
    assert results[0][1]["hits"][0]["id"] == "en-1"


def test_naive_mode_encodes_one_query_per_call(index: DenseIndex) -> None:
    encoder = CountingEncoder(index)
    with TestClient(create_app(index, ServiceLimits(max_batch=1), encoder)) as naive:
        encoder.sizes.clear()
        assert naive.post("/search", json={"query": ["a", "b", "c"], "k": 1}).status_code == 200
    assert encoder.sizes == [1, 1, 1]


def test_keep_alive_and_connection_close(served) -> None:
    service, _ = served
    conn = http.client.HTTPConnection(*address(service), timeout=10)
    for _ in range(2):  # one connection, two requests
        conn.request("POST", "/search", body=b'{"query": "tower", "k": 1}', headers=JSON)
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("connection") is None
        response.read()
    conn.request("GET", "/health", headers={"Connection": "close"})
    response = conn.getresponse()
    assert response.getheader("connection") == "close"
    response.read()
    conn.close()


def test_slow_and_half_sent_clients_get_408_and_are_dropped(served) -> None:
    service, _ = served
    half_headers = socket.create_connection(address(service))
    half_headers.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\n")
    half_body = socket.create_connection(address(service))
    half_body.sendall(
        b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\n" + CT + b'Content-Length: 100\r\n\r\n{"query"'
    )
    assert call(service, "GET", "/health")[0] == 200  # others are served meanwhile
    for sock in (half_headers, half_body):
        data = read_all(sock)  # the server answers, then closes
        assert data.startswith(b"HTTP/1.1 408") and b'"code":"timeout"' in data
        sock.close()


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_idle_connections_are_closed_silently_and_keep_alive_outlives_the_request_deadline(served) -> None:
    service, _ = served
    silent = socket.create_connection(address(service))  # sends nothing: closed after the deadline
    conn = http.client.HTTPConnection(*address(service), timeout=10)
    conn.request("GET", "/health")
    conn.getresponse().read()
    time.sleep(1.5)  # > request_timeout (1 s), < keep-alive (5 s)
    conn.request("POST", "/search", body=b'{"query": "tower", "k": 1}', headers=JSON)
    assert conn.getresponse().status == 200  # the same connection, no stray 408
    conn.close()
    assert read_all(silent) == b""
    silent.close()


def test_streamed_oversized_body_is_413_and_the_client_may_finish_sending(served) -> None:
    service, _ = served
    sock = socket.create_connection(address(service))
    sock.sendall(b"POST /search HTTP/1.1\r\nHost: localhost\r\n" + CT + b"Transfer-Encoding: chunked\r\n\r\n")
    for _ in range(4):  # the answer comes after the second chunk; sending on must not hit a reset
        sock.sendall(b"bb8\r\n" + b"x" * 3000 + b"\r\n")
        time.sleep(0.1)
    sock.shutdown(socket.SHUT_WR)
    data = read_all(sock)
    sock.close()
    assert data.startswith(b"HTTP/1.1 413") and b"connection: close" in data.lower()


def test_lingering_ends_after_the_linger_timeout(served) -> None:
    service, _ = served
    sock = socket.create_connection(address(service))
    sock.sendall(b"POST /search HTTP/1.1\r\nHost: localhost\r\n" + CT + b"Content-Length: 99999\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 413")  # the answer, then the server's FIN
    start = time.monotonic()
    with pytest.raises(OSError):  # a client that never finishes: reset once linger_timeout (2 s) is over
        while time.monotonic() - start < 8:
            sock.sendall(b"x" * 1000)
            time.sleep(0.1)
    sock.close()
    assert 1.5 < time.monotonic() - start < 8


def test_graceful_shutdown_finishes_in_flight_requests(served) -> None:
    service, encoder = served
    encoder.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(call, service, "POST", "/search", b'{"query": "tower", "k": 1}')
        while not encoder.sizes:
            time.sleep(0.01)
        stopper = threading.Thread(target=service.stop)
        stopper.start()
        time.sleep(0.3)
        with pytest.raises(OSError):  # no new connections while shutting down
            socket.create_connection(address(service), timeout=2).recv(1)
        encoder.gate.set()
        assert pending.result()[0] == 200
        stopper.join(10)
    assert not service.thread.is_alive()


def test_serve_command_runs_and_stops_on_sigterm(index: DenseIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "index")
    with serve_subprocess(tmp_path / "index") as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/health")
        assert json.loads(conn.getresponse().read()) == {"status": "ok", "documents": 4}
        conn.close()
        assert server.stop(timeout=30) == -signal.SIGTERM  # graceful, then uvicorn re-raises the signal
        assert "Application shutdown complete" in server.log_text()
