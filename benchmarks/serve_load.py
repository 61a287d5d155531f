"""Load test of ``hybridbatch serve`` on loopback: micro-batched vs one-request-one-encode, same run.

The real model (``builtin:multilingual-e5-small``) over an XQuAD-R index (built with
``hybridbatch index`` into ``runs/bench-index`` when missing, ~6 min CPU). For each server mode —
``batched`` (``--max-batch 32``) and ``naive`` (``--max-batch 1``: every query its own encode call,
the same app otherwise) — a fresh ``hybridbatch serve`` subprocess on 127.0.0.1 (a free port) gets
``--requests`` requests from ``--concurrency`` client workers (asyncio, raw HTTP/1.1 sockets; valid
requests on keep-alive connections). Valid requests are XQuAD-R questions (11 languages, k=10);
``--malformed`` of them are, in turn: bad JSON, 100,000-deep JSON, oversized bodies (2 MiB with
Content-Length, and chunked), invalid fields, half-sent headers, half-sent bodies (both wait for the
server's 408 after ``--request-timeout``) and clients that hang up mid-request. Each kind has an
expected status; anything else is counted as unexpected. Reported: throughput, p50/p95/p99 latency
of valid requests, counts by kind and status, 5xx count, failed valid requests, the server's peak RSS
(VmHWM). Every phase is bounded (``--time-limit`` per mode, 60 s per request) and the servers are
stopped with SIGTERM. Usage (a heavy job: share the CPU through the lock)::

    flock /work/coord/heavy.lock python benchmarks/serve_load.py [--requests 10000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybridbatch.search.launch import serve_subprocess

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"  # the local mirror, when there is one
MODEL = "builtin:multilingual-e5-small"
CLIENT_TIMEOUT = 60.0
MALFORMED = (
    "bad_json",
    "deep_json",
    "oversized",
    "oversized_chunked",
    "bad_field",
    "slow_headers",
    "half_body",
    "hang_up",
    "smuggle",
    "text_plain",
    "big_header",
    "slow_reader",
    "idle_flood",
)
DROPPED, ALL_CLOSED = -1, -2  # pseudo-statuses: a slow reader's answer dropped; a flood's sockets closed
FLOOD = 300  # idle sockets per flood (more than the server's 256 connections)
EXPECTED = {
    "valid": 200,
    "bad_json": 400,
    "deep_json": 400,
    "oversized": 413,
    "oversized_chunked": 413,
    "bad_field": 422,
    "slow_headers": 408,
    "half_body": 408,
    "hang_up": None,
    "smuggle": 400,
    "text_plain": 415,
    "big_header": 431,
    "slow_reader": DROPPED,
    "idle_flood": ALL_CLOSED,
}
BAD_FIELDS = (
    {"query": "x", "k": 0},
    {"query": "x", "k": 100000},
    {"query": "   "},
    {"k": 3},
    {"query": "x", "top_k": 3},
    {"query": ["q"] * 500},
    {"query": "x", "lang": "xx"},
)


@dataclass
class Outcome:
    kind: str
    status: int | None  # None: no response (connection closed or client timeout)
    seconds: float
    error: str = ""


@dataclass
class ModeResult:
    mode: str
    wall: float
    outcomes: list[Outcome]
    peak_rss_mb: float
    start_rss_mb: float
    encode_calls: str = ""
    retries: int = 0
    notes: list[str] = field(default_factory=list)
    shutdown: Counter = field(default_factory=Counter)  # statuses while SIGTERM stops the server
    tracebacks: int = 0  # in the server's log


# --- raw HTTP/1.1 client --------------------------------------------------------------------
async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers


def post(body: bytes, extra: str = "") -> bytes:
    return (
        f"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class Connection:
    """A keep-alive connection for valid requests, reopened when the server closes it.

    Like any HTTP client's connection pool, a request that fails on a *reused* connection before any
    byte of the answer (the server closed it as idle meanwhile) is retried once on a new connection;
    ``retries`` counts those.
    """

    retries = 0

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        reused = self.writer is not None and not self.writer.is_closing()
        try:
            return await self._request(raw)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
        await self.close()
        Connection.retries += 1
        return await self._request(raw)

    async def _request(self, raw: bytes) -> int:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        await self.writer.drain()
        status, body, headers = await read_response(self.reader)
        if status == 200:
            assert "hits" in json.loads(body)  # a valid answer
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


CHUNKED_HEAD = (
    b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
MALFORMED_REQUESTS: dict[str, Callable[[random.Random], bytes]] = {  # those answered with one status
    "bad_json": lambda rng: post(b'{"query": "unterminated'),
    "deep_json": lambda rng: post(b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "oversized": lambda rng: post(b"x" * (2 << 20)),
    "oversized_chunked": lambda rng: CHUNKED_HEAD + (b"40000\r\n" + b"x" * 0x40000 + b"\r\n") * 8,
    "bad_field": lambda rng: post(json.dumps(rng.choice(BAD_FIELDS)).encode()),
    "slow_headers": lambda rng: b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",
    "half_body": lambda rng: post(b'{"query": "half').replace(b"Length: 15", b"Length: 99"),
    "text_plain": lambda rng: post(b'{"query": "x"}').replace(b"application/json", b"text/plain"),
    "big_header": lambda rng: post(b'{"query": "x"}', f"X-Big: {'x' * 100_000}\r\n"),
}


async def malformed(host: str, port: int, kind: str, rng: random.Random) -> int | None:
    """Send one malformed request on a fresh connection; the status, or None when none came."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        if kind == "smuggle":  # chunked and Content-Length, a second request hidden in the body
            hidden = b"0\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            writer.write(post(hidden, "Transfer-Encoding: chunked\r\n"))
            status = (await read_response(reader))[0]
            more = await asyncio.wait_for(reader.read(), 10)  # the server must close, serving nothing else
            return status if not more else 999
        if kind == "hang_up":
            writer.write(post(b'{"query": "bye", "k": 10}')[:40])
            await writer.drain()
            return None
        writer.write(MALFORMED_REQUESTS[kind](rng))
        with contextlib.suppress(ConnectionError):  # the server may answer early and close
            await writer.drain()
        return (await read_response(reader))[0]
    finally:
        writer.close()


