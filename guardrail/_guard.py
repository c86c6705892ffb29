"""Guard: checks prompts and completions against a policy through one backend."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Union

from ._decision import decide
from ._exceptions import (
    EmptyTextError,
    GuardrailError,
    TextTooLongError,
    UnsupportedInputError,
)
from ._models import Decision, Direction, Finding, HarmCategory, OutputType, Verdict
from ._policy import DirectionPolicy, Policy, PolicyTypes
from ._store import Store
from ._telemetry import span
from .backends._base import Analysis, Backend, CategoryRef, IncidentRef

__all__ = ["DEFAULT_MAX_TEXT_LENGTH", "Guard", "OnVerdict"]

logger = logging.getLogger("guardrail")

DEFAULT_MAX_TEXT_LENGTH = 100_000
OnVerdict = Callable[[Verdict], Union[None, Awaitable[None]]]


@dataclass(frozen=True)
class _Plan:
    """What one direction needs from the backend, worked out once per Guard."""

    policy: DirectionPolicy
    harm: tuple[HarmCategory, ...]
    blocklists: tuple[str, ...]
    incidents: tuple[IncidentRef, ...]
    categories: tuple[CategoryRef, ...]
    skipped: tuple[str, ...]


def _make_plan(policy: DirectionPolicy, backend: Backend) -> _Plan:
    wanted = {
        Analysis.HARM: bool(policy.harm),
        Analysis.BLOCKLIST: bool(policy.blocklists),
        Analysis.INCIDENT: bool(policy.incidents),
        Analysis.CUSTOM_CATEGORY: bool(policy.custom_categories),
    }
    able = {a: w and backend.supports(a) for a, w in wanted.items()}
    skipped = tuple(
        f"{a}: not supported by the {backend.name} backend"
        for a, w in wanted.items()
        if w and not able[a]
    )
    return _Plan(
        policy=policy,
        harm=policy.harm_categories if able[Analysis.HARM] else (),
        blocklists=tuple(r.name for r in policy.blocklists) if able[Analysis.BLOCKLIST] else (),
        incidents=tuple(IncidentRef(r.name, r.threshold) for r in policy.incidents)
        if able[Analysis.INCIDENT]
        else (),
        categories=tuple(CategoryRef(r.name, r.version) for r in policy.custom_categories)
        if able[Analysis.CUSTOM_CATEGORY]
        else (),
        skipped=skipped,
    )


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


if sys.version_info >= (3, 11):

    async def _with_timeout(aw: Awaitable[Any], seconds: float) -> Any:
        async with asyncio.timeout(seconds):
            return await aw

else:  # pragma: no cover

    async def _with_timeout(aw: Awaitable[Any], seconds: float) -> Any:
        return await asyncio.wait_for(aw, seconds)


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
    * **store** - *(optional)* store path or :class:`Store` for the default local engine.
    * **on_verdict** - *(optional)* called with every verdict (sync or async callable).
    * **log_text** - *(optional)* include the checked text in log records (off by default).
    * **max_text_length** - *(optional)* longest text accepted, in characters.
    """

    def __init__(
        self,
        policy: PolicyTypes | None = None,
        *,
        backend: Backend | None = None,
        store: Store | str | Path | None = None,
        on_verdict: OnVerdict | None = None,
        log_text: bool = False,
        max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
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
        if max_text_length < 1:
            raise GuardrailError("max_text_length must be at least 1")
        self.max_text_length = max_text_length
        self._plans = {
            Direction.PROMPT: _make_plan(self.policy.prompt, backend),
            Direction.COMPLETION: _make_plan(self.policy.completion, backend),
        }
        for direction, plan in self._plans.items():
            for note in plan.skipped:
                logger.warning("guardrail %s policy: %s", direction.value, note)
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"<Guard backend={self.backend.name!r}>"

    # -- async API -----------------------------------------------------------------------

    async def check_prompt(self, text: str) -> Verdict:
        """Check a user prompt before the model sees it."""
        return await self.check(text, Direction.PROMPT)

    async def check_completion(self, text: str) -> Verdict:
        """Check a model completion before the user sees it."""
        return await self.check(text, Direction.COMPLETION)

    async def check(self, text: str, direction: Direction | str) -> Verdict:
        direction = Direction(direction)
        check_text(text, self.max_text_length)
        plan = self._plans[direction]
        started = time.perf_counter()
        with span("guardrail.check", {"guardrail.direction": direction.value}) as otel:
            findings, errors, timings = await self._analyze(text, plan)
            timings["total"] = (time.perf_counter() - started) * 1000.0
            verdict = decide(
                plan.policy,
                direction,
                text,
                findings,
                errors=errors,
                skipped=plan.skipped,
                backend=self.backend.name,
                timings_ms=timings,
            )
            if otel is not None and hasattr(otel, "set_attribute"):
                otel.set_attribute("guardrail.decision", verdict.decision.value)
                otel.set_attribute("guardrail.backend", verdict.backend)
                otel.set_attribute("guardrail.flagged", verdict.flagged)
                otel.set_attribute("guardrail.findings", len(verdict.findings))
        await self._observe(verdict, text)
        return verdict

    async def _analyze(
        self, text: str, plan: _Plan
    ) -> tuple[list[Finding], list[str], dict[str, float]]:
        jobs: list[tuple[str, Callable[[], Coroutine[Any, Any, list[Finding]]]]] = []
        b = self.backend
        if plan.harm:
            # Always ask for the fine scale; decide() compares thresholds on 0-7.
            jobs.append(
                ("harm", lambda: b.analyze_harm(text, plan.harm, OutputType.EIGHT_SEVERITY_LEVELS))
            )
        if plan.blocklists:
            jobs.append(("blocklist", lambda: b.match_blocklists(text, plan.blocklists)))
        if plan.incidents:
            jobs.append(("incident", lambda: b.detect_incidents(text, plan.incidents)))
        if plan.categories:
            jobs.append(
                ("custom_category", lambda: b.analyze_custom_categories(text, plan.categories))
            )
        findings: list[Finding] = []
        errors: list[str] = []
        timings: dict[str, float] = {}
        if not jobs:
            return findings, errors, timings
        timeout = plan.policy.timeout

        async def timed(label: str, make: Callable[[], Coroutine[Any, Any, list[Finding]]]) -> list[Finding]:
            t = time.perf_counter()
            try:
                return await make()
            finally:
                timings[label] = (time.perf_counter() - t) * 1000.0

        if len(jobs) == 1:
            label, make = jobs[0]
            try:
                findings.extend(await _with_timeout(timed(label, make), timeout))
            except (asyncio.TimeoutError, TimeoutError):
                errors.append(f"{label}: timed out after {timeout:g}s")
            except Exception as exc:  # a backend failure becomes the fail mode's verdict
                errors.append(f"{label}: {_describe(exc)}")
            return _keep_hits(findings), errors, timings

        tasks = {asyncio.ensure_future(timed(label, make)): label for label, make in jobs}
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
            errors.append(f"{tasks[task]}: timed out after {timeout:g}s")
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for task in tasks:  # keep the plan's order
            if task in done:
                exc = task.exception()
                if exc is None:
                    findings.extend(task.result())
                else:
                    errors.append(f"{tasks[task]}: {_describe(exc)}")
        return _keep_hits(findings), errors, timings

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

    def check_prompt_sync(self, text: str) -> Verdict:
        """Blocking twin of :meth:`check_prompt`, for code without an event loop."""
        return self._run_sync(self.check(text, Direction.PROMPT))

    def check_completion_sync(self, text: str) -> Verdict:
        """Blocking twin of :meth:`check_completion`."""
        return self._run_sync(self.check(text, Direction.COMPLETION))

    def check_sync(self, text: str, direction: Direction | str) -> Verdict:
        return self._run_sync(self.check(text, direction))

    def _run_sync(self, coro: Coroutine[Any, Any, Verdict]) -> Verdict:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise GuardrailError(
                "a sync check was called inside a running event loop; "
                "use `await guard.check_prompt(...)` there instead"
            )
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    # -- lifecycle -----------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.backend.aclose()

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self.backend.aclose())
            self._loop.close()
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


def _keep_hits(findings: list[Finding]) -> list[Finding]:
    # Harm analyses report every category; severity 0 is not a hit.
    return [f for f in findings if f.severity != 0 and f.detected]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
