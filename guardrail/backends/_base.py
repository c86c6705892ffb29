"""The one interface every backend implements.

The Guard hands a backend one :class:`AnalysisRequest` per check; the default
:meth:`Backend.analyze` fans it out to the four analysis methods concurrently. A
backend that answers several analyses in one call (Azure's ``text:analyze`` gives harm
and blocklists together) overrides ``analyze``. A backend that cannot do an analysis
says so with :meth:`Backend.supports`, and the Guard reports it as skipped.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Coroutine, Sequence

from .._models import Finding, HarmCategory, OutputType

__all__ = [
    "Analysis",
    "AnalysisRequest",
    "AnalysisResult",
    "Backend",
    "CategoryRef",
    "IncidentRef",
    "Job",
    "run_jobs",
]


class Analysis:
    HARM = "harm"
    BLOCKLIST = "blocklist"
    INCIDENT = "incident"
    IMAGE_INCIDENT = "image_incident"
    CUSTOM_CATEGORY = "custom_category"
    BLOCKLIST_FOLD = "blocklist_fold"  # leetspeak / confusables folds of a rule
    PROMPT_SHIELD = "prompt_shield"
    ALL = frozenset({HARM, BLOCKLIST, INCIDENT, IMAGE_INCIDENT, CUSTOM_CATEGORY, BLOCKLIST_FOLD, PROMPT_SHIELD})


@dataclass(frozen=True)
class IncidentRef:
    name: str
    threshold: float | None = None


@dataclass(frozen=True)
class CategoryRef:
    name: str
    version: int | None = None


@dataclass(frozen=True)
class AnalysisRequest:
    """What one check needs. Harm severities come back on ``output_type``'s scale."""

    harm: tuple[HarmCategory, ...] = ()
    output_type: OutputType = OutputType.EIGHT_SEVERITY_LEVELS
    blocklists: tuple[str, ...] = ()
    blocklist_folds: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(list name, folds) for lists whose rule asks for leetspeak/confusables folds."""
    incidents: tuple[IncidentRef, ...] = ()
    categories: tuple[CategoryRef, ...] = ()
    prompt_shield: bool = False
    shield_threshold: float | None = None
    documents: tuple[str, ...] = ()
    """Documents shielded with the text (indirect attacks); set per check, not per policy."""

    @property
    def empty(self) -> bool:
        return not (self.harm or self.blocklists or self.incidents or self.categories or self.prompt_shield)

    @property
    def uses_store(self) -> bool:
        """Whether the check reads stored resources (blocklists, incidents, categories)."""
        return bool(self.blocklists or self.incidents or self.categories)


@dataclass
class AnalysisResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    store_version: int | None = None
    """The store's change counter the resources used reflect (PostgreSQL store)."""
    store_stale: str | None = None
    """Why those resources may be behind the store (the database is unreachable)."""


Job = tuple[str, Callable[[], Coroutine[Any, Any, list[Finding]]]]


async def run_jobs(jobs: Sequence[Job], timeout: float) -> AnalysisResult:
    """Run labelled analysis coroutines concurrently under one deadline.

    A job that fails or misses the deadline becomes an error line; the results of the
    jobs that finished are kept either way.
    """
    result = AnalysisResult()
    timings = result.timings_ms

    async def timed(label: str, make: Callable[[], Coroutine[Any, Any, list[Finding]]]) -> list[Finding]:
        started = time.perf_counter()
        try:
            return await make()
        finally:
            timings[label] = (time.perf_counter() - started) * 1000.0

    if not jobs:
        return result
    if len(jobs) == 1:  # no task needed: saves tens of microseconds per check
        label, make = jobs[0]
        try:
            result.findings.extend(await _with_timeout(timed(label, make), timeout))
        except (asyncio.TimeoutError, TimeoutError):
            result.errors.append(f"{label}: timed out after {timeout:g}s")
        except Exception as exc:  # a backend failure becomes the fail mode's verdict
            result.errors.append(f"{label}: {describe_error(exc)}")
        return result

    tasks = {asyncio.ensure_future(timed(label, make)): label for label, make in jobs}
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    for task, label in tasks.items():  # keep the jobs' order
        if task in pending:
            result.errors.append(f"{label}: timed out after {timeout:g}s")
            continue
        exc = task.exception()
        if exc is None:
            result.findings.extend(task.result())
        else:
            result.errors.append(f"{label}: {describe_error(exc)}")
    return result


