"""The ASGI app: routes under ``/contentsafety`` in the service's shapes, answered by the
local engine. Auth, api-version and body-size checks run before any route; errors are the
service's error bodies; access logs carry method, path, status and time, never the text."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import time
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route

from .._exceptions import GuardrailError
from .._models import HarmCategory, OutputType
from .._exceptions import NotFoundError
from .._resources import check_blocklist_name, check_incident_name, check_resource_id
from ..backends._base import IncidentRef
from ..backends.local import LocalEngine
from ._errors import ApiError, error_response, from_guardrail

__all__ = ["API_VERSIONS", "MAX_BODY_BYTES", "create_app"]

logger = logging.getLogger("guardrail.server")

API_VERSIONS = ("2023-10-01", "2024-09-01", "2023-10-30-preview", "2024-02-15-preview",
                "2024-04-15-preview", "2024-05-15-preview")
MAX_BODY_BYTES = 8 * 1024 * 1024  # a 4 MB image as base64, with room for the JSON around it
TEXT_LIMIT = 10_000
KEY_HEADER = "ocp-apim-subscription-key"
MAX_PAGE = 100
Handler = Callable[[Request], Awaitable[Response]]


async def _body(request: Request) -> dict[str, Any]:
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


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ApiError(400, "InvalidRequestBody", f"{name} has the wrong type", target=name)
    return value


def _int_param(request: Request, name: str, low: int, high: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        raise ApiError(400, "InvalidRequest", f"query parameter {name} must be an integer >= {low}"
                       + (f" and <= {high}" if high is not None else ""), target=name)
    return int(raw)


def _exists(get: Callable[[str], Any], name: str) -> bool:
    """For 200 vs 201 on upsert: one lookup, not a listing of every resource."""
    try:
        get(name)
    except NotFoundError:
        return False
    return True


class _Api:
    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    # -- analyze -------------------------------------------------------------------------

    async def analyze_text(self, request: Request) -> Response:
        data = await _body(request)
        text = data.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "InvalidRequestBody", "text must be a non-empty string", target="text")
        if len(text) > TEXT_LIMIT:
            raise ApiError(400, "InvalidRequestBody", f"text is {len(text):,} characters; the limit is "
                           f"{TEXT_LIMIT:,}", target="text")
        names = _field(data, "categories", list, [c.value for c in HarmCategory])
        try:
            categories = [HarmCategory(c) for c in names]
        except ValueError:
            raise ApiError(400, "InvalidRequestBody", "categories must be Hate, SelfHarm, Sexual or Violence",
                           target="categories") from None
        try:
            output = OutputType(_field(data, "outputType", str, OutputType.FOUR_SEVERITY_LEVELS.value))
        except ValueError:
            raise ApiError(400, "InvalidRequestBody", "outputType must be FourSeverityLevels or "
                           "EightSeverityLevels", target="outputType") from None
        lists = _field(data, "blocklistNames", list, [])
        for name in lists:
            check_blocklist_name(name)
        halt = _field(data, "haltOnBlocklistHit", bool, False)
        matches = self.engine.match_blocklists_sync(text, lists) if lists else []
        body: dict[str, Any] = {"blocklistsMatch": [
            {"blocklistName": f.name, "blocklistItemId": f.item_id, "blocklistItemText": f.item_text}
            for f in matches]}
        if matches and halt:
            body["categoriesAnalysis"] = []
        else:
            found = await self.engine.analyze_harm(text, categories, output)
            body["categoriesAnalysis"] = [{"category": f.name, "severity": f.severity} for f in found]
        return JSONResponse(body)

    async def analyze_image(self, request: Request) -> Response:
        await _body(request)
        raise ApiError(501, "NotSupported", "the local engine has no image harm model; image incidents "
                       "are answered by image:detectIncidents")

    # -- blocklists ------------------------------------------------------------------------

    @staticmethod
    def _list(bl: Any) -> dict[str, Any]:
        return {"blocklistName": bl.blocklist_name, "description": bl.description}

    @staticmethod
    def _item(item: Any) -> dict[str, Any]:
        return {"blocklistItemId": item.blocklist_item_id, "text": item.text, "description": item.description,
                "isRegex": item.is_regex}

    async def list_blocklists(self, request: Request) -> Response:
        return JSONResponse({"value": [self._list(b) for b in self.engine.blocklists.list()]})

    async def blocklist(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        lists = self.engine.blocklists
        if request.method == "GET":
            return JSONResponse(self._list(lists.get(name)))
        if request.method == "DELETE":
            lists.delete(name)
            return Response(status_code=204)
        data = await _body(request)  # PATCH, merge-patch: an absent description is kept
        existed = _exists(lists.get, name)
        bl = lists.create_or_update(name, description=_field(data, "description", str))
        return JSONResponse(self._list(bl), status_code=200 if existed else 201)

    async def add_items(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        data = await _body(request)
        items = _field(data, "blocklistItems", list)
        if not items:
            raise ApiError(400, "InvalidRequestBody", "blocklistItems must be a non-empty list", target="blocklistItems")
        if len(items) > MAX_PAGE:
            raise ApiError(400, "InvalidRequestBody", f"at most {MAX_PAGE} items per request", target="blocklistItems")
        added = self.engine.blocklists.add_or_update_items(name, items)
        return JSONResponse({"blocklistItems": [self._item(i) for i in added]})

    async def remove_items(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        data = await _body(request)
        ids = _field(data, "blocklistItemIds", list)
        if not ids:
            raise ApiError(400, "InvalidRequestBody", "blocklistItemIds must be a non-empty list",
                           target="blocklistItemIds")
        if len(ids) > MAX_PAGE:
            raise ApiError(400, "InvalidRequestBody", f"at most {MAX_PAGE} ids per request", target="blocklistItemIds")
        self.engine.blocklists.remove_items(name, [check_resource_id(i, "item id") for i in ids])
        return Response(status_code=204)

    async def list_items(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        top = _int_param(request, "top", 0)
        skip = _int_param(request, "skip", 0) or 0
        page = _int_param(request, "maxpagesize", 1, MAX_PAGE) or MAX_PAGE
        want = page if top is None else min(page, top)
        items = self.engine.blocklists.list_items(name, top=want + 1, skip=skip)
        body: dict[str, Any] = {"value": [self._item(i) for i in items[:want]]}
        left = None if top is None else top - want
        if len(items) > want and (left is None or left > 0):
            query = {"skip": str(skip + want), "maxpagesize": str(page),
                     "api-version": request.query_params["api-version"]}
            if left is not None:
                query["top"] = str(left)
            body["nextLink"] = str(request.url.replace_query_params(**query))
        return JSONResponse(body)

    async def get_item(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        item_id = check_resource_id(request.path_params["item_id"], "item id")
        return JSONResponse(self._item(self.engine.blocklists.get_item(name, item_id)))


class _Incidents:
    """Text and image incidents (the previews' routes), answered by the local engine. Deploy
    is a long-running operation as in the service: 202 with Operation-Location, whose status
    route reports the outcome (local deploys finish at once)."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self.operations: dict[str, dict[str, Any]] = {}

    def _of(self, request: Request) -> Any:
        return self.engine.text_incidents if request.path_params["kind"] == "text" else self.engine.image_incidents

    @staticmethod
    def _incident(inc: Any) -> dict[str, Any]:
        body = {"incidentName": inc.incident_name, "status": inc.status, "created": inc.created,
                "lastUpdated": inc.last_updated}
        if inc.kind == "text":
            body["incidentDefinition"] = inc.description
        return {k: v for k, v in body.items() if v is not None}

    @staticmethod
    def _sample(sample: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"incidentSampleId": sample.incident_sample_id}
        if sample.text is not None:
            body["text"] = sample.text
        if sample.image is not None:
            body["image"] = {"content": sample.image.content}
        return body

    async def incident(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        incidents = self._of(request)
        if request.method == "GET":
            return JSONResponse(self._incident(incidents.get(name)))
        if request.method == "DELETE":
            incidents.delete(name)
            return Response(status_code=204)
        data = await _body(request)
        definition = _field(data, "incidentDefinition", str) or _field(data, "description", str)
        existed = _exists(incidents.get, name)
        inc = incidents.create_or_update(name, description=definition)
        return JSONResponse(self._incident(inc), status_code=200 if existed else 201)

    async def list(self, request: Request) -> Response:
        return JSONResponse({"value": [self._incident(i) for i in self._of(request).list()]})

    async def add_samples(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        data = await _body(request)
        samples = _field(data, "incidentSamples", list)
        if not samples or len(samples) > MAX_PAGE:
            raise ApiError(400, "InvalidRequestBody", f"incidentSamples must hold 1 to {MAX_PAGE} samples",
                           target="incidentSamples")
        if request.path_params["kind"] == "text":
            values = [s.get("text") if isinstance(s, dict) else None for s in samples]
        else:
            values = [(s.get("image") or {}).get("content") if isinstance(s, dict) else None for s in samples]
        if any(not isinstance(v, str) for v in values):
            raise ApiError(400, "InvalidRequestBody", "each sample needs its text (or image.content)",
                           target="incidentSamples")
        added = self._of(request).add_samples(name, values)
        return JSONResponse({"incidentSamples": [self._sample(x) for x in added]})

    async def remove_samples(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        ids = _field(await _body(request), "incidentSampleIds", list)
        if not ids or len(ids) > MAX_PAGE:
            raise ApiError(400, "InvalidRequestBody", f"incidentSampleIds must hold 1 to {MAX_PAGE} ids",
                           target="incidentSampleIds")
        self._of(request).remove_samples(name, [check_resource_id(i, "sample id") for i in ids])
        return Response(status_code=204)

    async def list_samples(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        return JSONResponse({"value": [self._sample(x) for x in self._of(request).list_samples(name)]})

    async def get_sample(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        sample_id = check_resource_id(request.path_params["sample_id"], "sample id")
        return JSONResponse(self._sample(self._of(request).get_sample(name, sample_id)))

    async def deploy(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        op = str(uuid.uuid4())
        try:
            status = self._of(request).deploy(name)
            self.operations[op] = {"id": op, "status": status}
        except GuardrailError as exc:
            if isinstance(exc, NotFoundError):
                raise
            self.operations[op] = {"id": op, "status": "Failed", "errorMessage": str(exc)}
        kind = request.path_params["kind"]
        location = request.url.replace(path=f"/contentsafety/{kind}/incidents/operations/{op}",
                                       query=f"api-version={request.query_params['api-version']}")
        return JSONResponse(self.operations[op], status_code=202, headers={"Operation-Location": str(location)})

    async def operation(self, request: Request) -> Response:
        op = self.operations.get(request.path_params["op"])
        if op is None:
            raise ApiError(404, "NotFound", "no such operation")
        return JSONResponse(op)

    async def detect(self, request: Request) -> Response:
        data = await _body(request)
        names = _field(data, "incidentNames", list)
        if not names:
            raise ApiError(400, "InvalidRequestBody", "incidentNames must be a non-empty list", target="incidentNames")
        if request.path_params["kind"] == "text":
            value = data.get("text")
            if not isinstance(value, str) or not value:
                raise ApiError(400, "InvalidRequestBody", "text must be a non-empty string", target="text")
            if len(value) > TEXT_LIMIT:
                raise ApiError(400, "InvalidRequestBody", f"text is over {TEXT_LIMIT:,} characters", target="text")
            found = await self.engine.detect_incidents(value, [IncidentRef(check_incident_name(n)) for n in names])
        else:
            image = data.get("image") if isinstance(data.get("image"), dict) else {}
            if not isinstance(image.get("content"), str):
                raise ApiError(400, "InvalidRequestBody", "image.content (base64) is required; the local server "
                               "does not fetch blobUrl", target="image")
            found = await self.engine.detect_image_incidents(
                image["content"], [IncidentRef(check_incident_name(n)) for n in names])
        return JSONResponse({"incidentMatches": [{"incidentName": f.name} for f in found if f.detected]})


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.target)
        except GuardrailError as exc:
            err = from_guardrail(exc)
            return error_response(err.status, err.code, err.message, err.target)
        except Exception:  # the client gets the service's shape; the server log the traceback
            logger.exception("unhandled error in %s %s", request.method, request.url.path)
            return error_response(500, "InternalServerError", "the local engine could not answer")

    return run


class _IncidentKind(Convertor):  # "text" or "image" in a path
    regex = "text|image"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("incidentkind", _IncidentKind())


def create_app(engine: LocalEngine | None = None, *, key: str | None = None) -> Starlette:
    """The Content Safety REST API on ``engine`` (a new LocalEngine by default). With ``key``,
    every request must carry it in ``Ocp-Apim-Subscription-Key``."""
    engine = engine or LocalEngine()
    api = _Api(engine)
    base = "/contentsafety"
    routes = [
        Route(f"{base}/text:analyze", _guarded(api.analyze_text), methods=["POST"]),
        Route(f"{base}/image:analyze", _guarded(api.analyze_image), methods=["POST"]),
        Route(f"{base}/text/blocklists", _guarded(api.list_blocklists), methods=["GET"]),
        Route(f"{base}/text/blocklists/{{name}}:addOrUpdateBlocklistItems", _guarded(api.add_items), methods=["POST"]),
        Route(f"{base}/text/blocklists/{{name}}:removeBlocklistItems", _guarded(api.remove_items), methods=["POST"]),
        Route(f"{base}/text/blocklists/{{name}}/blocklistItems", _guarded(api.list_items), methods=["GET"]),
        Route(f"{base}/text/blocklists/{{name}}/blocklistItems/{{item_id}}", _guarded(api.get_item), methods=["GET"]),
        Route(f"{base}/text/blocklists/{{name}}", _guarded(api.blocklist), methods=["GET", "PATCH", "DELETE"]),
        Route("/health", lambda request: JSONResponse({"status": "ok"}), methods=["GET"]),
    ]
    inc = _Incidents(engine)
    kinds = "{kind:incidentkind}"
    routes += [
        Route(f"{base}/{kinds}:detectIncidents", _guarded(inc.detect), methods=["POST"]),
        Route(f"{base}/{kinds}/incidents", _guarded(inc.list), methods=["GET"]),
        Route(f"{base}/{kinds}/incidents/operations/{{op}}", _guarded(inc.operation), methods=["GET"]),
        Route(f"{base}/{kinds}/incidents/{{name}}:addIncidentSamples", _guarded(inc.add_samples), methods=["POST"]),
        Route(f"{base}/{kinds}/incidents/{{name}}:removeIncidentSamples", _guarded(inc.remove_samples),
              methods=["POST"]),
        Route(f"{base}/{kinds}/incidents/{{name}}:deploy", _guarded(inc.deploy), methods=["POST"]),
        Route(f"{base}/{kinds}/incidents/{{name}}/incidentSamples", _guarded(inc.list_samples), methods=["GET"]),
        Route(f"{base}/{kinds}/incidents/{{name}}/incidentSamples/{{sample_id}}", _guarded(inc.get_sample),
              methods=["GET"]),
        Route(f"{base}/{kinds}/incidents/{{name}}", _guarded(inc.incident), methods=["GET", "PATCH", "DELETE"]),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.close()  # graceful shutdown (SIGTERM): builds finish, the store closes

    class Gate(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Response:
            started = time.perf_counter()
            response = await _gate(request, call_next, key)
            logger.info(json.dumps({"method": request.method, "path": request.url.path,
                                    "status": response.status_code,
                                    "ms": round((time.perf_counter() - started) * 1000.0, 2)}))
            return response

    async def no_route(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return error_response(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}")
        return error_response(404, "NotFound", f"no route {request.url.path}")

    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(Gate)],
                     exception_handlers={404: no_route, 405: no_route})


async def _gate(request: Request, call_next: Any, key: str | None) -> Response:
    if request.url.path == "/health":
        return await call_next(request)
    if key is not None:
        given = request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), key.encode()):
            return error_response(401, "401", "Access denied due to a missing or invalid subscription key. "
                                  "Send it in the Ocp-Apim-Subscription-Key header.")
    version = request.query_params.get("api-version")
    if version not in API_VERSIONS:
        return error_response(400, "InvalidApiVersion" if version else "MissingApiVersion",
                              f"api-version {version!r} is not supported; use one of {', '.join(API_VERSIONS)}")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return error_response(413, "RequestTooLarge", f"the request body is over {MAX_BODY_BYTES:,} bytes")
    return await call_next(request)