FLOOD_LOCK: list[asyncio.Lock] = []
SEND_TIMEOUT = 2.0  # the server's --send-timeout in this benchmark
REQUEST_LINE_TIMEOUT = 2.0  # the server's --request-line-timeout (its default)


async def slow_reader(host: str, port: int) -> int | None:
    """Ask for a ~7 MB answer on a socket with a 4 KiB receive buffer and, once it begins, leave it
    unread past the server's --send-timeout; DROPPED when the server closes before all of it came."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, (host, port))
        body = json.dumps({"query": [f"question {i}" for i in range(30)], "k": 1000}).encode()
        await loop.sock_sendall(sock, post(body))
        readable = loop.create_future()
        loop.add_reader(sock, lambda: readable.done() or readable.set_result(None))
        try:
            await readable  # the answer has begun: from now on, leave it unread past --send-timeout
        finally:
            loop.remove_reader(sock)
        await asyncio.sleep(SEND_TIMEOUT + 2)
        data = b""
        with contextlib.suppress(OSError):
            while chunk := await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 10):
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            (int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")),
            -1,
        )
        return DROPPED if len(rest) < length or not head else int(head.split()[1])
    finally:
        sock.close()


async def idle_flood(host: str, port: int, lock: asyncio.Lock) -> int | None:
    """Open FLOOD sockets that send nothing (one flood at a time); ALL_CLOSED when the server has
    closed every one within its --request-line-timeout plus slack (meanwhile others are served)."""
    async with lock:
        conns = []
        try:
            for _ in range(FLOOD):
                conns.append(await asyncio.open_connection(host, port))

            async def closed(reader: asyncio.StreamReader) -> None:
                with contextlib.suppress(OSError):
                    await reader.read()

            await asyncio.wait_for(asyncio.gather(*(closed(r) for r, _ in conns)), REQUEST_LINE_TIMEOUT + 8)
            return ALL_CLOSED
        finally:
            for _, writer in conns:
                writer.close()


async def one(kind: str, payload: bytes, conn: Connection, address: tuple[str, int], rng) -> Outcome:
    start = time.perf_counter()
    try:
        if kind == "valid":
            status = await asyncio.wait_for(conn.request(payload), CLIENT_TIMEOUT)
        elif kind == "slow_reader":
            status = await asyncio.wait_for(slow_reader(*address), CLIENT_TIMEOUT)
        elif kind == "idle_flood":
            status = await asyncio.wait_for(idle_flood(*address, FLOOD_LOCK[0]), CLIENT_TIMEOUT)
        else:
            status = await asyncio.wait_for(malformed(*address, kind, rng), CLIENT_TIMEOUT)
        return Outcome(kind, status, time.perf_counter() - start)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, KeyError) as exc:
        await conn.close()
        return Outcome(kind, None, time.perf_counter() - start, type(exc).__name__)


async def drive(address: tuple[str, int], plan: list[tuple[str, bytes]], concurrency: int, limit: float):
    """Run ``plan`` with ``concurrency`` workers; stop starting requests after ``limit`` seconds."""
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + limit
    FLOOD_LOCK[:] = [asyncio.Lock()]

    async def worker(seed: int) -> None:
        rng, conn = random.Random(seed), Connection(*address)
        while not queue.empty() and time.perf_counter() < deadline:
            kind, payload = queue.get_nowait()
            outcomes.append(await one(kind, payload, conn, address, rng))
        await conn.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return outcomes


# --- server ---------------------------------------------------------------------------------
def memory_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sigterm_under_load(
    proc: subprocess.Popen, address: tuple[str, int], payloads: list[bytes], workers: int
) -> Counter:
    """Valid requests from ``workers`` keep-alive clients; SIGTERM after 1 s; statuses until refused."""
    statuses: Counter = Counter()
    stop = time.perf_counter() + 60

    async def worker(i: int) -> None:
        conn = Connection(*address)
        while time.perf_counter() < stop:
            try:
                statuses[
                    await asyncio.wait_for(conn.request(payloads[i % len(payloads)]), CLIENT_TIMEOUT)
                ] += 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError, AssertionError):
                statuses["closed or refused"] += 1
                return
            i += workers

    tasks = [asyncio.create_task(worker(i)) for i in range(workers)]
    await asyncio.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    await asyncio.gather(*tasks)
    return statuses


def server_info(port: int) -> dict:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/info")
    info = json.loads(conn.getresponse().read())
    conn.close()
    return info["server"]


# --- the run --------------------------------------------------------------------------------
def make_plan(questions: list[str], n: int, malformed_share: float, seed: int) -> list[tuple[str, bytes]]:
    """``n`` requests: valid XQuAD-R questions (k=10) and, spread evenly, the malformed kinds in turn."""
    rng = random.Random(seed)
    n_bad = round(n * malformed_share)
    bad_slots = set(rng.sample(range(n), n_bad))
    plan, turn = [], 0
    for i in range(n):
        if i in bad_slots:
            plan.append((MALFORMED[turn % len(MALFORMED)], b""))
            turn += 1
        else:
            plan.append(("valid", post(json.dumps({"query": rng.choice(questions), "k": 10}).encode())))
    return plan


def run_mode(mode: str, args: argparse.Namespace, plan: list[tuple[str, bytes]]) -> ModeResult:
    max_batch = 32 if mode == "batched" else 1
    log = Path(args.log_dir) / f"serve-{mode}.log"
    flags = server_flags(max_batch, args.request_timeout)
    with serve_subprocess(Path(args.index), *flags, log=log) as server:
        proc, address = server.proc, server.address
        start_rss = memory_mb(proc.pid, "VmRSS")
        start = time.perf_counter()
        Connection.retries = 0
        outcomes = asyncio.run(drive(address, plan, args.concurrency, args.time_limit))
        wall = time.perf_counter() - start
        info = server_info(address[1])
        peak = memory_mb(proc.pid, "VmHWM")
        payloads = [payload for kind, payload in plan if kind == "valid"][:1000]
        shutdown = asyncio.run(sigterm_under_load(proc, address, payloads, args.concurrency))
        server.stop()
    text = log.read_text()
    tracebacks = text.count("Traceback") + text.count("Exception in ASGI application")
    calls = (
        f"{info['encode_calls']} calls, {info['encoded_queries'] / max(info['encode_calls'], 1):.1f} q/call"
    )
    result = ModeResult(mode, wall, outcomes, peak, start_rss, calls, Connection.retries)
    result.shutdown, result.tracebacks = shutdown, tracebacks
    if len(outcomes) < len(plan):
        result.notes.append(f"stopped by --time-limit after {len(outcomes)} of {len(plan)} requests")
    if proc.returncode not in (0, -signal.SIGTERM):
        result.notes.append(f"server exit code {proc.returncode}")
    return result


def server_flags(max_batch: int, timeout: float) -> list[str]:
    """The serve flags of this benchmark (besides --index and --port)."""
    return [
        *("--max-batch", str(max_batch), "--request-timeout", str(timeout)),
        *("--send-timeout", str(SEND_TIMEOUT), "--max-hits", "30000", "--graceful-timeout", "1"),
    ]


def summarize(r: ModeResult) -> dict:
    valid = [o for o in r.outcomes if o.kind == "valid"]
    ok = np.array([o.seconds for o in valid if o.status == 200]) * 1000
    unexpected = [o for o in r.outcomes if EXPECTED[o.kind] is not None and o.status != EXPECTED[o.kind]]
    return {
        "requests": len(r.outcomes),
        "wall_s": r.wall,
        "req_per_s": len(r.outcomes) / r.wall,
        "valid_per_s": len(ok) / r.wall,
        "valid": len(valid),
        "valid_failed": len(valid) - len(ok),
        "p50": float(np.percentile(ok, 50)) if len(ok) else float("nan"),
        "p95": float(np.percentile(ok, 95)) if len(ok) else float("nan"),
        "p99": float(np.percentile(ok, 99)) if len(ok) else float("nan"),
        "server_5xx": sum(1 for o in r.outcomes if o.status is not None and o.status >= 500),
        "unexpected": len(unexpected),
        "by_kind": Counter(
            f"{o.kind} → {o.status if o.status is not None else 'no response'}" for o in r.outcomes
        ),
        "errors": Counter(o.error for o in r.outcomes if o.error),
    }


def render(results: list[ModeResult], args: argparse.Namespace, plan_size: int) -> str:
    s = {r.mode: summarize(r) for r in results}
    rows = [
        ("requests run", "requests", "{:d}"),
        ("wall time (s)", "wall_s", "{:.1f}"),
        ("throughput, all requests (req/s)", "req_per_s", "{:.1f}"),
        ("throughput, valid answered (req/s)", "valid_per_s", "{:.1f}"),
        ("valid p50 (ms)", "p50", "{:.0f}"),
        ("valid p95 (ms)", "p95", "{:.0f}"),
        ("valid p99 (ms)", "p99", "{:.0f}"),
        ("valid requests", "valid", "{:d}"),
        ("failed valid requests", "valid_failed", "{:d}"),
        ("server errors (5xx)", "server_5xx", "{:d}"),
        ("unexpected statuses", "unexpected", "{:d}"),
    ]
    modes = [r.mode for r in results]
    lines = ["| | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    lines += [
        f"| {label} | " + " | ".join(fmt.format(s[m][key]) for m in modes) + " |" for label, key, fmt in rows
    ]
    rss = " | ".join(f"{r.peak_rss_mb:.0f} ({r.start_rss_mb:.0f})" for r in results)
    lines.append(f"| server peak RSS, MB (RSS when ready) | {rss} |")
    lines.append("| encode calls | " + " | ".join(r.encode_calls for r in results) + " |")
    lines.append("| keep-alive retries (idle-closed) | " + " | ".join(str(r.retries) for r in results) + " |")
    if {"batched", "naive"} <= set(s):
        ratio = s["batched"]["valid_per_s"] / max(s["naive"]["valid_per_s"], 1e-9)
        lines.append(f"\n**Throughput ratio batched / naive (valid requests): {ratio:.2f}×**")
    for r in results:
        lines.append(
            f"\n`{r.mode}` by kind → status: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(summarize(r)["by_kind"].items()))
        )
        errors = summarize(r)["errors"]
        if errors:
            lines.append(
                f"client-side errors ({r.mode}): " + ", ".join(f"{k}: {v}" for k, v in errors.items())
            )
        lines += [f"note ({r.mode}): {n}" for n in r.notes]
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(r.shutdown.items(), key=str))
        lines.append(
            f"\nSIGTERM under load (`{r.mode}`, {args.concurrency} clients, graceful 1 s): {shown}; "
            f"tracebacks in the server log: {r.tracebacks}"
        )
    head = (
        f"{plan_size} requests per mode, {args.concurrency} concurrent, {args.malformed:.0%} malformed, "
        f"server --request-timeout {args.request_timeout:g} s, seed {args.seed}"
    )
    return head + "\n\n" + "\n".join(lines) + "\n"


PREAMBLE = """# The search service under load (`benchmarks/serve_load.py`)

