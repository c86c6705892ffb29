"""Fetching a URL the user gave (image samples, image links in chat messages) safely.

Links often come from end users (a LangChain ``image_url`` part), so a fetch must not be a
way into the server's own network: by default hosts that resolve to loopback, link-local,
private, multicast or reserved addresses are refused, at every redirect hop. At most
``MAX_REDIRECTS`` redirects are followed and at most ``limit`` bytes read. Sync and async
twins share the checks. (A host whose DNS answer changes between the check and the
connection is not caught; allow-list hosts with ``allowed_hosts`` rather than relying on it.)
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Iterable
from urllib.parse import urljoin, urlsplit

import httpx

from ._exceptions import InvalidInputError, LimitExceededError

__all__ = ["MAX_REDIRECTS", "afetch", "check_url", "fetch", "shown"]

MAX_REDIRECTS = 3



def shown(url: str) -> str:
    """A URL fit for a message or a log: no query or fragment (a SAS token lives there), cut short."""
    return url.split("?", 1)[0].split("#", 1)[0][:120]

def _allowed(host: str, addresses: Iterable[str], allowed_hosts: Iterable[str]) -> bool:
    allowed = list(allowed_hosts)
    if host in allowed:
        return True
    for entry in allowed:
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if all(ipaddress.ip_address(a) in net for a in addresses):
            return True
    return False


def check_url(url: str, allowed_hosts: Iterable[str] = ()) -> None:
    """Refuse non-http(s) URLs and hosts on internal addresses (unless allow-listed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"only http(s) URLs can be fetched, got {shown(url)!r}")
    host = parts.hostname
    if host in tuple(allowed_hosts):
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInputError(f"cannot resolve {host!r}: {exc}") from None
    addresses = sorted({info[4][0] for info in infos})
    if _allowed(host, addresses, allowed_hosts):
        return
    for a in addresses:
        ip = ipaddress.ip_address(a.split("%")[0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved \
                or ip.is_unspecified:
            raise InvalidInputError(
                f"refusing to fetch {host!r}: it resolves to the internal address {a} "
                "(allow it with allowed_hosts= if you mean it)"
            )


def _next(url: str, response: httpx.Response, hops: int) -> str:
    if hops >= MAX_REDIRECTS:
        raise InvalidInputError(f"fetching {shown(url)!r}: more than {MAX_REDIRECTS} redirects")
    location = response.headers.get("location")
    if not location:
        raise InvalidInputError(f"fetching {shown(url)!r}: a redirect without a Location")
    return urljoin(url, location)


class _Body:
    """Collects a response body, refusing it once it passes ``limit`` bytes."""

    def __init__(self, url: str, limit: int) -> None:
        self.url, self.limit, self.chunks, self.size = url, limit, [], 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise LimitExceededError(f"{shown(self.url)!r} is over the {self.limit:,}-byte limit")
        self.chunks.append(chunk)

    def bytes(self) -> bytes:
        return b"".join(self.chunks)


def _redirect(url: str, r: httpx.Response, hops: int) -> str | None:
    """Where a redirect leads (checked again by the caller), or None to read this answer."""
    if r.is_redirect:
        return _next(url, r, hops)
    if r.status_code >= 400:
        raise InvalidInputError(f"fetching {shown(url)!r} answered HTTP {r.status_code}")
    return None


def fetch(url: str, *, limit: int, timeout: float, allowed_hosts: Iterable[str] = ()) -> bytes:
    allowed = tuple(allowed_hosts)  # read at every hop
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for hops in range(MAX_REDIRECTS + 1):
            check_url(url, allowed)
            try:
                with client.stream("GET", url) as r:
                    if (target := _redirect(url, r, hops)) is not None:
                        url = target
                        continue
                    body = _Body(url, limit)
                    for chunk in r.iter_bytes():
                        body.add(chunk)
                    return body.bytes()
            except httpx.HTTPError as exc:
                raise InvalidInputError(f"cannot fetch {shown(url)!r}: {type(exc).__name__}") from None
    raise AssertionError("unreachable")  # pragma: no cover


async def afetch(url: str, *, limit: int, timeout: float, allowed_hosts: Iterable[str] = ()) -> bytes:
    import asyncio

    allowed = tuple(allowed_hosts)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        for hops in range(MAX_REDIRECTS + 1):
            await asyncio.to_thread(check_url, url, allowed)  # DNS off the loop
            try:
                async with client.stream("GET", url) as r:
                    if (target := _redirect(url, r, hops)) is not None:
                        url = target
                        continue
                    body = _Body(url, limit)
                    async for chunk in r.aiter_bytes():
                        body.add(chunk)
                    return body.bytes()
            except httpx.HTTPError as exc:
                raise InvalidInputError(f"cannot fetch {shown(url)!r}: {type(exc).__name__}") from None
    raise AssertionError("unreachable")  # pragma: no cover
