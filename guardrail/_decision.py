"""Pure decision logic: findings + policy -> verdict. No I/O, shared by every path."""

from __future__ import annotations

from typing import Iterable, Sequence

from ._models import (
    Decision,
    Direction,
    Finding,
    FindingKind,
    OutputType,
    Verdict,
    to_four_levels,
)
from ._policy import Action, DirectionPolicy, FailMode

__all__ = ["action_for", "decide", "mask_spans"]


def mask_spans(text: str, spans: Iterable[tuple[int, int]], char: str = "*") -> str:
    """Replace every character inside the (possibly overlapping) spans with ``char``.

    Whitespace inside a span is kept so the text keeps its shape; every other
    character of the span is masked.
    """
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if not merged:
        return text
    parts: list[str] = []
    pos = 0
    for start, end in merged:
        parts.append(text[pos:start])
        parts.append("".join(c if c.isspace() else char for c in text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


_UNSUPPORTED = {"flag": Action.FLAG, "block": Action.BLOCK, "allow": None}


def action_for(policy: DirectionPolicy, finding: Finding, language: str | None = None) -> Action | None:
    """The rule's action when ``finding`` crosses it (harm: at the threshold for the text's
    ``language``), else None."""
    if finding.kind is FindingKind.HARM:
        for category, rule in policy.harm.items():
            if category.value == finding.name:
                if (finding.severity or 0) >= rule.threshold_for(language):
                    return rule.action
                return None
        return None
    if finding.kind is FindingKind.LANGUAGE:
        return _UNSUPPORTED[policy.unsupported_language]
    if finding.kind is FindingKind.PROMPT_ATTACK:
        rule = policy.prompt_shield
        if rule is None or not finding.detected or (finding.document is not None and not rule.documents):
            return None
        return rule.action
    rules: Sequence = {
        FindingKind.BLOCKLIST: policy.blocklists,
        FindingKind.INCIDENT: policy.incidents,
        FindingKind.CUSTOM_CATEGORY: policy.custom_categories,
    }[finding.kind]
    for rule in rules:
        if rule.name == finding.name:
            return rule.action if finding.detected else None
    return None


def _report(finding: Finding, output_type: OutputType) -> Finding:
    if (
        finding.kind is FindingKind.HARM
        and finding.severity is not None
        and output_type is OutputType.FOUR_SEVERITY_LEVELS
    ):
        return finding.model_copy(update={"severity": to_four_levels(finding.severity)})
    return finding


def decide(
    policy: DirectionPolicy,
    direction: Direction,
    text: str,
    findings: Sequence[Finding],
    *,
    errors: Sequence[str] = (),
    skipped: Sequence[str] = (),
    backend: str = "",
    timings_ms: dict[str, float] | None = None,
    store_version: int | None = None,
    stale: str | None = None,
    language: str | None = None,
) -> Verdict:
    """Apply the policy to findings. Harm severities come in on the 0-7 scale."""
    block: list[Finding] = []
    redact: list[Finding] = []
    flag: list[Finding] = []
    for finding in findings:
        action = action_for(policy, finding, language)
        if action is Action.BLOCK:
            block.append(finding)
        elif action is Action.REDACT:
            # A hit without a span (a whole-text harm score) cannot be masked: block it.
            (redact if finding.span is not None else block).append(finding)
        elif action is Action.FLAG:
            flag.append(finding)

    out = policy.output_type
    reason: str | None = None
    failed_closed = bool(errors) and policy.fail_mode is FailMode.CLOSED
    if block or failed_closed:
        decision = Decision.BLOCKED
        delivered = policy.refusal
        triggered = block
        if block:
            reason = "; ".join(_report(f, out).describe() for f in block)
        else:
            reason = "check failed (fail mode closed): " + "; ".join(errors)
    elif redact:
        decision = Decision.REDACTED
        delivered = mask_spans(
            text,
            ((f.span.start, f.span.end) for f in redact if f.span is not None),
            policy.redaction_char,
        )
        triggered = redact
        reason = "; ".join(_report(f, out).describe() for f in redact)
    else:
        decision = Decision.ALLOWED
        delivered = text
        triggered = []
        if errors:
            reason = "check failed (fail mode open): " + "; ".join(errors)

    reported_triggered = tuple(_report(f, out) for f in (*triggered, *flag))
    return Verdict(
        direction=direction,
        decision=decision,
        text=delivered,
        findings=tuple(_report(f, out) for f in findings),
        triggered=reported_triggered,
        flagged=bool(flag) or (bool(errors) and not failed_closed),
        reason=reason,
        backend=backend,
        timings_ms=timings_ms or {},
        errors=tuple(errors),
        skipped=tuple(skipped),
        store_version=store_version,
        stale=stale,
        language=language,
    )
