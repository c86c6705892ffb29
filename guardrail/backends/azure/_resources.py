"""Azure's resource APIs: blocklists, incidents (text and image), custom categories."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Sequence

from ..._exceptions import BackendError, BackendTimeoutError, ConflictError, InvalidInputError, NotFoundError
from ..._models import Finding, FindingKind
from ..._resources import (
    BLOCKLIST_LIMITS,
    BuildStatus,
    CategoryVersion,
    Incident,
    IncidentSample,
    TextBlocklist,
    TextBlocklistItem,
    TextBlocklistItemInput,
    check_blocklist_name,
    check_category_name,
    check_incident_name,
    check_resource_id,
)
from .._base import CategoryRef
from ._transport import AzureTransport

__all__ = ["AzureBlocklists", "AzureCategories", "AzureIncidents"]


async def _pages(transport: AzureTransport, path: str, version: str, params: dict[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
    """Every item of a paged list (``value`` + ``nextLink``)."""
    response = await transport.request("GET", path, api_version=version, params=params)
    while True:
        data = response.json()
        for item in data.get("value") or []:
            yield item
        next_link = data.get("nextLink")
        if not next_link:
            return
        response = await transport.request("GET", path, api_version=version, url=next_link)


async def follow(transport: AzureTransport, response: Any, version: str, what: str, *,
                 wait: bool = True, poll: float = 2.0, timeout: float = 600.0) -> str:
    """A long-running operation's end: poll ``Operation-Location`` (query kept) until the
    status leaves NotStarted/Running; Failed or Canceled raise with the service's reason
    (``errorMessage`` or ``error.message``). Returns the last status."""
    data = response.json() if response.content else {}
    status = data.get("status", "NotStarted") if isinstance(data, dict) else "NotStarted"
    location = response.headers.get("Operation-Location")
    deadline = time.monotonic() + timeout
    while wait and location and status in ("NotStarted", "Running"):
        if time.monotonic() > deadline:
            raise BackendTimeoutError(f"{what} did not finish in {timeout:g}s", backend="azure")
        await asyncio.sleep(poll)
        data = (await transport.request("GET", "", api_version=version, url=location)).json()
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            raise BackendError(f"{what}: the operation status answer has no status", backend="azure")
        status = data["status"]
    if status in ("Failed", "Canceled"):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        reason = data.get("errorMessage") or error.get("message") or "no reason given"
        raise BackendError(f"{what} {status.lower()}: {reason}", backend="azure", code=error.get("code"))
    return str(status)


class AzureBlocklists:
    """The GA blocklist API (2024-09-01 by default), async."""

    def __init__(self, transport: AzureTransport, api_version: str) -> None:
        self._t = transport
        self.api_version = api_version

    async def create_or_update(self, name: str, *, description: str | None = None) -> TextBlocklist:
        check_blocklist_name(name)
        body = {"description": description} if description is not None else {}
        r = await self._t.request(
            "PATCH", f"/text/blocklists/{name}", api_version=self.api_version, json=body,
            content_type="application/merge-patch+json",
        )
        return TextBlocklist.model_validate(r.json())

    async def get(self, name: str) -> TextBlocklist:
        check_blocklist_name(name)
        r = await self._t.request("GET", f"/text/blocklists/{name}", api_version=self.api_version)
        return TextBlocklist.model_validate(r.json())

    async def list(self) -> list[TextBlocklist]:
        return [TextBlocklist.model_validate(x) async for x in _pages(self._t, "/text/blocklists", self.api_version)]

    async def delete(self, name: str) -> None:
        check_blocklist_name(name)
        await self._t.request("DELETE", f"/text/blocklists/{name}", api_version=self.api_version)

    async def add_or_update_items(self, name: str, items: Sequence[Any]) -> list[TextBlocklistItem]:
        """Add terms; more than 100 are sent as several requests (the service's per-call cap)."""
        check_blocklist_name(name)
        parsed = [
            i if isinstance(i, TextBlocklistItemInput)
            else TextBlocklistItemInput(text=i) if isinstance(i, str)
            else TextBlocklistItemInput.model_validate(i)
            for i in items
        ]
        if not parsed:
            raise InvalidInputError("no items to add; give at least one term")
        if any(p.is_regex for p in parsed) and "preview" not in self.api_version:
            raise InvalidInputError(  # before anything is sent
                f"regex blocklist items (isRegex) exist only in the service's preview api-versions, not "
                f"{self.api_version}; use ApiVersions(blocklists='2024-02-15-preview') or plain terms"
            )
        out: list[TextBlocklistItem] = []
        step = BLOCKLIST_LIMITS.items_per_request
        for i in range(0, len(parsed), step):
            body = {
                "blocklistItems": [
                    {
                        "text": p.text,
                        **({"description": p.description} if p.description else {}),
                        **({"isRegex": True} if p.is_regex else {}),
                    }
                    for p in parsed[i : i + step]
                ]
            }
            r = await self._t.request(
                "POST", f"/text/blocklists/{name}:addOrUpdateBlocklistItems",
                api_version=self.api_version, json=body,
            )
            out.extend(TextBlocklistItem.model_validate(x) for x in r.json().get("blocklistItems", []))
        return out

    async def remove_items(self, name: str, item_ids: Sequence[str]) -> None:
        check_blocklist_name(name)
        ids = list(item_ids)
        if not ids:
            raise InvalidInputError("item_ids must be a non-empty list of item ids")
        step = BLOCKLIST_LIMITS.items_per_request
        for i in range(0, len(ids), step):
            await self._t.request(
                "POST", f"/text/blocklists/{name}:removeBlocklistItems",
                api_version=self.api_version, json={"blocklistItemIds": ids[i : i + step]},
            )

    async def list_items(self, name: str, *, top: int | None = None, skip: int = 0) -> list[TextBlocklistItem]:
        check_blocklist_name(name)
        params: dict[str, Any] = {}
        if top is not None:
            params["top"] = top
        if skip:
            params["skip"] = skip
        return [
            TextBlocklistItem.model_validate(x)
            async for x in _pages(self._t, f"/text/blocklists/{name}/blocklistItems", self.api_version, params)
        ]

    async def get_item(self, name: str, item_id: str) -> TextBlocklistItem:
        check_blocklist_name(name)
        r = await self._t.request(
            "GET", f"/text/blocklists/{name}/blocklistItems/{check_resource_id(item_id, 'item id')}", api_version=self.api_version
        )
        return TextBlocklistItem.model_validate(r.json())


def _incident(data: dict[str, Any], kind: str) -> Incident:
    return Incident(
        incident_name=data["incidentName"],
        description=data.get("description") or data.get("incidentDefinition") or "",
        kind=kind,
        status=data.get("status"),
        created=data.get("created"),
        last_updated=data.get("lastUpdated"),
    )


SAMPLES_PER_REQUEST = 100


class AzureIncidents:
    """Text or image incidents (``kind``), 2024-04-15-preview by default."""

    def __init__(self, transport: AzureTransport, api_version: str, kind: str) -> None:
        self._t = transport
        self.api_version = api_version
        self.kind = kind
        self._base = f"/{kind}/incidents"

    async def create_or_update(self, name: str, *, description: str | None = None) -> Incident:
        body: dict[str, Any] = {"incidentName": name}
        if description is not None and self.kind == "text":  # None keeps the current definition
            # From 2024-04-15 the text incident's definition is incidentDefinition; image
            # incidents carry only their name.
            key = "description" if self.api_version < "2024-04-15" else "incidentDefinition"
            body[key] = description
        r = await self._t.request("PATCH", f"{self._base}/{check_incident_name(name)}", api_version=self.api_version,
                                  json=body, content_type="application/merge-patch+json")
        data = r.json() if r.content else {}
        return _incident({"description": description or "", **body, **data}, self.kind)

    async def get(self, name: str) -> Incident:
        r = await self._t.request("GET", f"{self._base}/{check_incident_name(name)}", api_version=self.api_version)
        return _incident(r.json(), self.kind)

    async def list(self) -> list[Incident]:
        return [_incident(x, self.kind) async for x in _pages(self._t, self._base, self.api_version)]

    async def delete(self, name: str) -> None:
        await self._t.request("DELETE", f"{self._base}/{check_incident_name(name)}", api_version=self.api_version)

    async def add_samples(self, name: str, samples: Sequence[Any]) -> list[IncidentSample]:
        """Text incidents take strings; image incidents take bytes or blob URLs."""
        from .backend import image_payload

        if not samples:
            raise InvalidInputError("no samples to add")
        if self.kind == "text":
            body = [{"text": s} for s in samples]
        else:
            body = [{"image": image_payload(s, url_key="blobUrl")} for s in samples]
        out: list[IncidentSample] = []
        for i in range(0, len(body), SAMPLES_PER_REQUEST):  # the service takes 100 per request
            r = await self._t.request(
                "POST", f"{self._base}/{check_incident_name(name)}:addIncidentSamples", api_version=self.api_version,
                json={"incidentSamples": body[i : i + SAMPLES_PER_REQUEST]},
            )
            out.extend(IncidentSample.model_validate(x) for x in r.json().get("incidentSamples", []))
        return out

    async def remove_samples(self, name: str, sample_ids: Sequence[str]) -> None:
        ids = [check_resource_id(i, "sample id") for i in sample_ids]
        for i in range(0, len(ids), SAMPLES_PER_REQUEST):
            await self._t.request(
                "POST", f"{self._base}/{check_incident_name(name)}:removeIncidentSamples", api_version=self.api_version,
                json={"incidentSampleIds": ids[i : i + SAMPLES_PER_REQUEST]},
            )

    async def list_samples(self, name: str) -> list[IncidentSample]:
        return [
            IncidentSample.model_validate(x)
            async for x in _pages(self._t, f"{self._base}/{check_incident_name(name)}/incidentSamples", self.api_version)
        ]

    async def get_sample(self, name: str, sample_id: str) -> IncidentSample:
        r = await self._t.request(
            "GET", f"{self._base}/{check_incident_name(name)}/incidentSamples/{check_resource_id(sample_id, 'sample id')}", api_version=self.api_version
        )
        return IncidentSample.model_validate(r.json())

    async def deploy(self, name: str, *, wait: bool = True, poll: float = 2.0, timeout: float = 600.0) -> str:
        """Deploy; with ``wait``, poll the operation until it ends. Returns its status."""
        r = await self._t.request("POST", f"{self._base}/{check_incident_name(name)}:deploy", api_version=self.api_version)
        return await follow(self._t, r, self.api_version, f"deploying incident {name!r}",
                            wait=wait, poll=poll, timeout=timeout)

    async def detect(self, text_or_image: Any, names: Sequence[str]) -> list[Finding]:
        """text:detectIncidents or image:detectIncidents."""
        from .backend import image_payload

        if self.kind == "text":
            body: dict[str, Any] = {"text": text_or_image, "incidentNames": list(names)}
        else:
            body = {"image": image_payload(text_or_image, url_key="blobUrl"), "incidentNames": list(names)}
        r = await self._t.request(
            "POST", f"/{self.kind}:detectIncidents", api_version=self.api_version, json=body
        )
        return [
            Finding(kind=FindingKind.INCIDENT, name=m["incidentName"])
            for m in r.json().get("incidentMatches", [])
        ]


def _version(data: dict[str, Any]) -> CategoryVersion:
    build = data.get("buildInfo") or {}
    err = (build.get("buildError") or {}).get("error") or {}
    return CategoryVersion(
        category_name=data["categoryName"],
        definition=data.get("definition", ""),
        version=int(data.get("version", 0)),
        status=BuildStatus.FROM_SERVICE.get(data.get("status", ""), data.get("status", BuildStatus.NOT_STARTED)),
        sample_blob_url=data.get("sampleBlobUrl"),
        created_time=data.get("createdTime"),
        error=err.get("message") or build.get("errorMessage") or data.get("errorMessage"),
    )


def analyzes_in_text_analyze(api_version: str) -> bool:
    """2024-05-15-preview analyses categories inside text:analyze (customizedCategories);
    the other previews with categories have text:analyzeCustomCategory."""
    return api_version == "2024-05-15-preview"


class AzureCategories:
    """Custom categories (standard), 2024-05-15-preview by default (the seeds' version)."""

    def __init__(self, transport: AzureTransport, api_version: str) -> None:
        self._t = transport
        self.api_version = api_version

    async def create_version(self, name: str, *, definition: str, sample_blob_url: str) -> CategoryVersion:
        body = {"categoryName": name, "definition": definition, "sampleBlobUrl": sample_blob_url}
        if self.api_version == "2024-05-15-preview":
            body["blobDelimiter"] = "/"  # only that preview's spec has it
        r = await self._t.request("PUT", f"/text/categories/{check_category_name(name)}", api_version=self.api_version, json=body)
        return _version(r.json())

    async def build(self, name: str, version: int) -> str | None:
        """Start the build; returns the Operation-Location when the service gives one."""
        r = await self._t.request(
            "POST", f"/text/categories/{check_category_name(name)}:build", api_version=self.api_version,
            params={"version": version},
        )
        return r.headers.get("Operation-Location")

    async def get(self, name: str, version: int | None = None) -> CategoryVersion:
        params = {"version": version} if version is not None else None
        r = await self._t.request("GET", f"/text/categories/{check_category_name(name)}", api_version=self.api_version, params=params)
        data = r.json()
        items = data.get("value") if isinstance(data.get("value"), list) else [data]
        if not items:
            raise NotFoundError(f"custom category {name!r} has no version {version}")
        return _version(items[0])

    async def list(self) -> list[CategoryVersion]:
        return [_version(x) async for x in _pages(self._t, "/text/categories", self.api_version)]

    async def delete(self, name: str, version: int | None = None, *, wait: bool = True,
                     poll: float = 2.0, timeout: float = 600.0) -> None:
        """Delete a version or the whole category; a long-running 202 in 2024-05-15-preview,
        polled to its end with ``wait``."""
        params = {"version": version} if version is not None else None
        r = await self._t.request("DELETE", f"/text/categories/{check_category_name(name)}", api_version=self.api_version, params=params)
        if r.status_code == 202:
            await follow(self._t, r, self.api_version, f"deleting category {name!r}", wait=wait, poll=poll,
                         timeout=timeout)

    async def wait_for_build(self, name: str, version: int, *, poll: float = 30.0, timeout: float = 12 * 3600) -> CategoryVersion:
        """Poll until the build of ``version`` succeeds or fails (the service takes hours)."""
        deadline = time.monotonic() + timeout
        while True:
            current = await self.get(name, version)
            if current.status in (BuildStatus.SUCCEEDED, BuildStatus.FAILED):
                return current
            if time.monotonic() > deadline:
                raise BackendTimeoutError(f"build of {name} v{version} still {current.status} after {timeout:g}s", backend="azure")
            await asyncio.sleep(poll)

    async def resolve(self, refs: Sequence[CategoryRef]) -> list[CategoryRef]:
        """Refs with their version: 2024-05-15-preview requires one, so an unversioned ref
        means the latest version, which must be built."""
        out = []
        for ref in refs:
            if ref.version is None:
                latest = await self.get(ref.name)
                if latest.status != BuildStatus.SUCCEEDED:
                    raise ConflictError(f"the latest version ({latest.version}) of custom category {ref.name!r} is "
                                        f"{latest.status}; name a built version ({ref.name}:N)")
                ref = CategoryRef(ref.name, latest.version)
            out.append(ref)
        return out

    async def analyze(self, text: str, ref: CategoryRef) -> Finding:
        """text:analyzeCustomCategory for one category (the previews other than 2024-05-15)."""
        body: dict[str, Any] = {"text": text, "categoryName": ref.name}
        if ref.version is not None:
            body["version"] = ref.version
        r = await self._t.request("POST", "/text:analyzeCustomCategory", api_version=self.api_version, json=body)
        data = r.json()
        analysis = data.get("customCategoryAnalysis") if isinstance(data, dict) else None
        if not isinstance(analysis, dict) or not isinstance(analysis.get("detected"), bool):
            raise BackendError(f"text:analyzeCustomCategory answered without customCategoryAnalysis.detected for "
                               f"{ref.name!r}; the check cannot pass on a missing answer", backend="azure")
        return Finding(kind=FindingKind.CUSTOM_CATEGORY, name=ref.name, detected=analysis["detected"],
                       version=ref.version)
