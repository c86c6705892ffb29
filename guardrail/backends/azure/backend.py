"""AzureBackend: Azure AI Content Safety over REST, behind the same interface as the local engine."""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Sequence

import httpx

from ..._exceptions import BackendError, InvalidInputError
from ..._models import Finding, FindingKind, HarmCategory, OutputType, Span
from .._base import (
    Analysis,
    AnalysisRequest,
    Backend,
    CategoryRef,
    IncidentRef,
    Job,
)
from . import _mapping as mapping
from ._config import ApiVersions, RetryPolicy, TokenProvider, resolve_endpoint, resolve_key
from ._resources import AzureBlocklists, AzureCategories, AzureIncidents, analyzes_in_text_analyze
from ._transport import AzureTransport, response_json

__all__ = ["AzureBackend"]

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"


class AzureBackend(Backend):
    """Azure AI Content Safety as a guardrail backend.

    Usage::

        backend = AzureBackend()  # AZURE_CONTENT_SAFETY_ENDPOINT / AZURE_CONTENT_SAFETY_KEY
        guard = Guard("policy.toml", backend=backend)

    **Parameters:**

    * **endpoint** - *(optional)* ``https://<resource>.cognitiveservices.azure.com``.
    * **key** - *(optional)* the resource key (sent as ``Ocp-Apim-Subscription-Key``).
    * **token_provider** - *(optional)* a callable returning a Microsoft Entra ID bearer
      token (sync or async), instead of a key; see :meth:`from_credential`.
    * **api_versions** - *(optional)* :class:`ApiVersions`, per operation family.
    * **timeout** - *(optional)* seconds per HTTP request.
    * **retry** - *(optional)* :class:`RetryPolicy`.
    * **max_connections** / **max_in_flight** - *(optional)* pool size and concurrency bound.
    * **http_client** - *(optional)* your own ``httpx.AsyncClient`` (you close it).
    """

    name = "azure"
    # The languages the service's harm models are "specially trained" on (its language
    # support page); others work "but the quality might vary".
    harm_languages: tuple[str, ...] | None = ("en", "de", "es", "fr", "it", "ja", "pt", "zh")

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        key: str | None = None,
        token_provider: TokenProvider | None = None,
        api_versions: ApiVersions | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 20,
        max_in_flight: int = 64,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.endpoint = resolve_endpoint(endpoint)
        secret = resolve_key(key, token_provider)
        self.api_versions = api_versions or ApiVersions()
        self.transport = AzureTransport(
            self.endpoint,
            key=secret,
            token_provider=token_provider,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            max_connections=max_connections,
            max_in_flight=max_in_flight,
            http_client=http_client,
        )
        self.blocklists = AzureBlocklists(self.transport, self.api_versions.blocklists)
        self.text_incidents = AzureIncidents(self.transport, self.api_versions.incidents, "text")
        self.image_incidents = AzureIncidents(self.transport, self.api_versions.incidents, "image")
        self.categories = AzureCategories(self.transport, self.api_versions.categories)

    @classmethod
    def from_credential(cls, credential: Any, endpoint: str | None = None, **kwargs: Any) -> AzureBackend:
        """Authenticate with an azure-identity credential (``pip install 'guardrail[azure-identity]'``)."""

        def token() -> str:
            return str(credential.get_token(COGNITIVE_SCOPE).token)

        return cls(endpoint, token_provider=token, **kwargs)

    def __repr__(self) -> str:
        return f"<AzureBackend {self.endpoint!r}>"

    def supports(self, analysis: str) -> bool:
        return analysis in Analysis.ALL

    # -- the Guard's seam ----------------------------------------------------------------

    def jobs(self, text: str, request: AnalysisRequest) -> list[Job]:
        # text:analyze answers harm and blocklists in one call: one job for both.
        jobs = [job for job in super().jobs(text, request) if job[0] not in ("harm", "blocklist")]
        if request.harm or request.blocklists:
            label = "+".join(
                x for x, on in (("harm", request.harm), ("blocklist", request.blocklists)) if on
            )
            merged: Job = (
                label,
                lambda: self.analyze_text(
                    text,
                    categories=request.harm,
                    output_type=request.output_type,
                    blocklists=request.blocklists,
                    harm=bool(request.harm),  # no harm findings the policy did not ask for
                ),
            )
            jobs.insert(0, merged)
        return jobs

    async def analyze_harm(
        self, text: str, categories: Sequence[HarmCategory], output_type: OutputType
    ) -> list[Finding]:
        return await self.analyze_text(text, categories=categories, output_type=output_type)

    async def match_blocklists(
        self, text: str, names: Sequence[str], *, folds: dict[str, tuple[str, ...]] | None = None
    ) -> list[Finding]:
        return await self.analyze_text(text, categories=(), blocklists=names, harm=False)

    async def detect_incidents(self, text: str, incidents: Sequence[IncidentRef]) -> list[Finding]:
        names = [i.name for i in incidents]
        chunks = mapping.chunk_text(text, mapping.TEXT_LIMIT)
        results = await asyncio.gather(
            *(self.text_incidents.detect(chunk, names) for _, chunk in chunks)
        )
        hit = {f.name for found in results for f in found}
        return [Finding(kind=FindingKind.INCIDENT, name=n) for n in names if n in hit]

    async def detect_image_incidents(self, image: Any, incidents: Sequence[IncidentRef]) -> list[Finding]:
        from ..local.images import load_image

        value = image if isinstance(image, str) and image.startswith(("https://", "http://")) else load_image(image)
        names = [i.name for i in incidents]
        hit = {f.name for f in await self.image_incidents.detect(value, names)}
        return [Finding(kind=FindingKind.INCIDENT, name=n) for n in names if n in hit]

    async def shield_prompt(
        self, user_prompt: str, documents: Sequence[str] = (), *, threshold: float | None = None
    ) -> list[Finding]:
        """text:shieldPrompt (GA 2024-09-01); long input is split and merged by OR. The
        service has no score, so ``threshold`` does not apply."""
        from ..local.shield import check_shield_input
        from . import _shield

        check_shield_input(user_prompt, list(documents), local=True)  # longer input is split, not refused
        requests = _shield.plan(user_prompt, documents)
        version = self.api_versions.shield_prompt
        answers = await asyncio.gather(*(self._post_json("/text:shieldPrompt", version, r.body()) for r in requests))
        return _shield.merge(user_prompt, documents, requests, answers)

    async def analyze_custom_categories(
        self, text: str, categories: Sequence[CategoryRef]
    ) -> list[Finding]:
        """Each category on ``text`` (chunked over the limit; detected in any chunk wins).
        2024-05-15-preview asks text:analyze with customizedCategories (a version is
        required: an unversioned ref means the latest, built version); the other previews
        ask text:analyzeCustomCategory. A category missing from an answer is an error."""
        version = self.api_versions.categories
        chunks = [c for _, c in mapping.chunk_text(text, mapping.TEXT_LIMIT)]
        if analyzes_in_text_analyze(version):
            refs = await self.categories.resolve(categories)

            async def one(chunk: str) -> list[Finding]:
                body = mapping.analyze_body(chunk, api_version=version, custom_categories=refs)
                data = await self._post_json("/text:analyze", version, body)
                return mapping.category_findings(data, refs)

            answers = await asyncio.gather(*(one(c) for c in chunks))
        else:
            refs = list(categories)
            answers = await asyncio.gather(*(
                asyncio.gather(*(self.categories.analyze(c, ref) for ref in refs)) for c in chunks))
        by_name: dict[str, Finding] = {}
        for found in answers:
            seen = {f.name: f for f in found}
            for ref in refs:
                f = seen.get(ref.name)
                if f is None:
                    raise BackendError(f"the answer has no analysis for custom category {ref.name!r}; the check "
                                       "cannot pass on a missing answer", backend="azure")
                if ref.name not in by_name or (f.detected and not by_name[ref.name].detected):
                    by_name[ref.name] = f
        return [by_name[r.name] for r in refs]

    # -- full operations -----------------------------------------------------------------

    async def analyze_text(
        self,
        text: str,
        *,
        categories: Sequence[HarmCategory] = tuple(HarmCategory),
        output_type: OutputType = OutputType.FOUR_SEVERITY_LEVELS,
        blocklists: Sequence[str] = (),
        halt_on_blocklist_hit: bool | None = None,
        incidents: Sequence[str] = (),
        custom_categories: Sequence[CategoryRef] = (),
        harm: bool = True,
    ) -> list[Finding]:
        """text:analyze. Text over the service's limit is split into overlapping chunks,
        analysed concurrently and merged: the highest severity per category wins (its
        span is the worst chunk's) and blocklist spans point into the whole text.
        """
        if not isinstance(text, str) or not text:
            raise InvalidInputError("text:analyze needs a non-empty string")
        if incidents:
            version = self.api_versions.analyze_with_incidents
        elif custom_categories:
            version = self.api_versions.categories
        else:
            version = self.api_versions.analyze_text
        legacy = mapping.is_legacy(version)
        chunks = mapping.chunk_text(text, mapping.text_limit(version))

        async def one(offset: int, chunk: str) -> tuple[int, str, dict[str, Any]]:
            body = mapping.analyze_body(
                chunk,
                api_version=version,
                categories=categories if harm else (),
                output_type=None if legacy else output_type,
                blocklists=blocklists,
                halt_on_blocklist_hit=halt_on_blocklist_hit,
                incidents=incidents,
                custom_categories=custom_categories,
            )
            return offset, chunk, await self._post_json("/text:analyze", version, body)

        answers = await asyncio.gather(*(one(o, c) for o, c in chunks))
        harm_by_chunk: list[list[Finding]] = []
        findings: list[Finding] = []
        for offset, chunk, data in answers:
            mapping.check_analysis(data, categories if harm else (), blocklists, legacy)
            if harm:
                found = mapping.harm_findings(data)
                if len(chunks) > 1:
                    span = Span(start=offset, end=offset + len(chunk))
                    found = [f.model_copy(update={"span": span}) for f in found]
                harm_by_chunk.append(found)
            if "blocklistsMatchResults" in data:
                findings.extend(mapping.blocklist_findings(data, chunk, offset))
            elif data.get("blocklistsMatch"):
                findings.extend(mapping.blocklist_findings(data, text))
            findings.extend(mapping.incident_findings(data))
            findings.extend(mapping.category_findings(data, custom_categories))
        # The legacy API reports 0/2/4/6 only; those are valid 0-7 values as they stand.
        merged = mapping.merge_harm(harm_by_chunk) if harm else []
        return merged + mapping.dedupe_spans(findings)

    async def analyze_image(
        self,
        image: bytes | str,
        *,
        categories: Sequence[HarmCategory] = tuple(HarmCategory),
        incidents: Sequence[str] = (),
    ) -> list[Finding]:
        """image:analyze for image bytes (sent as base64) or a blob URL (``str``). The legacy
        2023-04-30-preview takes ``image.url`` and no ``outputType``."""
        version = self.api_versions.analyze_with_incidents if incidents else self.api_versions.analyze_image
        legacy = mapping.is_legacy(version)
        body: dict[str, Any] = {"image": image_payload(image, url_key="url" if legacy else "blobUrl")}
        if categories:
            body["categories"] = [c.value for c in categories]
        if not legacy:
            body["outputType"] = OutputType.FOUR_SEVERITY_LEVELS.value
        if incidents:
            body["incidents"] = {"incidentNames": list(incidents)}
        data = await self._post_json("/image:analyze", version, body)
        mapping.check_analysis(data, categories, (), legacy)
        return mapping.harm_findings(data) + mapping.incident_findings(data)

    async def _post_json(self, path: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.transport.request("POST", path, api_version=version, json=body)
        data = response_json(response, f"POST {path}")
        if not isinstance(data, dict) or not data:
            raise BackendError(f"Azure POST {path} answered {response.status_code} without an analysis "
                               f"(got {type(data).__name__} {str(data)[:40]!r})", backend="azure")
        return data

    async def aclose(self) -> None:
        await self.transport.aclose()


def image_payload(image: bytes | str, *, url_key: str) -> dict[str, str]:
    if isinstance(image, (bytes, bytearray)):
        if not image:
            raise InvalidInputError("the image is empty")
        return {"content": base64.b64encode(bytes(image)).decode("ascii")}
    if isinstance(image, str) and image.startswith(("https://", "http://")):
        return {url_key: image}
    raise InvalidInputError("an image must be bytes or an http(s) URL string")
