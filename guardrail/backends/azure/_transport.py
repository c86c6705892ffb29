"""HTTP for the Azure backend: one pooled client, auth, retries, typed errors."""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import logging
import random
import time
from typing import Any

import httpx

from ..._exceptions import (
    BackendError,
    BackendTimeoutError,
    ConflictError,
    GuardrailError,
    InvalidInputError,
    NotFoundError,
)
from ._config import RetryPolicy, Secret, TokenProvider

__all__ = ["AzureTransport"]

logger = logging.getLogger("guardrail.azure")
KEY_HEADER = "Ocp-Apim-Subscription-Key"
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # no answer of the service comes near this


def response_json(response: httpx.Response, what: str) -> Any:
    """The JSON body of a service answer; a typed error when there is none or it is not JSON."""
    if not response.content:
        raise BackendError(f"Azure {what} answered {response.status_code} with an empty body", backend="azure")
    try:
        return response.json()
    except ValueError:
        raise BackendError(f"Azure {what} answered {response.status_code} with a body that is not JSON",
                           backend="azure") from None


class AzureTransport:
    """Sends requests to ``{endpoint}/contentsafety`` with retries and a bound on concurrency.

    ``http_client`` lets callers (and tests) bring their own ``httpx.AsyncClient``;
    it is then theirs to close.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        key: Secret | None,
        token_provider: TokenProvider | None,
        timeout: float,
        retry: RetryPolicy,
        max_connections: int,
        max_in_flight: int,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = endpoint + "/contentsafety"
        self._key = key
        self._token_provider = token_provider
        self._timeout = timeout
        self._retry = retry
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._client = http_client
        self._owns_client = http_client is None
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self.max_connections = max_connections

    def __repr__(self) -> str:
        return f"<AzureTransport {self.base_url!r}>"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, limits=self._limits)
        return self._client

    async def _auth_headers(self) -> dict[str, str]:
        if self._key is not None:
            return {KEY_HEADER: self._key.reveal()}
        assert self._token_provider is not None  # resolve_key guarantees one of the two
        token = self._token_provider()
        if inspect.isawaitable(token):
            token = await token
        return {"Authorization": f"Bearer {token}"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        api_version: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content_type: str = "application/json",
        url: str | None = None,
    ) -> httpx.Response:
        """Send one request, retrying what is worth retrying; raise typed errors."""
        if url is not None:
            # A nextLink or Operation-Location keeps its own query (skip, maxpagesize, ...);
            # api-version is added only when the link lacks it, as the SDK does.
            target = httpx.URL(url)
            query = dict(target.params)
            target = target.copy_with(query=None)
            query.setdefault("api-version", api_version)
            query.update(params or {})
        else:
            if any(seg in (".", "..") for seg in path.split("/")) or "\\" in path or "\x00" in path:
                raise InvalidInputError(f"refusing a request path with dot segments: {path!r}")
            target = httpx.URL(self.base_url + path)
            query = dict(params or {})
            query["api-version"] = api_version
        attempt = 0
        async with self._in_flight:
            while True:
                headers = await self._auth_headers()
                if json is not None:
                    headers["Content-Type"] = content_type
                started = time.perf_counter()
                try:
                    response = await self._send(method, target, query, json, headers)
                except httpx.TimeoutException as exc:
                    if attempt >= self._retry.max_retries:
                        raise BackendTimeoutError(
                            f"Azure {method} {path} timed out after {attempt + 1} attempt(s)",
                            backend="azure",
                        ) from exc
                    delay = self._backoff(attempt, None)
                except httpx.TransportError as exc:
                    if attempt >= self._retry.max_retries:
                        raise BackendError(
                            f"Azure {method} {path} failed: {type(exc).__name__} "
                            f"after {attempt + 1} attempt(s)",
                            backend="azure",
                        ) from exc
                    delay = self._backoff(attempt, None)
                else:
                    logger.debug(
                        "azure %s %s -> %s in %.1f ms", method, path, response.status_code,
                        (time.perf_counter() - started) * 1000.0,
                    )
                    if 200 <= response.status_code < 300:
                        return response
                    if response.status_code < 400:  # a redirect is never an analysis
                        raise BackendError(
                            f"Azure {method} {path} answered {response.status_code}"
                            + (f" (redirect to {response.headers.get('location')!r}; use that endpoint"
                               " - https, not http)" if response.is_redirect else ""),
                            backend="azure", status_code=response.status_code,
                        )
                    retryable = response.status_code in self._retry.retry_statuses
                    if not retryable or attempt >= self._retry.max_retries:
                        await response.aread()
                        raise _error_for(method, path, response)
                    delay = self._backoff(attempt, response)
                attempt += 1
                logger.info("azure %s %s: retry %d in %.2fs", method, path, attempt, delay)
                await asyncio.sleep(delay)

    async def _send(self, method: str, url: httpx.URL, query: dict[str, Any], json: Any,
                    headers: dict[str, str]) -> httpx.Response:
        request = self._http().build_request(method, url, params=query, json=json, headers=headers)
        response = await self._http().send(request, stream=True, follow_redirects=False)
        try:
            chunks, size = [], 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise BackendError(f"Azure {method} {url.path} answered more than "
                                       f"{MAX_RESPONSE_BYTES:,} bytes; refused", backend="azure")
                chunks.append(chunk)
        finally:
            await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, content=b"".join(chunks),
                              request=request)

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            hinted = _retry_after(response)
            if hinted is not None:
                return min(hinted, 60.0)
        cap = min(self._retry.max_backoff, self._retry.backoff * (2**attempt))
        return random.uniform(0, cap)  # full jitter

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None if self._owns_client else self._client


def _retry_after(response: httpx.Response) -> float | None:
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # unparseable: fall back to the backoff
    if parsed is None:  # pragma: no cover
        return None
    try:
        return max(0.0, parsed.timestamp() - time.time())
    except (OverflowError, OSError, ValueError):  # pragma: no cover
        return None


def _error_for(method: str, path: str, response: httpx.Response) -> GuardrailError:
    code: str | None = response.headers.get("x-ms-error-code")
    message = response.reason_phrase or "error"
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body["error"] if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code = error.get("code") or code
    message = error.get("message") or message
    status = response.status_code
    text = f"Azure {method} {path} answered {status}"
    text += f" {code}: {message}" if code else f": {message}"
    if error.get("target"):
        text += f" (target: {error['target']})"
    exc: GuardrailError
    if status == 404:
        exc = NotFoundError(text, code=code, status_code=status)
    elif status == 409:
        exc = ConflictError(text, code=code, status_code=status)
    elif status in (400, 413, 422):
        exc = InvalidInputError(text, code=code, status_code=status)
    else:
        exc = BackendError(text, backend="azure", code=code, status_code=status)
    exc.target = error.get("target")
    exc.details = list(error.get("details") or [])
    exc.innererror = error.get("innererror")
    return exc
