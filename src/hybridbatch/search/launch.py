"""``hybridbatch serve`` as a subprocess on 127.0.0.1 (a free port), for tests and benchmarks.

:func:`serve_subprocess` starts it, waits until uvicorn has started, and yields a :class:`ServeProcess`
(the URL, the process, its log); on exit it stops the server with SIGTERM (a kill after ``stop_timeout``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTED = "Application startup complete"


@dataclass
class ServeProcess:
    """A running ``hybridbatch serve``: its process, base URL (``http://host:port``) and log file."""

    proc: subprocess.Popen
    url: str
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)

    def log_text(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait up to ``timeout`` seconds (kill after that); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@contextmanager
def serve_subprocess(
    index: Path, *flags: str, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[ServeProcess]:
    """Run ``hybridbatch serve --index INDEX --port 0 FLAGS...`` until the block ends.

    ``env`` is added to the environment; the output goes to ``log`` (default: a temporary file).
    Raises RuntimeError (with the log's tail) when the server exits or is not up within 600 s.
    """
    with tempfile.TemporaryDirectory(prefix="hybridbatch-serve-") as tmp:
        log = log or Path(tmp) / "serve.log"
        command = [sys.executable, "-m", "hybridbatch.cli", "serve", "--index", str(index), "--port", "0"]
        with log.open("w", encoding="utf-8") as out:
            proc = subprocess.Popen(
                [*command, *flags],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )
        server = ServeProcess(proc, "", log)
        try:
            server.url = _wait_for_start(server, deadline=time.monotonic() + 600)
            yield server
        finally:
            server.stop()


def _wait_for_start(server: ServeProcess, deadline: float) -> str:
    """The URL the server printed once uvicorn has started."""
    while time.monotonic() < deadline and server.proc.poll() is None:
        text = server.log_text()
        if STARTED in text:
            serving = next(line for line in text.splitlines() if line.startswith("serving "))
            return serving.rsplit(" on ", 1)[1].split()[0]
        time.sleep(0.1)
    server.stop(timeout=5)
    raise RuntimeError(f"hybridbatch serve did not start; its output ends:\n{server.log_text()[-2000:]}")
