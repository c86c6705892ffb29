"""Text and image incidents (the previews' routes), answered by the local engine. Deploy is a
long-running operation as in the service: 202 with Operation-Location, whose status route
reports the outcome (local deploys finish at once)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._exceptions import GuardrailError, NotFoundError
from .._resources import check_incident_name, check_resource_id
from ..backends._base import IncidentRef
from ..backends.local import LocalEngine
from ._errors import ApiError
from ._http import accepted, batch, body, exists, field, read_token, text_field

__all__ = ["Incidents"]


class Incidents:
    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    def _of(self, request: Request) -> Any:
        return self.engine.text_incidents if request.path_params["kind"] == "text" else self.engine.image_incidents

    @staticmethod
    def _incident(inc: Any) -> dict[str, Any]:
        out = {"incidentName": inc.incident_name, "status": inc.status, "created": inc.created,
               "lastUpdated": inc.last_updated}
        if inc.kind == "text":
            out["incidentDefinition"] = inc.description
        return {k: v for k, v in out.items() if v is not None}

    @staticmethod
    def _sample(sample: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"incidentSampleId": sample.incident_sample_id}
        if sample.text is not None:
            out["text"] = sample.text
        if sample.image is not None:
            out["image"] = {"content": sample.image.content}
        return out

    async def incident(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        incidents = self._of(request)
        if request.method == "GET":
            return JSONResponse(self._incident(incidents.get(name)))
        if request.method == "DELETE":
            incidents.delete(name)
            return Response(status_code=204)
        data = await body(request)
        definition = field(data, "incidentDefinition", str) or field(data, "description", str)
        existed = exists(incidents.get, name)
        inc = incidents.create_or_update(name, description=definition)
        return JSONResponse(self._incident(inc), status_code=200 if existed else 201)

    async def list(self, request: Request) -> Response:
        return JSONResponse({"value": [self._incident(i) for i in self._of(request).list()]})

    async def add_samples(self, request: Request) -> Response:
        name = check_incident_name(request.path_params["name"])
        samples = batch(await body(request), "incidentSamples")
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
        ids = batch(await body(request), "incidentSampleIds")
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
        try:
            state = {"status": self._of(request).deploy(name)}
        except NotFoundError:
            raise
        except GuardrailError as exc:  # e.g. no samples: the operation fails, as the service's does
            state = {"status": "Failed", "errorMessage": str(exc)}
        kind = request.path_params["kind"]
        return accepted(request, f"/contentsafety/{kind}/incidents/operations", state, state)

    async def operation(self, request: Request) -> Response:
        state = read_token(request.path_params["op"])
        if not isinstance(state.get("status"), str):
            raise ApiError(404, "NotFound", "no such operation")
        return JSONResponse({"id": request.path_params["op"], **state})

    async def detect(self, request: Request) -> Response:
        data = await body(request)
        names = field(data, "incidentNames", list)
        if not names:
            raise ApiError(400, "InvalidRequestBody", "incidentNames must be a non-empty list", target="incidentNames")
        refs = [IncidentRef(check_incident_name(n)) for n in names]
        if request.path_params["kind"] == "text":
            found = await self.engine.detect_incidents(text_field(data), refs)
        else:
            image = data.get("image") if isinstance(data.get("image"), dict) else {}
            if not isinstance(image.get("content"), str):
                raise ApiError(400, "InvalidRequestBody", "image.content (base64) is required; the local server "
                               "does not fetch blobUrl", target="image")
            found = await self.engine.detect_image_incidents(image["content"], refs)
        return JSONResponse({"incidentMatches": [{"incidentName": f.name} for f in found if f.detected]})
