"""The ASGI app: routes under ``/contentsafety`` in the service's shapes, answered by the
local engine. Auth, api-version and body-size checks run before any route; errors are the
service's error bodies; access logs carry method, path, status and time, never the text."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._exceptions import GuardrailError
from .._models import HarmCategory, OutputType
from .._resources import check_blocklist_name, check_resource_id
from ..backends.local import LocalEngine
from ..backends.local.shield import SHIELD_LIMITS
from ._categories import Categories, customized_categories
from ._errors import ApiError, error_response, from_guardrail
from ._http import MAX_BODY_BYTES, batch, body, exists, field, page, text_field
from ._incidents import Incidents

__all__ = ["API_VERSIONS", "MAX_BODY_BYTES", "create_app"]

logger = logging.getLogger("guardrail.server")

GA_VERSIONS = ("2023-10-01", "2024-09-01")
# Previews whose spec (or the seeds' documents) has incident and custom-category operations.
INCIDENT_VERSIONS = ("2023-10-30-preview", "2024-02-15-preview", "2024-04-15-preview", "2024-09-15-preview")
CATEGORY_VERSIONS = ("2024-02-15-preview", "2024-04-15-preview", "2024-05-15-preview", "2024-09-15-preview")
SHIELD_VERSIONS = ("2024-02-15-preview", "2024-04-15-preview", "2024-05-15-preview", "2024-09-01",
                   "2024-09-15-preview")
API_VERSIONS = tuple(dict.fromkeys(GA_VERSIONS + INCIDENT_VERSIONS + CATEGORY_VERSIONS + SHIELD_VERSIONS))
KEY_HEADER = "ocp-apim-subscription-key"
Handler = Callable[[Request], Awaitable[Response]]


class _Api:
    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    # -- analyze -------------------------------------------------------------------------

    async def analyze_text(self, request: Request) -> Response:
        data = await body(request)
        text = text_field(data)
        names = field(data, "categories", list, [c.value for c in HarmCategory])
        try:
            categories = [HarmCategory(c) for c in names]
        except ValueError:
            raise ApiError(400, "InvalidRequestBody", "categories must be Hate, SelfHarm, Sexual or Violence",
                           target="categories") from None
        try:
            output = OutputType(field(data, "outputType", str, OutputType.FOUR_SEVERITY_LEVELS.value))
        except ValueError:
            raise ApiError(400, "InvalidRequestBody", "outputType must be FourSeverityLevels or "
                           "EightSeverityLevels", target="outputType") from None
        lists = field(data, "blocklistNames", list, [])
        for name in lists:
            check_blocklist_name(name)
        halt = field(data, "haltOnBlocklistHit", bool, False)
        version = request.query_params["api-version"]
        custom = customized_categories(data, version) if version in CATEGORY_VERSIONS else []
        matches = self.engine.match_blocklists_sync(text, lists) if lists else []
        out: dict[str, Any] = {"blocklistsMatch": [
            {"blocklistName": f.name, "blocklistItemId": f.item_id, "blocklistItemText": f.item_text}
            for f in matches]}
        if matches and halt:
            out["categoriesAnalysis"] = []
            return JSONResponse(out)
        # An explicit empty list asks for no harm categories: blocklist-only calls skip the model.
        found = await self.engine.analyze_harm(text, categories, output) if categories else []
        out["categoriesAnalysis"] = [{"category": f.name, "severity": f.severity} for f in found]
        if custom:
            hits = await self.engine.analyze_custom_categories(text, custom)
            out["textCustomizedCategoriesAnalysis"] = [{"categoryName": f.name, "detected": bool(f.detected)}
                                                        for f in hits]
        return JSONResponse(out)

    async def shield_prompt(self, request: Request) -> Response:
        """text:shieldPrompt within the service's limits: a 10,000-character prompt, at most
        five documents of 10,000 characters together."""
        data = await body(request)
        prompt = field(data, "userPrompt", str, "")
        documents = field(data, "documents", list, [])
        if any(not isinstance(d, str) for d in documents):
            raise ApiError(400, "InvalidRequestBody", "documents must be strings", target="documents")
        if not prompt and not any(documents):
            raise ApiError(400, "InvalidRequestBody", "give userPrompt or at least one document", target="userPrompt")
        if len(prompt) > SHIELD_LIMITS.prompt_chars:
            raise ApiError(400, "InvalidRequestBody", f"userPrompt is {len(prompt):,} characters; the limit is "
                           f"{SHIELD_LIMITS.prompt_chars:,}", target="userPrompt")
        if len(documents) > SHIELD_LIMITS.documents or sum(map(len, documents)) > SHIELD_LIMITS.documents_chars:
            raise ApiError(400, "InvalidRequestBody", f"at most {SHIELD_LIMITS.documents} documents of "
                           f"{SHIELD_LIMITS.documents_chars:,} characters together", target="documents")
        found = await self.engine.shield_prompt(prompt, documents)
        out: dict[str, Any] = {"documentsAnalysis": [{"attackDetected": f.detected} for f in found
                                                     if f.document is not None]}
        if prompt:
            out["userPromptAnalysis"] = {"attackDetected": next(f.detected for f in found if f.document is None)}
        return JSONResponse(out)

    async def analyze_image(self, request: Request) -> Response:
        await body(request)
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
        data = await body(request)  # PATCH, merge-patch: an absent description is kept
        existed = exists(lists.get, name)
        bl = lists.create_or_update(name, description=field(data, "description", str))
        return JSONResponse(self._list(bl), status_code=200 if existed else 201)

    async def add_items(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        items = batch(await body(request), "blocklistItems")
        added = self.engine.blocklists.add_or_update_items(name, items)
        return JSONResponse({"blocklistItems": [self._item(i) for i in added]})

    async def remove_items(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        ids = batch(await body(request), "blocklistItemIds")
        self.engine.blocklists.remove_items(name, [check_resource_id(i, "item id") for i in ids])
        return Response(status_code=204)

    async def list_items(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        return page(request, lambda limit, skip: self.engine.blocklists.list_items(name, top=limit, skip=skip),
                    self._item)

    async def get_item(self, request: Request) -> Response:
        name = check_blocklist_name(request.path_params["name"])
        item_id = check_resource_id(request.path_params["item_id"], "item id")
        return JSONResponse(self._item(self.engine.blocklists.get_item(name, item_id)))


def _guarded(handler: Handler, versions: tuple[str, ...]) -> Handler:
    async def run(request: Request) -> Response:
        version = request.query_params.get("api-version", "")
        if version not in versions:  # the route exists, but not in the spec of this api-version
            return error_response(404, "NotFound", f"{request.url.path} is not part of api-version {version}; "
                                  f"use one of {', '.join(versions)}")
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


def create_app(engine: LocalEngine | None = None, *, key: str | None = None,
               fetch_hosts: Sequence[str] = ()) -> Starlette:
    """The Content Safety REST API on ``engine`` (a new LocalEngine by default). With ``key``,
    every request must carry it in ``Ocp-Apim-Subscription-Key``. ``fetch_hosts`` are hosts
    (or networks) a category's ``sampleBlobUrl`` may reach although they are internal."""
    engine = engine or LocalEngine()
    api = _Api(engine)
    inc = Incidents(engine)
    cats = Categories(engine, fetch_hosts=fetch_hosts)
    base = "/contentsafety"
    bl = f"{base}/text/blocklists"
    kinds = "{kind:incidentkind}"
    ga, incidents, categories = API_VERSIONS, INCIDENT_VERSIONS, CATEGORY_VERSIONS
    table: list[tuple[str, Handler, list[str], tuple[str, ...]]] = [
        (f"{base}/text:analyze", api.analyze_text, ["POST"], ga),
        (f"{base}/image:analyze", api.analyze_image, ["POST"], ga),
        (f"{base}/text:shieldPrompt", api.shield_prompt, ["POST"], SHIELD_VERSIONS),
        (bl, api.list_blocklists, ["GET"], ga),
        (f"{bl}/{{name}}:addOrUpdateBlocklistItems", api.add_items, ["POST"], ga),
        (f"{bl}/{{name}}:removeBlocklistItems", api.remove_items, ["POST"], ga),
        (f"{bl}/{{name}}/blocklistItems", api.list_items, ["GET"], ga),
        (f"{bl}/{{name}}/blocklistItems/{{item_id}}", api.get_item, ["GET"], ga),
        (f"{bl}/{{name}}", api.blocklist, ["GET", "PATCH", "DELETE"], ga),
        (f"{base}/{kinds}:detectIncidents", inc.detect, ["POST"], incidents),
        (f"{base}/{kinds}/incidents", inc.list, ["GET"], incidents),
        (f"{base}/{kinds}/incidents/operations/{{op}}", inc.operation, ["GET"], incidents),
        (f"{base}/{kinds}/incidents/{{name}}:addIncidentSamples", inc.add_samples, ["POST"], incidents),
        (f"{base}/{kinds}/incidents/{{name}}:removeIncidentSamples", inc.remove_samples, ["POST"], incidents),
        (f"{base}/{kinds}/incidents/{{name}}:deploy", inc.deploy, ["POST"], incidents),
        (f"{base}/{kinds}/incidents/{{name}}/incidentSamples", inc.list_samples, ["GET"], incidents),
        (f"{base}/{kinds}/incidents/{{name}}/incidentSamples/{{sample_id}}", inc.get_sample, ["GET"], incidents),
        (f"{base}/{kinds}/incidents/{{name}}", inc.incident, ["GET", "PATCH", "DELETE"], incidents),
        (f"{base}/text:analyzeCustomCategory", cats.analyze, ["POST"], categories),
        (f"{base}/text/categories", cats.list, ["GET"], categories),
        (f"{base}/text/categories/operations/{{op}}", cats.operation, ["GET"], categories),
        (f"{base}/text/categories/{{name}}:build", cats.build, ["POST"], categories),
        (f"{base}/text/categories/{{name}}", cats.category, ["GET", "PUT", "DELETE"], categories),
    ]
    routes = [Route(path, _guarded(handler, versions), methods=methods) for path, handler, methods, versions in table]
    routes.append(Route("/health", lambda request: JSONResponse({"status": "ok"}), methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.close()  # graceful shutdown (SIGTERM): builds finish, the store closes

    async def no_route(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return error_response(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}")
        return error_response(404, "NotFound", f"no route {request.url.path}")

    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(_Gate, key=key)],
                     exception_handlers={404: no_route, 405: no_route})


class _Gate:
    """Pure ASGI middleware (BaseHTTPMiddleware costs a task and a stream per request): key,
    api-version and declared size are checked before any route; one JSON access line per
    request with method, path, status and time, never the text or the key."""

    def __init__(self, app: Any, key: str | None) -> None:
        self.app, self.key = app, key

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        refused = self._refusal(Request(scope))
        if refused is not None:
            await refused(scope, receive, sending)
        else:
            await self.app(scope, receive, sending)
        if logger.isEnabledFor(logging.INFO):
            logger.info(json.dumps({"method": scope["method"], "path": scope["path"], "status": status[0],
                                    "ms": round((time.perf_counter() - started) * 1000.0, 2)}))

    def _refusal(self, request: Request) -> Response | None:
        if request.url.path == "/health":
            return None
        if self.key is not None:
            given = request.headers.get(KEY_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.key.encode()):
                return error_response(401, "401", "Access denied due to a missing or invalid subscription key. "
                                      "Send it in the Ocp-Apim-Subscription-Key header.")
        version = request.query_params.get("api-version")
        if version not in API_VERSIONS:
            return error_response(400, "InvalidApiVersion" if version else "MissingApiVersion",
                                  f"api-version {version!r} is not supported; use one of {', '.join(API_VERSIONS)}")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return error_response(413, "RequestTooLarge", f"the request body is over {MAX_BODY_BYTES:,} bytes")
        return None
