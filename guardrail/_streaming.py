"""Streaming output filter: deliver only text the policy has passed.

**The release rule.** A character is released only when every blocklist hit that could
include it is decided. Each push checks the held text *together with* a tail of what was
already delivered, and

* keeps at least ``margin + 1`` characters held, counted in the *folded* text the matcher
  sees (whitespace runs count once, invisible characters and width forms as the matcher
  folds them), where ``margin`` is the longest folded hit the policy's lists can produce:
  a hit that could still grow into the future would need more folded characters than any
  term has, so nothing before the held part can belong to an undecided hit;
* never cuts inside a hit, and holds from the start of any hit whose end is not yet
  decided (a word boundary still to come, a regex match still growing);
* masks every decided ``redact`` hit, including the part of a hit that runs on past the
  cut (the tail is re-read, so the rest is masked when it is released), and stops the
  stream with the refusal on a decided ``block`` hit, before any of its characters left.

So the delivered text equals what :meth:`Guard.check` delivers for the whole text
(redaction), and a blocked term never reaches the consumer. The added delay for
blocklists is ``margin + 1`` folded characters (plus a hit still growing).

**Harm, incidents and custom categories** run on segments, not per chunk: a segment
ends at a sentence end once ``segment`` characters are unchecked (the first one at the
first sentence end, so the first words are not held long), or at ``max_hold``. Each
segment is checked with ``context`` characters of the text before it, so the model reads
each character about ``(segment + context) / segment`` times rather than on every
release; text is released only after its segment passed.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from ._decision import action_for, mask_spans
from ._folds import SPACING_SEPARATORS
from ._matching import fold_with_offsets, is_ignorable, needs_boundary
from ._models import Decision, Direction, Finding, FindingKind, Span, Verdict
from ._policy import Action
from ._text import clean

if TYPE_CHECKING:
    from ._guard import Guard

__all__ = ["StreamFilter"]

# A sentence end (., !, ?, CJK full stops, ellipsis, with closing quotes) before a space,
# or any newline.
_RELEASE = re.compile(r"[.!?。！？…]+[\"'”’)\]]*\s+|\n+")
_LONGEST_WORD = 40  # a spaced-script run longer than this is released without a space


class StreamFilter:
    """Feed chunks with :meth:`push`; deliver what it returns; then call :meth:`close`.

    **Parameters:**

    * **guard** - the :class:`Guard` whose policy applies.
    * **direction** - ``completion`` (default) or ``prompt``.
    * **max_hold** - *(optional)* longest segment (characters) held for the model checks
      without a sentence end (default 480); bounds their added delay.
    * **margin** - *(optional)* folded characters of the longest blocklist hit; default:
      what the backend reports for the policy's lists (:meth:`Guard.stream_margin`).
    * **context** - *(optional)* characters before a segment re-read with it (default 160).
    * **segment** - *(optional)* unchecked characters that make a segment (default 320).
    """

    def __init__(
        self,
        guard: Guard,
        direction: Direction = Direction.COMPLETION,
        *,
        max_hold: int = 480,
        margin: int | None = None,
        context: int = 160,
        segment: int = 320,
    ) -> None:
        self.guard = guard
        self.direction = direction
        self.policy = guard.policy_for(direction)
        self._lists, self._models = guard.stream_parts(direction)
        # A list with the spacing fold hits terms typed apart: "A u r o r a" is not a hit
        # yet while " s" may still follow (it would read "Auroras").
        self._spaced = self._lists and guard.spaced_lists(direction)
        self.margin = (guard.stream_margin(direction) if margin is None else margin) if self._lists else 0
        self.max_hold = max(1, max_hold)
        self.context = max(0, context)
        self.segment = max(1, min(segment, self.max_hold))
        self._buf = ""  # everything received
        self._sent = 0  # characters of _buf delivered
        self._approved = 0  # characters of _buf the model checks passed
        self._masks: list[tuple[int, int]] = []
        self._delivered: list[str] = []
        self._findings: dict[tuple[object, ...], Finding] = {}
        self._errors: list[str] = []
        self._skipped: tuple[str, ...] = ()
        self._flagged = False
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
        self._buf += clean(chunk)  # the Guard's one rule for lone surrogates
        return await self._advance(final=False)

    async def close(self) -> str:
        """End of stream: check and return whatever is still held back."""
        if self._closed:
            return ""
        self._closed = True
        out = ""
        if not self.blocked and self._sent < len(self._buf):
            out = await self._advance(final=True)
        await self.guard._observe(self.verdict, self.delivered)
        return out

    # -- the rule ------------------------------------------------------------------------

    async def _advance(self, final: bool) -> str:
        if self._models:
            while (end := self._segment_end(final)) is not None:
                if not await self._check_segment(end):
                    return self.policy.refusal
            limit = self._approved
        else:
            limit = len(self._buf)
        cut = limit
        if self._lists and limit > self._sent:
            decided = await self._check_lists(limit, final)
            if decided is None:
                return self.policy.refusal
            cut = decided
        return self._deliver(cut)

    def _segment_end(self, final: bool) -> int | None:
        start = self._approved
        if start >= len(self._buf):
            return None
        if final:
            return len(self._buf)
        # The first segment ends at the first sentence end, later ones once `segment`
        # characters are unchecked; with no sentence end, at max_hold (a space if any).
        wanted = 1 if start == 0 else self.segment
        for m in _RELEASE.finditer(self._buf, start):
            if m.end() - start >= wanted:
                return m.end() if m.end() - start <= self.max_hold else self._hard_cut(start)
        if len(self._buf) - start >= self.max_hold:
            return self._hard_cut(start)
        return None

    def _hard_cut(self, start: int) -> int:
        limit = start + self.max_hold
        space = self._buf.rfind(" ", start + 1, limit)
        return space + 1 if space > start else limit

    async def _check_segment(self, end: int) -> bool:
        """Model checks (harm, incidents, categories) of one segment; False on a block."""
        begin = max(0, self._approved - self.context)
        verdict = await self._evaluate(self._buf[begin:end], "model")
        if verdict.blocked:
            self._block(verdict, begin)
            return False
        for f in verdict.findings:
            f = _shift(f, begin)
            self._record(f)
            if f.span is not None and action_for(self.policy, f) is Action.REDACT:
                self._masks.append((f.span.start, f.span.end))
        self._approved = end
        return True

    async def _check_lists(self, limit: int, final: bool) -> int | None:
        """The furthest safe cut for blocklists (at most ``limit``); None on a block."""
        start = self._tail_start()
        window = self._buf[start:]
        verdict = await self._evaluate(window, "blocklist")
        if verdict.errors and verdict.blocked:  # fail mode closed
            self._block(verdict, start)
            return None
        cut = limit
        if not final:
            folded, offsets = fold_with_offsets(window)
            keep = self.margin + 1
            if len(folded) <= keep:
                return self._sent
            cut = min(cut, start + offsets.span(len(folded) - keep, len(folded) - keep + 1)[0])
        for f in verdict.findings:
            if f.kind is not FindingKind.BLOCKLIST or f.span is None:
                continue
            if start > 0 and f.span.start == 0:
                continue  # no left context here; a real hit was decided in an earlier window
            s, e = f.span.start + start, f.span.end + start
            if not final and not _decided(window, f.span.end, spaced=self._spaced):
                cut = min(cut, s)
                continue
            action = action_for(self.policy, f)
            if action is Action.BLOCK:
                self._block(verdict, start)
                return None
            self._record(_shift(f, start))
            if action is Action.REDACT:
                self._masks.append((s, e))
            if s < cut < e:
                cut = s  # never cut inside a hit
        if not final and cut < len(self._buf) and needs_boundary(self._buf[cut]) and cut > 0 \
                and needs_boundary(self._buf[cut - 1]):
            # Mid-word in a spaced script: release whole words (up to a bound for long runs).
            space = max(self._buf.rfind(" ", self._sent, cut), self._buf.rfind("\n", self._sent, cut))
            if space >= self._sent:
                cut = space + 1
            elif cut - self._sent < _LONGEST_WORD:
                cut = self._sent
        return max(cut, self._sent)

    def _tail_start(self) -> int:
        # Enough delivered text that a hit ending in the held text starts inside the window.
        need = self.margin + 2
        back = 2 * need + 16
        while True:
            start = max(0, self._sent - back)
            if start == 0 or len(fold_with_offsets(self._buf[start : self._sent])[0]) >= need:
                break
            back *= 2
        while start > 0 and is_ignorable(self._buf[start]):
            start -= 1  # keep a mark or joiner with the character it belongs to
        return start

    def _deliver(self, cut: int) -> str:
        if cut <= self._sent:
            return ""
        sent = self._sent
        spans = [(max(s, sent) - sent, min(e, cut) - sent) for s, e in self._masks if s < cut and e > sent]
        piece = mask_spans(self._buf[sent:cut], spans, self.policy.redaction_char)
        self._masks = [(s, e) for s, e in self._masks if e > cut]
        self._sent = cut
        self._delivered.append(piece)
        return piece

    async def _evaluate(self, text: str, part: str) -> Verdict:
        started = time.perf_counter()
        verdict = await self.guard._evaluate(text, self.direction, part)
        self._check_ms.append((time.perf_counter() - started) * 1000.0)
        self._errors.extend(e for e in verdict.errors if e not in self._errors)
        self._skipped = verdict.skipped
        self._flagged = self._flagged or verdict.flagged
        return verdict

    def _record(self, finding: Finding) -> None:
        key = (finding.kind, finding.name, finding.span, finding.item_id)
        if key not in self._findings:
            self._findings[key] = finding
            if action_for(self.policy, finding) is Action.FLAG:
                self._flagged = True

    def _block(self, verdict: Verdict, offset: int) -> None:
        for f in verdict.findings:
            self._record(_shift(f, offset))
        self.blocked_verdict = verdict.model_copy(
            update={"triggered": tuple(_shift(f, offset) for f in verdict.triggered)}
        )

    # -- results -------------------------------------------------------------------------

    @property
    def delivered(self) -> str:
        """Everything released so far (masked where redacted)."""
        return "".join(self._delivered)

    @property
    def check_ms(self) -> list[float]:
        """How long each check took, in milliseconds."""
        return list(self._check_ms)

    @property
    def verdict(self) -> Verdict:
        """One verdict for the whole stream, spans into the streamed text."""
        redacted = any(action_for(self.policy, f) is Action.REDACT for f in self._findings.values())
        if self.blocked_verdict is not None:
            decision, text = Decision.BLOCKED, self.policy.refusal
            triggered = self.blocked_verdict.triggered
            reason = self.blocked_verdict.reason
        else:
            decision = Decision.REDACTED if redacted else Decision.ALLOWED
            text, reason = self.delivered, None
            triggered = tuple(f for f in self._findings.values() if action_for(self.policy, f) is not None)
            if triggered:
                reason = "; ".join(f.describe() for f in triggered)
        return Verdict(
            direction=self.direction,
            decision=decision,
            text=text,
            findings=tuple(self._findings.values()),
            triggered=triggered,
            flagged=self._flagged,
            reason=reason,
            backend=self.guard.backend.name,
            timings_ms={"checks": float(len(self._check_ms)), "total": sum(self._check_ms)},
            errors=tuple(self._errors),
            skipped=self._skipped,
        )


def _decided(window: str, end: int, *, spaced: bool = False) -> bool:
    """Whether a hit ending at ``end`` is final: a visible character follows it (with the
    spacing fold: one that cannot carry on a run of letters typed apart)."""
    if spaced:
        nxt = window[end : end + 3]
        if len(nxt) < 3:
            return False  # "a" + " s" could still read as "as"
        if nxt[0] in SPACING_SEPARATORS and nxt[1].isalnum() and not nxt[2].isalnum() and nxt[2] != "_":
            return False
    for ch in window[end : end + 8]:
        if not is_ignorable(ch):
            return True
    return False



def _shift(finding: Finding, by: int) -> Finding:
    if finding.span is None or by == 0:
        return finding
    span = Span(start=finding.span.start + by, end=finding.span.end + by)
    return finding.model_copy(update={"span": span})