`hybridbatch serve` (FastAPI + uvicorn) with `builtin:multilingual-e5-small` over the XQuAD-R index
(13,014 sentences, 11 languages), loopback only. Two servers in the same run, same flags except
`--max-batch`: **batched** (32 queries per encode call, 5 ms max wait) and **naive** (`--max-batch 1`:
one encode call per query, the pre-batching behaviour). Valid requests are XQuAD-R questions, k=10,
on keep-alive connections; malformed ones (bad JSON, 100,000-deep JSON, 2 MiB bodies with
Content-Length and chunked, invalid fields, half-sent headers, half-sent bodies, clients hanging up)
use a fresh connection each and must get their expected status (400/413/422/408); so must the
issue-24 shapes: TE+CL smuggling (400, nothing else served), a `text/plain` POST (415), a 100 KB
header (431), slow readers (a ~7 MB answer left unread: dropped after `--send-timeout 2`) and idle
floods (300 sockets that send nothing, over the 256-connection cap: all closed within the request-line
timeout while the others are served). After the load, each server is stopped by SIGTERM while
`--concurrency` clients keep sending (`--graceful-timeout 1`): every answer must be 200 or the JSON
503, with no traceback in the log. Latencies are client-side, of valid requests answered 200.
Keep-alive retries count valid requests resent once on a new connection because the server had
closed the idle one (e.g. past `--keep-alive` 5 s while its client ran a flood or a slow reader).
Generated by the script; do not edit by hand.
"""


def verdict(results: list[ModeResult]) -> str:
    """The targets: no 5xx, no failed valid request, batched >= 2x naive throughput."""
    s = {r.mode: summarize(r) for r in results}
    checks = [f"{m}: {v['server_5xx']} server errors, {v['valid_failed']} failed valid" for m, v in s.items()]
    if {"batched", "naive"} <= set(s):
        ratio = s["batched"]["valid_per_s"] / max(s["naive"]["valid_per_s"], 1e-9)
        checks.append(f"throughput ratio {ratio:.2f} (target >= 2)")
    ok = all(v["server_5xx"] == 0 and v["valid_failed"] == 0 for v in s.values())
    for r in results:
        bad = sum(n for status, n in r.shutdown.items() if status not in (200, 503, "closed or refused"))
        checks.append(f"{r.mode} SIGTERM: {bad} answers other than 200/503, {r.tracebacks} tracebacks")
        ok = ok and bad == 0 and r.tracebacks == 0
    ok = ok and ("batched" not in s or "naive" not in s or ratio >= 2)
    return f"Targets {'met' if ok else 'NOT met'}: " + "; ".join(checks) + "."


def questions(limit_per_lang: int | None = None) -> list[str]:
    from hybridbatch.data.registry import load_collection

    collection = load_collection("xquad-r")
    return [q.text for by_id in collection.questions.values() for q in list(by_id.values())[:limit_per_lang]]


def ensure_index(path: Path, model: str) -> None:
    if (path / "index.json").is_file():
        return
    print(f"building the XQuAD-R index into {path} (~6 min CPU) ...", file=sys.stderr)
    command = [
        sys.executable,
        "-m",
        "hybridbatch.cli",
        "index",
        "--model",
        model,
        "--corpus",
        "xquad-r",
        "--out",
        str(path),
    ]
    subprocess.run(command, check=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=MODEL, help="e.g. builtin:tiny for a quick run of the service")
    parser.add_argument("--index", default=None, help="default: runs/bench-index[-<model name>]")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--malformed", type=float, default=0.1)
    parser.add_argument("--request-timeout", type=float, default=1.0, help="the server's, for slow clients")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds per mode")
    parser.add_argument("--modes", default="batched,naive")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-dir", default="/tmp")
    parser.add_argument("--out", default=None, help="write the results table here (markdown)")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or not 0 <= args.malformed <= 1 or args.time_limit <= 0:
        sys.exit("error: --requests/--concurrency must be >= 1, --malformed in [0, 1], --time-limit > 0")
    if "HYBRIDBATCH_DATA" not in os.environ and (SHARED_DATA / "xquad-r").is_dir():
        os.environ["HYBRIDBATCH_DATA"] = str(SHARED_DATA)
    if not set(args.modes.split(",")) <= {"batched", "naive"}:
        sys.exit(f"error: --modes: unknown mode in {args.modes!r} (batched, naive)")
    return args


def main() -> None:
    args = parse_args()
    modes = args.modes.split(",")
    from hybridbatch.errors import HybridbatchError

    try:
        texts = questions()
        if args.index is None:
            suffix = "" if args.model == MODEL else "-" + args.model.split(":")[-1].replace("/", "-")
            args.index = str(ROOT / "runs" / f"bench-index{suffix}")
        ensure_index(Path(args.index), args.model)
    except (HybridbatchError, subprocess.CalledProcessError) as exc:
        sys.exit(f"error: {exc}")
    plan = make_plan(texts, args.requests, args.malformed, args.seed)
    results, started, load = [], time.strftime("%Y-%m-%d %H:%M %Z"), [os.getloadavg()[0]]
    for mode in modes:
        print(f"[{time.strftime('%H:%M:%S')}] {mode}: {len(plan)} requests ...", file=sys.stderr, flush=True)
        results.append(run_mode(mode, args, plan))
        load.append(os.getloadavg()[0])
    machine = (
        f"Run {started}: `python {' '.join(sys.argv)}`; {os.cpu_count()} CPUs shared with other jobs "
        f"(1-min load average {', '.join(f'{x:.1f}' for x in load)} at start / after each mode)."
    )
    preamble = PREAMBLE.replace(MODEL, args.model)
    report = f"{preamble}\n{machine}\n\n{render(results, args, len(plan))}\n{verdict(results)}\n"
    print(report)
    if args.out:
        tmp = Path(args.out).with_suffix(".tmp")
        tmp.write_text(report, encoding="utf-8")
        tmp.replace(args.out)


if __name__ == "__main__":
    main()
