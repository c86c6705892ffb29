"""A tiny HTTP/1.1 keep-alive server on 127.0.0.1 that answers like text:analyze.

Runs in its own process so its CPU time stays out of the client's measurements.
``GET /stats`` returns how many connections it accepted and the most open at once.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket

ANSWER = json.dumps(
    {
        "blocklistsMatch": [],
        "categoriesAnalysis": [
            {"category": c, "severity": 0} for c in ("Hate", "SelfHarm", "Sexual", "Violence")
        ],
    }
).encode()


async def _serve(sock: socket.socket, delay: float) -> None:
    stats = {"accepted": 0, "open": 0, "peak_open": 0, "requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["accepted"] += 1
        stats["open"] += 1
        stats["peak_open"] = max(stats["peak_open"], stats["open"])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /stats"):
                    payload = json.dumps(stats).encode()
                else:
                    stats["requests"] += 1
                    if delay:
                        await asyncio.sleep(delay)
                    payload = ANSWER
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            stats["open"] -= 1
            writer.close()

    server = await asyncio.start_server(handle, sock=sock, backlog=1024)
    async with server:
        await server.serve_forever()


def _run(sock: socket.socket, delay: float) -> None:
    asyncio.run(_serve(sock, delay))


class LoopbackServer:
    """``with LoopbackServer(delay=0.0) as url: ...``"""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        ctx = multiprocessing.get_context("fork")
        self.proc = ctx.Process(target=_run, args=(self.sock, self.delay), daemon=True)
        self.proc.start()
        host, port = self.sock.getsockname()
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.join(5)
        self.sock.close()
