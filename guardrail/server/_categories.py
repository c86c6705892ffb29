"""Custom categories (standard), the previews' routes, answered by the local engine.

Create a version from ``sampleBlobUrl`` (fetched as image links are: internal addresses are
refused unless the server allows the host), build it as a long-running operation, analyze
with ``text:analyzeCustomCategory`` or ``customizedCategories`` on ``text:analyze``."""

from __future__ import annotations

from typing import Any, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._resources import BuildStatus, CategoryVersion, check_category_name
from ..backends._base import CategoryRef
from ..backends.local import LocalEngine
from ._errors import ApiError
from ._http import accepted, body, field, int_param, page, read_token, text_field

__all__ = ["Categories", "customized_categories"]

OPERATIONS = "/contentsafety/text/categories/operations"
# Local status -> the service's CategoryStatus and, for an operation, its OperationState.
TO_SERVICE = {BuildStatus.NOT_STARTED: "BuildNotStarted", BuildStatus.RUNNING: "Building",
              BuildStatus.SUCCEEDED: "BuildSucceeded", BuildStatus.FAILED: "BuildFailed",
              BuildStatus.DELETING: "Deleting", BuildStatus.DELETE_FAILED: "DeleteFailed"}
TO_OPERATION = {BuildStatus.NOT_STARTED: "NotStarted", BuildStatus.RUNNING: "Running",
                BuildStatus.SUCCEEDED: "Succeeded", BuildStatus.FAILED: "Failed"}


def _version(v: CategoryVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "categoryName": v.category_name, "definition": v.definition, "sampleBlobUrl": v.sample_blob_url or "",
        "sampleBlobCopyUrl": v.sample_blob_url or "", "version": v.version, "createdTime": v.created_time,
        "status": TO_SERVICE.get(v.status, v.status),
    }
    if v.error:
        out["buildInfo"] = {"lastBuildTriggeredTime": v.created_time,
                            "buildError": {"error": {"code": "BuildFailed", "message": v.error}}}
    return out


def customized_categories(data: dict[str, Any], version: str) -> list[CategoryRef]:
    """``customizedCategories`` of a text:analyze body; ``version`` is required from 2024-05-15-preview."""
    items = field(data, "customizedCategories", list, [])
    refs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("categoryName"), str):
            raise ApiError(400, "InvalidRequestBody", "each customizedCategories entry needs a categoryName",
                           target="customizedCategories")
        number = item.get("version")
        if number is None and version >= "2024-05-15":
            raise ApiError(400, "InvalidRequestBody", f"customizedCategories[].version is required in {version}",
                           target="customizedCategories")
        if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 1):
            raise ApiError(400, "InvalidRequestBody", "customizedCategories[].version must be an integer >= 1",
                           target="customizedCategories")
        refs.append(CategoryRef(check_category_name(item["categoryName"]), number))
    return refs


class Categories:
    def __init__(self, engine: LocalEngine, *, fetch_hosts: Sequence[str] = ()) -> None:
        self.engine = engine
        self.fetch_hosts = tuple(fetch_hosts)

    async def category(self, request: Request) -> Response:
        name = check_category_name(request.path_params["name"])
        cats = self.engine.categories
        number = int_param(request, "version", 1)
        if request.method == "GET":
            return JSONResponse({"value": [_version(cats.get(name, number))]})
        if request.method == "DELETE":  # long-running in the service; done at once here
            cats.delete(name, number)
            return accepted(request, OPERATIONS, {"status": "Succeeded"}, {"status": "Succeeded"})
        data = await body(request)
        given = field(data, "categoryName", str)
        if given is not None and given != name:
            raise ApiError(400, "InvalidRequestBody", "categoryName in the body differs from the one in the path",
                           target="categoryName")
        definition = text_field(data, "definition", limit=1000)
        url = text_field(data, "sampleBlobUrl", limit=2048)
        field(data, "blobDelimiter", str)  # accepted (2024-05-15-preview); a URL has no other delimiter here
        created = await run_in_threadpool(
            cats.create_version, name, definition=definition, samples=url, allowed_hosts=self.fetch_hosts)
        return JSONResponse(_version(created), status_code=201)

    async def list(self, request: Request) -> Response:
        latest = self.engine.categories.list()
        return page(request, lambda limit, skip: latest[skip: skip + limit], _version)

    async def build(self, request: Request) -> Response:
        name = check_category_name(request.path_params["name"])
        number = int_param(request, "version", 1)
        if number is None:
            raise ApiError(400, "InvalidRequest", "query parameter version is required", target="version")
        started = self.engine.categories.build(name, number)
        state = {"category": name, "version": started.version}
        return accepted(request, OPERATIONS, state, {"status": TO_OPERATION.get(started.status, "Running")})

    async def operation(self, request: Request) -> Response:
        op = request.path_params["op"]
        state = read_token(op)
        if isinstance(state.get("status"), str):
            return JSONResponse({"id": op, "status": state["status"]})
        name, number = state.get("category"), state.get("version")
        if not isinstance(name, str) or not isinstance(number, int):
            raise ApiError(404, "NotFound", "no such operation")
        current = self.engine.categories.get(check_category_name(name), number)
        out: dict[str, Any] = {"id": op, "status": TO_OPERATION.get(current.status, "Running")}
        if current.status == BuildStatus.FAILED:
            out["errorMessage"] = current.error or "the build failed"
        return JSONResponse(out)

    async def analyze(self, request: Request) -> Response:
        data = await body(request)
        text = text_field(data)
        name = data.get("categoryName")
        if not isinstance(name, str):
            raise ApiError(400, "InvalidRequestBody", "categoryName is required", target="categoryName")
        number = field(data, "version", int)
        found = await self.engine.analyze_custom_categories(text, [CategoryRef(check_category_name(name), number)])
        return JSONResponse({"customCategoryAnalysis": {"detected": bool(found and found[0].detected)}})
