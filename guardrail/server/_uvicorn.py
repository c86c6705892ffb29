"""uvicorn's Config with the --workers listener fixed (imported only by `guardrail serve`)."""

from __future__ import annotations

import socket

import uvicorn

__all__ = ["Config"]


class Config(uvicorn.Config):
    """uvicorn binds the --workers listener with proto 0, so asyncio never sets TCP_NODELAY on
    its connections and every keep-alive request waits ~40 ms for a delayed ACK
    (Kludex/uvicorn#3149, open in 0.54). The same socket with proto IPPROTO_TCP fixes it.
    Module level: the workers receive the config pickled."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)
        return sock
