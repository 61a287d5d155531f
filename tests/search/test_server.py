"""The HTTP JSON API, served on 127.0.0.1 with a free port in a background thread."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest

from hybridbatch.search import DenseIndex, Document
from hybridbatch.search.server import BadRequest, SearchServer, make_server, parse_search_request

DOCS = [
    Document("en-1", "The tower is in Paris.", "en"),
    Document("de-1", "Der Turm ist in Paris.", "de"),
    Document("en-2", "Anna wrote the book.", "en"),
    Document("es-1", "El gato duerme.", "es"),
]


@pytest.fixture(scope="module")
def server(tiny_model) -> Iterator[SearchServer]:
    srv = make_server(DenseIndex.build(tiny_model, DOCS), "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)
    assert not thread.is_alive()


def request(server: SearchServer, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def post(server: SearchServer, payload) -> tuple[int, dict]:
    return request(server, "POST", "/search", json.dumps(payload).encode())


def test_health_and_info(server: SearchServer) -> None:
    assert request(server, "GET", "/health") == (200, {"status": "ok", "documents": 4})
    status, info = request(server, "GET", "/info")
    assert status == 200
    assert info["count"] == 4 and info["model"] == "builtin:tiny"
    assert info["languages"] == {"de": 1, "en": 2, "es": 1}


def test_search_one_query(server: SearchServer) -> None:
    status, body = post(server, {"query": "Anna wrote the book.", "k": 2})
    assert status == 200
    assert body["hits"][0]["id"] == "en-2" and len(body["hits"]) == 2
    assert set(body["hits"][0]) == {"id", "score", "text", "lang"}
    assert body["hits"] == [h.model_dump() for h in server.index.search("Anna wrote the book.", k=2)[0]]


def test_search_many_queries_with_language(server: SearchServer) -> None:
    status, body = post(server, {"query": ["Paris", "El gato duerme."], "k": 3, "lang": "en"})
    assert status == 200
    assert [r["query"] for r in body["results"]] == ["Paris", "El gato duerme."]
    assert all(h["lang"] == "en" for r in body["results"] for h in r["hits"])
    assert all(len(r["hits"]) == 2 for r in body["results"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (json.dumps({"k": 3}).encode(), "'query' must be a string or a list"),
        (json.dumps({"query": "  "}).encode(), "'query' is empty"),
        (json.dumps({"query": ["ok", 3]}).encode(), "list of non-empty strings"),
        (json.dumps({"query": "x", "k": 0}).encode(), "'k' must be an integer"),
        (json.dumps({"query": "x", "k": True}).encode(), "'k' must be an integer"),
        (json.dumps({"query": "x", "top_k": 3}).encode(), "unknown field(s) top_k"),
        (json.dumps({"query": "x", "lang": "fr"}).encode(), "no documents in language 'fr'"),
    ],
)
def test_bad_requests_are_400_with_a_message(server: SearchServer, body: bytes, message: str) -> None:
    status, payload = request(server, "POST", "/search", body)
    assert status == 400
    assert message in payload["error"]


def test_unknown_paths_are_404(server: SearchServer) -> None:
    assert request(server, "GET", "/nope")[0] == 404
    assert request(server, "POST", "/health", b"{}")[0] == 404


def test_parse_search_request_defaults() -> None:
    assert parse_search_request(b'{"query": "q"}') == ("q", 10, None)
    with pytest.raises(BadRequest):
        parse_search_request(b'{"query": "q", "k": 100000}')