async def _with_timeout(aw: Coroutine[Any, Any, Any], seconds: float) -> Any:
    if hasattr(asyncio, "timeout"):  # 3.11+: no extra task
        async with asyncio.timeout(seconds):
            return await aw
    return await asyncio.wait_for(aw, seconds)  # pragma: no cover


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Backend:
    """Base class of backends. Subclasses override the analyses they support.

    Each analysis method returns only hits (harm: every requested category, severity 0
    included); failures raise :class:`guardrail.BackendError` or any exception, which
    the Guard turns into the policy's fail mode.
    """

    name = "base"
    harm_languages: tuple[str, ...] | None = None
    """Languages (ISO 639-1) its harm analysis is trained on; None: not known."""
    max_text_length = 100_000
    """The Guard's default bound on a text's length for this backend."""

    def supports(self, analysis: str) -> bool:
        return False

    async def analyze(self, text: str, request: AnalysisRequest, *, timeout: float) -> AnalysisResult:
        """Run every analysis ``request`` asks for, concurrently, within ``timeout`` seconds."""
        return await run_jobs(self.jobs(text, request), timeout)

    def jobs(self, text: str, request: AnalysisRequest) -> list[Job]:
        """One labelled coroutine factory per analysis; a backend that answers several
        analyses in one call replaces the ones it merges."""
        jobs: list[Job] = []
        if request.harm:
            jobs.append(
                ("harm", lambda: self.analyze_harm(text, request.harm, request.output_type))
            )
        if request.blocklists:
            if request.blocklist_folds:
                folds = dict(request.blocklist_folds)
                jobs.append(("blocklist", lambda: self.match_blocklists(text, request.blocklists, folds=folds)))
            else:
                jobs.append(("blocklist", lambda: self.match_blocklists(text, request.blocklists)))
        if request.incidents:
            jobs.append(("incident", lambda: self.detect_incidents(text, request.incidents)))
        if request.categories:
            jobs.append(
                ("custom_category", lambda: self.analyze_custom_categories(text, request.categories))
            )
        if request.prompt_shield:
            jobs.append(("prompt_shield", lambda: self.shield_prompt(
                text, request.documents, threshold=request.shield_threshold)))
        return jobs

    async def analyze_harm(
        self, text: str, categories: Sequence[HarmCategory], output_type: OutputType
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not analyze harm")

    async def match_blocklists(
        self, text: str, names: Sequence[str], *, folds: dict[str, tuple[str, ...]] | None = None
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not match blocklists")

    async def detect_incidents(
        self, text: str, incidents: Sequence[IncidentRef]
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not detect incidents")

    async def analyze_custom_categories(
        self, text: str, categories: Sequence[CategoryRef]
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not analyze custom categories")

    async def shield_prompt(
        self, user_prompt: str, documents: Sequence[str] = (), *, threshold: float | None = None
    ) -> list[Finding]:
        """Prompt attacks: one ``prompt_attack`` finding for the user prompt (when not empty)
        and one per document (``document`` = its index), ``detected`` or not."""
        raise NotImplementedError(f"{type(self).__name__} does not shield prompts")

    async def detect_image_incidents(self, image: Any, incidents: Sequence[IncidentRef]) -> list[Finding]:
        """Image incidents hit by ``image`` (bytes, base64, a path, or an http(s) URL)."""
        raise NotImplementedError(f"{type(self).__name__} does not detect image incidents")

    def check_resources(self, request: AnalysisRequest) -> None:
        """Raise :class:`guardrail.NotFoundError` for a resource ``request`` names that does
        not exist. The Guard calls it once when built: a policy naming an unknown list
        must not turn every check into the fail mode (with ``open``, into a pass)."""

    def stream_margin(self, blocklists: Sequence[str], *, spaced: bool = False) -> int:
        """Longest span (characters) a blocklist hit can have in streamed text.

        Streams hold back this many characters so a term is never split between what
        was delivered and what is still to come. 128 is the service's item length limit;
        ``spaced``: a list matches terms typed apart ("b a d"), up to twice as long.
        """
        return 256 if spaced else 128

    async def aclose(self) -> None:
        """Release connections and sessions."""

    def close(self) -> None:
        """Release what can be released without an event loop."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
