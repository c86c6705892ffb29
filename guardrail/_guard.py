"""Guard: checks prompts and completions against a policy through one backend."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Sequence, TypeVar, Union

from ._decision import decide
from ._exceptions import (
    ConfigurationError,
    EmptyTextError,
    GuardrailError,
    InvalidInputError,
    TextTooLongError,
    UnsupportedInputError,
)
from ._folds import SPACED
from . import _language
from ._models import Direction, Finding, FindingKind, OutputType, Verdict
from ._policy import DirectionPolicy, Policy, PolicyTypes
from ._store import BaseStore
from ._streaming import StreamFilter
from ._telemetry import span
from ._text import clean, document_list
from .backends.local._runner import check_timings
from .backends._base import (
    Analysis,
    AnalysisRequest,
    AnalysisResult,
    Backend,
    CategoryRef,
    IncidentRef,
    run_jobs,
)

__all__ = ["DEFAULT_MAX_TEXT_LENGTH", "Guard", "OnVerdict"]

logger = logging.getLogger("guardrail")

DEFAULT_MAX_TEXT_LENGTH = 100_000
"""The default bound for backends that analyse long text quickly (Azure chunks it); the
local engine's default is lower (Backend.max_text_length): what its harm model checks
within the default 5 s timeout on two cores."""
T = TypeVar("T")
OnVerdict = Callable[[Verdict], Union[None, Awaitable[None]]]


@dataclass(frozen=True)
class _Plan:
    """What one direction needs from the backend, worked out once per Guard."""

    policy: DirectionPolicy
    request: AnalysisRequest
    skipped: tuple[str, ...]
    image_incidents: tuple[IncidentRef, ...] = ()
    image_policy: DirectionPolicy | None = None

    def part(self, name: str) -> AnalysisRequest:
        """``all``, ``blocklist`` (term matching only) or ``model`` (everything else):
        streams check the cheap part per chunk and the model part per segment."""
        if name == "blocklist":
            return AnalysisRequest(blocklists=self.request.blocklists, blocklist_folds=self.request.blocklist_folds)
        if name == "model":
            return replace(self.request, blocklists=(), blocklist_folds=())
        return self.request


def _make_plan(policy: DirectionPolicy, backend: Backend) -> _Plan:
    wanted = {
        Analysis.HARM: bool(policy.harm),
        Analysis.BLOCKLIST: bool(policy.blocklists),
        Analysis.INCIDENT: bool(policy.incidents),
        Analysis.CUSTOM_CATEGORY: bool(policy.custom_categories),
        Analysis.PROMPT_SHIELD: policy.prompt_shield is not None,
    }
    able = {a: w and backend.supports(a) for a, w in wanted.items()}
    skipped = tuple(
        f"{a}: not supported by the {backend.name} backend"
        for a, w in wanted.items()
        if w and not able[a]
    )
    # Harm is always asked for on the fine scale; decide() compares thresholds on 0-7.
    request = AnalysisRequest(
        harm=policy.harm_categories if able[Analysis.HARM] else (),
        output_type=OutputType.EIGHT_SEVERITY_LEVELS,
        blocklists=tuple(r.name for r in policy.blocklists) if able[Analysis.BLOCKLIST] else (),
        blocklist_folds=tuple((r.name, r.fold) for r in policy.blocklists if r.fold)
        if able[Analysis.BLOCKLIST] and backend.supports(Analysis.BLOCKLIST_FOLD) else (),
        incidents=tuple(IncidentRef(r.name, r.threshold) for r in policy.incidents)
        if able[Analysis.INCIDENT]
        else (),
        categories=tuple(CategoryRef(r.name, r.version) for r in policy.custom_categories)
        if able[Analysis.CUSTOM_CATEGORY]
        else (),
        prompt_shield=able[Analysis.PROMPT_SHIELD],
        shield_threshold=policy.prompt_shield.threshold if policy.prompt_shield is not None else None,
    )
    if any(r.fold for r in policy.blocklists) and able[Analysis.BLOCKLIST] \
            and not backend.supports(Analysis.BLOCKLIST_FOLD):
        skipped += (f"{Analysis.BLOCKLIST_FOLD}: not supported by the {backend.name} backend",)
    images = tuple(IncidentRef(r.name, r.threshold) for r in policy.image_incidents)
    if images and not backend.supports(Analysis.IMAGE_INCIDENT):
        skipped += (f"{Analysis.IMAGE_INCIDENT}: not supported by the {backend.name} backend",)
        images = ()
    # Image verdicts apply the image-incident rules where decide() looks for incident rules.
    image_policy = policy.model_copy(update={"incidents": policy.image_incidents})
    return _Plan(policy=policy, request=request, skipped=skipped, image_incidents=images,
                 image_policy=image_policy)


def check_documents(documents: object, max_length: int) -> tuple[str, ...]:
    """Validate documents to shield; raise a typed error naming the bad one."""
    if documents is None:
        return ()
    out = []
    for i, doc in enumerate(document_list(documents)):
        if len(doc) > max_length:
            raise TextTooLongError(f"document {i} is {len(doc):,} characters; the limit is {max_length:,}")
        out.append(clean(doc))
    return tuple(out)


def check_text(text: object, max_length: int) -> str:
    """Validate a text to check; raise a typed error saying what to fix."""
    if not isinstance(text, str):
        raise UnsupportedInputError(
            f"guardrail checks text (str), got {type(text).__name__}; "
            "for LangChain messages use guardrail.integrations.langchain"
        )
    if not text:
        raise EmptyTextError("the text to check is empty")
    if len(text) > max_length:
        raise TextTooLongError(
            f"the text is {len(text):,} characters; the limit is {max_length:,} "
            "(raise Guard(max_text_length=...) or split the text)"
        )
    return text


class Guard:
    """Checks prompts before the model sees them and completions before the user does.

    Usage::

        guard = Guard(policy={"blocklists": ["slurs"]})
        verdict = await guard.check_prompt(user_text)
        if verdict.blocked:
            return verdict.text  # the policy's refusal

    **Parameters:**

    * **policy** - *(optional)* a :class:`Policy`, a mapping, or a TOML/YAML/JSON file path.
    * **backend** - *(optional)* a :class:`Backend`; the embedded :class:`LocalEngine` by default.
    * **store** - *(optional)* store path, ``postgresql://`` URL or store for the default local engine.
    * **on_verdict** - *(optional)* called with every verdict (sync or async callable).
    * **log_text** - *(optional)* include the checked text in log records (off by default).
    * **max_text_length** - *(optional)* longest text accepted, in characters; default:
      the backend's (40,000 for the local engine, 100,000 for Azure).
    * **image_hosts** - *(optional)* hosts or networks (``"10.0.0.0/8"``) image links may
      be fetched from although they are internal; by default internal addresses are refused.
    """

    def __init__(
        self,
        policy: PolicyTypes | None = None,
        *,
        backend: Backend | None = None,
        store: BaseStore | str | Path | None = None,
        on_verdict: OnVerdict | None = None,
        log_text: bool = False,
        max_text_length: int | None = None,
        image_hosts: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.policy = Policy.coerce(policy)
        if backend is None:
            from .backends.local import LocalEngine

            backend = LocalEngine(store)
        elif store is not None:
            raise GuardrailError("give either backend= or store=, not both")
        self.backend = backend
        self.on_verdict = on_verdict
        self.log_text = log_text
        self.image_hosts = tuple(image_hosts)
        if max_text_length is None:
            max_text_length = backend.max_text_length
        if isinstance(max_text_length, bool) or not isinstance(max_text_length, int) or max_text_length < 1:
            raise InvalidInputError(f"max_text_length must be a whole number of characters, got {max_text_length!r}")
        self.max_text_length = max_text_length
        self._plans = {
            Direction.PROMPT: _make_plan(self.policy.prompt, backend),
            Direction.COMPLETION: _make_plan(self.policy.completion, backend),
        }
        for plan in self._plans.values():
            backend.check_resources(plan.request)
        for direction, plan in self._plans.items():
            for note in plan.skipped:
                logger.warning("guardrail %s policy: %s", direction.value, note)
        if any(plan.request.harm for plan in self._plans.values()):
            # Load the language identifier now, off the first check's path (about a second).
            # Not a daemon: one frozen mid-import at exit keeps the import lock, and the
            # next import while the interpreter shuts down (a warning's) waits forever.
            threading.Thread(target=_language.load, name="guardrail-language-load").start()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._loop_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Guard backend={self.backend.name!r}>"

    # -- async API -----------------------------------------------------------------------

    async def check_prompt(self, text: str, *, documents: Sequence[str] | None = None) -> Verdict:
        """Check a user prompt before the model sees it. ``documents`` (retrieved passages,
        tool results, pages, emails) are shielded for planted instructions when the policy's
        ``prompt_shield`` asks; with documents the prompt may be empty."""
        return await self.check(text, Direction.PROMPT, documents=documents)

    async def check_completion(self, text: str) -> Verdict:
        """Check a model completion before the user sees it."""
        return await self.check(text, Direction.COMPLETION)

    async def check(self, text: str, direction: Direction | str, *, documents: Sequence[str] | None = None) -> Verdict:
        """Check ``text`` as a prompt or a completion; returns the verdict and reports it."""
        verdict = await self._evaluate(text, Direction(direction), documents=documents)
        await self._observe(verdict, text)
        return verdict

    async def _evaluate(self, text: str, direction: Direction, part: str = "all",
                        documents: Sequence[str] | None = None) -> Verdict:
        """Check without reporting: the streaming filter reports once per stream."""
        plan = self._plans[direction]
        request = plan.part(part)
        docs = check_documents(documents, self.max_text_length)
        if docs:
            rule = plan.policy.prompt_shield
            if rule is None or not rule.documents:  # unread documents would be a silent pass
                raise ConfigurationError(
                    f"documents were given, but the {direction.value} policy does not shield documents; "
                    "add prompt_shield = true (or {documents = true}) to it")
            if request.prompt_shield:  # else the backend cannot: the verdict lists it as skipped
                request = replace(request, documents=docs)
        if docs and text == "":  # documents only: the shield is the one check that reads them
            request = AnalysisRequest(prompt_shield=request.prompt_shield, shield_threshold=request.shield_threshold,
                                      documents=request.documents)
        else:
            text = check_text(text, self.max_text_length)
        text = clean(text)
        started = time.perf_counter()
        queue: dict[str, float] = {}
        with span("guardrail.check", {"guardrail.direction": direction.value}) as otel:
            token = check_timings.set(queue)  # the local model queue reports its wait here
            try:
                if request.empty:
                    result = AnalysisResult()
                else:
                    result = await self.backend.analyze(text, request, timeout=plan.policy.timeout)
            finally:
                check_timings.reset(token)
            findings = _keep_hits(result.findings)
            language = None
            if request.harm:
                language = _language_finding_for(text, plan.policy, self.backend, findings)
            timings = {**result.timings_ms, **queue}
            timings["total"] = (time.perf_counter() - started) * 1000.0
            verdict = decide(
                plan.policy,
                direction,
                text,
                findings,
                errors=result.errors,
                skipped=plan.skipped,
                backend=self.backend.name,
                timings_ms=timings,
                store_version=result.store_version,
                stale=result.store_stale,
                language=language,
            )
            if otel is not None and hasattr(otel, "set_attribute"):
                otel.set_attribute("guardrail.decision", verdict.decision.value)
                otel.set_attribute("guardrail.backend", verdict.backend)
                otel.set_attribute("guardrail.flagged", verdict.flagged)
                otel.set_attribute("guardrail.findings", len(verdict.findings))
        return verdict

    async def check_image(self, image: Any, direction: Direction | str = Direction.PROMPT) -> Verdict:
        """Check an image (bytes, base64, a file path or an http(s) URL) against the
        policy's ``image_incidents``. ``verdict.text`` is empty unless it is the refusal.

        A URL is fetched inside the check, under the policy's timeout, refusing internal
        addresses unless the Guard's ``image_hosts`` allows them; a fetch that fails is a
        failed check (the fail mode), not an exception."""
        from .backends.local.images import aload_image, is_url, load_image

        direction = Direction(direction)
        plan = self._plans[direction]
        if not isinstance(image, (bytes, bytearray, str, Path)):
            raise UnsupportedInputError(
                f"an image must be bytes, base64, a file path or an http(s) URL, got {type(image).__name__}"
            )
        if not plan.image_incidents:
            result = AnalysisResult()
        else:
            url = is_url(image)
            value = None if url else load_image(image)  # the caller's own bytes: typed errors now

            async def job() -> list[Finding]:
                loaded: Any = value
                if url:
                    loaded = image if self.backend.name == "azure" else await aload_image(
                        image, fetch_timeout=plan.policy.timeout, allowed_hosts=self.image_hosts)
                return await self.backend.detect_image_incidents(loaded, plan.image_incidents)

            result = await run_jobs([("image_incident", job)], plan.policy.timeout)
        assert plan.image_policy is not None
        verdict = decide(plan.image_policy, direction, "", _keep_hits(result.findings), errors=result.errors,
                         skipped=plan.skipped, backend=self.backend.name, timings_ms=result.timings_ms)
        await self._observe(verdict, "<image>")
        return verdict

    def check_image_sync(self, image: Any, direction: Direction | str = Direction.PROMPT) -> Verdict:
        return self.run_sync(self.check_image(image, direction))

    def checks_images(self, direction: Direction | str) -> bool:
        return bool(self._plans[Direction(direction)].image_incidents)

    def stream_filter(self, direction: Direction | str = Direction.COMPLETION, **options: Any) -> StreamFilter:
        """A :class:`StreamFilter` that releases only text this Guard has passed."""
        return StreamFilter(self, Direction(direction), **options)

    def policy_for(self, direction: Direction | str) -> DirectionPolicy:
        return self.policy.for_direction(Direction(direction))

    def stream_margin(self, direction: Direction | str) -> int:
        """Folded characters (as the matcher counts them) the longest blocklist hit can
        span: a stream holds back one more, so no hit straddles a release. 0 without lists."""
        plan = self._plans[Direction(direction)]
        if not plan.request.blocklists:
            return 0
        if self.spaced_lists(direction):  # only then: a Backend subclass may not take ``spaced``
            return self.backend.stream_margin(plan.request.blocklists, spaced=True)
        return self.backend.stream_margin(plan.request.blocklists)

    def spaced_lists(self, direction: Direction | str) -> bool:
        """Whether a blocklist of ``direction`` has the spacing fold (streams hold more)."""
        plan = self._plans[Direction(direction)]
        return any(SPACED in folds for _, folds in plan.request.blocklist_folds)

    def stream_parts(self, direction: Direction | str) -> tuple[bool, bool]:
        """(checks blocklists, checks anything else) for ``direction``."""
        plan = self._plans[Direction(direction)]
        return bool(plan.request.blocklists), not plan.part("model").empty

    async def _observe(self, verdict: Verdict, text: str) -> None:
        if logger.isEnabledFor(logging.INFO):
            extra = f" text={text!r}" if self.log_text else ""
            logger.info(
                "guardrail %s %s%s by %s (backend=%s, %.2f ms)%s",
                verdict.direction.value,
                verdict.decision.value,
                " flagged" if verdict.flagged else "",
                verdict.reason or "-",
                verdict.backend,
                verdict.timings_ms.get("total", 0.0),
                extra,
            )
        if self.on_verdict is not None:
            try:
                result = self.on_verdict(verdict)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # an observer must not break the guarded app
                logger.exception("guardrail on_verdict callback failed")

    # -- sync twins ----------------------------------------------------------------------

    def check_prompt_sync(self, text: str, *, documents: Sequence[str] | None = None) -> Verdict:
        """Blocking twin of :meth:`check_prompt`, for code without an event loop."""
        return self.run_sync(self.check(text, Direction.PROMPT, documents=documents))

    def check_completion_sync(self, text: str) -> Verdict:
        """Blocking twin of :meth:`check_completion`."""
        return self.run_sync(self.check(text, Direction.COMPLETION))

    def check_sync(self, text: str, direction: Direction | str, *, documents: Sequence[str] | None = None) -> Verdict:
        return self.run_sync(self.check(text, direction, documents=documents))

    def run_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of this Guard to completion from synchronous code.

        All sync calls share one event loop on a background thread, so they are safe from
        any thread (LangChain's ``batch`` uses a pool), inside a running loop (Jupyter),
        and with backends whose connections belong to one loop (Azure).
        """
        loop = self._sync_loop()
        if threading.current_thread() is self._thread:
            coro.close()
            raise GuardrailError(
                "a sync guardrail call was made from guardrail's own loop (in an on_verdict "
                "callback?); use the async API there"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def _sync_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="guardrail-sync", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                self._finalizer = weakref.finalize(self, _stop_loop, loop, thread)
            return self._loop

    # -- lifecycle -----------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.backend.aclose()

    def close(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self.backend.aclose(), self._loop).result()
            self._finalizer()
            self._loop = None
        else:
            self.backend.close()

    async def __aenter__(self) -> Guard:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def _language_finding_for(text: str, policy: DirectionPolicy, backend: Backend,
                          findings: list[Finding]) -> str | None:
    """The text's language; a LANGUAGE finding joins ``findings`` when harm scores in it
    are not trusted (the policy's ``languages``, else the backend's)."""
    found = _language.detect(text)
    if found is None:
        return None
    trusted = policy.languages if policy.languages is not None else backend.harm_languages
    if trusted is not None and found.code not in trusted:
        findings.append(Finding(kind=FindingKind.LANGUAGE, name=found.code, score=found.confidence, detected=True))
    return found.code


def _keep_hits(findings: list[Finding]) -> list[Finding]:
    # Harm analyses report every category; severity 0 is not a hit.
    return [f for f in findings if f.severity != 0 and f.detected]

