"""Streaming output filter: deliver only text the policy has passed.

Text is held back until a release point: the end of a sentence (or a line), or, when a
sentence runs long, the last space before a cap. The part to release is checked together
with the tail of what was already delivered (so harm and incident checks see context),
and it is released masked when the policy redacts. Whatever is held back always keeps
at least ``margin`` characters, the longest span a blocklist hit can have, so a term
split across chunks is never half delivered. When the policy blocks, the stream stops
and the refusal is emitted instead.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from ._models import Decision, Direction, Finding, Span, Verdict

if TYPE_CHECKING:
    from ._guard import Guard

__all__ = ["StreamFilter"]

# A sentence end (., !, ?, CJK full stops, ellipsis, with closing quotes) before a space,
# or any newline.
_RELEASE = re.compile(r"[.!?。！？…]+[\"'”’)\]]*\s+|\n+")


class StreamFilter:
    """Feed chunks with :meth:`push`; deliver what it returns; then call :meth:`close`.

    **Parameters:**

    * **guard** - the :class:`Guard` whose policy applies.
    * **direction** - ``completion`` (default) or ``prompt``.
    * **max_hold** - *(optional)* characters held at most before releasing at a space
      even without a sentence end (default 200); bounds the added delay.
    * **margin** - *(optional)* characters always held back; default: the backend's
      :meth:`stream_margin` for the policy's blocklists.
    * **context** - *(optional)* characters of delivered text checked with each release.
    """

    def __init__(
        self,
        guard: Guard,
        direction: Direction = Direction.COMPLETION,
        *,
        max_hold: int = 200,
        margin: int | None = None,
        context: int = 400,
    ) -> None:
        self.guard = guard
        self.direction = direction
        self.margin = guard.stream_margin(direction) if margin is None else margin
        self.max_hold = max(max_hold, self.margin + 1)
        self.context = context
        self.policy = guard.policy_for(direction)
        self._pending = ""
        self._delivered: list[str] = []
        self._delivered_len = 0
        self._tail = ""
        self._findings: list[Finding] = []
        self._errors: list[str] = []
        self._skipped: tuple[str, ...] = ()
        self._flagged = False
        self._redacted = False
        self._check_ms: list[float] = []
        self.blocked_verdict: Verdict | None = None
        self._closed = False

    @property
    def blocked(self) -> bool:
        return self.blocked_verdict is not None

    async def push(self, chunk: str) -> str:
        """Add a chunk; return the text that may be delivered now (often ``""``).

        After a block it returns the refusal once, then ``""``.
        """
        if not isinstance(chunk, str):
            from ._exceptions import UnsupportedInputError

            raise UnsupportedInputError(f"stream chunks must be str, got {type(chunk).__name__}")
        if self.blocked or self._closed:
            return ""
        self._pending += chunk
        cut = self._release_point()
        return await self._release(cut) if cut else ""

    async def close(self) -> str:
        """End of stream: check and return whatever is still held back."""
        if self._closed:
            return ""
        self._closed = True
        out = ""
        if not self.blocked and self._pending:
            out = await self._release(len(self._pending))
        await self.guard._observe(self.verdict, "".join(self._delivered))
        return out

    def _release_point(self) -> int:
        limit = len(self._pending) - self.margin
        if limit <= 0:
            return 0
        cut = 0
        for m in _RELEASE.finditer(self._pending, 0, limit):
            cut = m.end()
        if cut == 0 and len(self._pending) >= self.max_hold:
            space = self._pending.rfind(" ", 0, limit)
            cut = space + 1 if space > 0 else limit
        return cut

    async def _release(self, cut: int) -> str:
        segment = self._pending[:cut]
        prefix = self._tail
        started = time.perf_counter()
        verdict = await self.guard._evaluate(prefix + segment, self.direction)
        self._check_ms.append((time.perf_counter() - started) * 1000.0)
        self._errors.extend(e for e in verdict.errors if e not in self._errors)
        self._skipped = verdict.skipped
        self._flagged = self._flagged or verdict.flagged
        base = self._delivered_len - len(prefix)
        for f in verdict.findings:
            if f.span is None or f.span.end > len(prefix):  # hits in the prefix were recorded
                self._findings.append(_shift(f, base))
        if verdict.blocked:
            self.blocked_verdict = verdict
            self._pending = ""
            return self.policy.refusal
        released = verdict.text[len(prefix) :] if verdict.redacted else segment
        self._redacted = self._redacted or verdict.redacted
        self._pending = self._pending[cut:]
        self._delivered.append(released)
        self._delivered_len += len(released)
        self._tail = (prefix + released)[-self.context :] if self.context else ""
        return released

    @property
    def delivered(self) -> str:
        """Everything released so far (masked where redacted)."""
        return "".join(self._delivered)

    @property
    def check_ms(self) -> list[float]:
        """How long each release's check took, in milliseconds."""
        return list(self._check_ms)

    @property
    def verdict(self) -> Verdict:
        """One verdict for the whole stream, spans into the delivered text."""
        if self.blocked_verdict is not None:
            decision, text = Decision.BLOCKED, self.policy.refusal
            triggered = self.blocked_verdict.triggered
            reason = self.blocked_verdict.reason
        else:
            decision = Decision.REDACTED if self._redacted else Decision.ALLOWED
            text, triggered, reason = self.delivered, (), None
        return Verdict(
            direction=self.direction,
            decision=decision,
            text=text,
            findings=tuple(self._findings),
            triggered=triggered,
            flagged=self._flagged,
            reason=reason,
            backend=self.guard.backend.name,
            timings_ms={"checks": float(len(self._check_ms)), "total": sum(self._check_ms)},
            errors=tuple(self._errors),
            skipped=self._skipped,
        )


def _shift(finding: Finding, by: int) -> Finding:
    if finding.span is None or by == 0:
        return finding
    span = Span(start=max(0, finding.span.start + by), end=max(0, finding.span.end + by))
    return finding.model_copy(update={"span": span})


