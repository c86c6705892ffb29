"""Request parsing shared by the routes: bounded JSON bodies, typed fields, query integers,
paging with nextLink, and long-running operations whose status survives restarts and workers."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse

from .._exceptions import NotFoundError
from ._errors import ApiError

__all__ = ["MAX_BODY_BYTES", "MAX_PAGE", "TEXT_LIMIT", "accepted", "batch", "body", "exists", "field", "int_param",
           "page", "read_token", "text_field"]

MAX_BODY_BYTES = 8 * 1024 * 1024  # a 4 MB image as base64, with room for the JSON around it
TEXT_LIMIT = 10_000
MAX_PAGE = 100


async def body(request: Request) -> dict[str, Any]:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:  # refused before it is read whole
            raise ApiError(413, "RequestTooLarge", f"the request body is over {MAX_BODY_BYTES:,} bytes")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks) or b"null")
    except ValueError:
        raise ApiError(400, "InvalidRequestBody", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "InvalidRequestBody", "the request body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = data.get(name, default)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ApiError(400, "InvalidRequestBody", f"{name} has the wrong type", target=name)
    return value


def batch(data: dict[str, Any], name: str) -> list[Any]:
    """A list field of one add/remove request: 1 to MAX_PAGE entries, as the service takes."""
    value = field(data, name, list)
    if not value or len(value) > MAX_PAGE:
        raise ApiError(400, "InvalidRequestBody", f"{name} must hold 1 to {MAX_PAGE} entries per request",
                       target=name)
    return value


def text_field(data: dict[str, Any], name: str = "text", limit: int = TEXT_LIMIT) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, "InvalidRequestBody", f"{name} must be a non-empty string", target=name)
    if len(value) > limit:
        raise ApiError(400, "InvalidRequestBody", f"{name} is {len(value):,} characters; the limit is {limit:,}",
                       target=name)
    return value


def int_param(request: Request, name: str, low: int, high: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        raise ApiError(400, "InvalidRequest", f"query parameter {name} must be an integer >= {low}"
                       + (f" and <= {high}" if high is not None else ""), target=name)
    return int(raw)


def exists(get: Callable[[str], Any], name: str) -> bool:
    """For 200 vs 201 on upsert: one lookup, not a listing of every resource."""
    try:
        get(name)
    except NotFoundError:
        return False
    return True


def page(request: Request, fetch: Callable[[int, int], Sequence[Any]], render: Callable[[Any], Any]) -> JSONResponse:
    """One page of ``top``/``skip``/``maxpagesize`` with the service's ``nextLink``;
    ``fetch(limit, skip)`` reads one row past the page to know whether another follows."""
    top = int_param(request, "top", 0)
    skip = int_param(request, "skip", 0) or 0
    size = int_param(request, "maxpagesize", 1, MAX_PAGE) or MAX_PAGE
    want = size if top is None else min(size, top)
    rows = fetch(want + 1, skip)
    out: dict[str, Any] = {"value": [render(r) for r in rows[:want]]}
    left = None if top is None else top - want
    if len(rows) > want and (left is None or left > 0):
        query = {"skip": str(skip + want), "maxpagesize": str(size), "api-version": request.query_params["api-version"]}
        if left is not None:
            query["top"] = str(left)
        out["nextLink"] = str(request.url.replace_query_params(**query))
    return JSONResponse(out)


# -- long-running operations ------------------------------------------------------------
# The operation id carries what its status is read from (an outcome, or the category version
# whose build it follows), so any worker of `guardrail serve --workers N`, or the server after
# a restart, answers the Operation-Location it handed out. Forging one reveals nothing: the
# status comes from the store, under the same key check as every route.

def _token(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(op: str) -> dict[str, Any]:
    if len(op) > 1024:
        raise ApiError(404, "NotFound", "no such operation")
    try:
        state = json.loads(base64.urlsafe_b64decode(op + "=" * (-len(op) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(404, "NotFound", "no such operation") from None
    if not isinstance(state, dict):
        raise ApiError(404, "NotFound", "no such operation")
    return state


def accepted(request: Request, path: str, state: dict[str, Any], shown: dict[str, Any]) -> JSONResponse:
    """202 with ``Operation-Location`` at ``path/<id>`` (same api-version) and the first status."""
    op = _token(state)
    location = request.url.replace(path=f"{path}/{op}", query=f"api-version={request.query_params['api-version']}")
    return JSONResponse({"id": op, **shown}, status_code=202, headers={"Operation-Location": str(location)})
