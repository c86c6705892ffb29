"""Real loopback servers for tests: an ASGI app on uvicorn in a thread, or `guardrail serve`
as a subprocess, each on a free port."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Iterator

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on uvicorn in a thread; yields its base URL and stops it on exit."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(300):
        if srv.started:
            break
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def start_serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`python -m guardrail serve --port P *args`, once /health answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "guardrail", "serve", "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, url


def stop_serve(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    """SIGTERM, then the process's stdout and stderr."""
    proc.send_signal(signal.SIGTERM)
    return proc.communicate(timeout=timeout)
