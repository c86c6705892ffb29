"""Results: harm categories, severity scales, findings and verdicts."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Decision",
    "Direction",
    "Finding",
    "FindingKind",
    "HarmCategory",
    "OutputType",
    "Span",
    "Verdict",
    "to_four_levels",
]


class HarmCategory(str, Enum):
    """The four harm categories of Azure AI Content Safety's text:analyze."""

    HATE = "Hate"
    SELF_HARM = "SelfHarm"
    SEXUAL = "Sexual"
    VIOLENCE = "Violence"


class OutputType(str, Enum):
    """Severity scale: 0-7, or the service's default 0/2/4/6."""

    FOUR_SEVERITY_LEVELS = "FourSeverityLevels"
    EIGHT_SEVERITY_LEVELS = "EightSeverityLevels"


def to_four_levels(severity: int) -> int:
    """Map an EightSeverityLevels value (0-7) onto FourSeverityLevels (0, 2, 4, 6).

    The service pairs the levels: 0-1 -> 0, 2-3 -> 2, 4-5 -> 4, 6-7 -> 6.
    """
    if not 0 <= severity <= 7:
        raise ValueError(f"severity must be 0..7, got {severity}")
    return severity - severity % 2


class FindingKind(str, Enum):
    HARM = "harm"
    BLOCKLIST = "blocklist"
    INCIDENT = "incident"
    CUSTOM_CATEGORY = "custom_category"
    PROMPT_ATTACK = "prompt_attack"
    LANGUAGE = "language"
    """The text's language is not one the harm check is trusted in (``name``: its code)."""


class Direction(str, Enum):
    PROMPT = "prompt"
    COMPLETION = "completion"


class Decision(str, Enum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    REDACTED = "redacted"


class Span(BaseModel):
    """A half-open character range ``[start, end)`` into the ORIGINAL checked text."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before its start {self.start}")
        return self

    @property
    def length(self) -> int:
        return self.end - self.start


class Finding(BaseModel):
    """One hit of one analysis.

    ``severity`` is set for harm (on the requested scale), ``score`` for incidents and
    custom categories (0..1) and for harm as the raw model score where there is one.
    ``item_id``/``item_text`` name the blocklist item or the nearest incident sample.
    """

    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    name: str
    severity: int | None = None
    score: float | None = None
    span: Span | None = None
    item_id: str | None = None
    item_text: str | None = None
    version: int | None = None
    detected: bool = True
    document: int | None = None
    """Prompt attacks: the index of the document the attack is in (None: the user prompt);
    ``span`` then points into that document."""

    def describe(self) -> str:
        """A short human label, e.g. ``harm:Violence=6`` or ``blocklist:slurs[12:16]``."""
        label = f"{self.kind.value}:{self.name}"
        if self.document is not None:
            label += f"#{self.document}"
        if self.severity is not None:
            label += f"={self.severity}"
        elif self.score is not None:
            label += f"={self.score:.2f}"
        if self.span is not None:
            label += f"[{self.span.start}:{self.span.end}]"
        return label


class Verdict(BaseModel):
    """What the Guard decided about one text.

    ``text`` is what to deliver: the original when allowed, the masked text when
    redacted, the policy's refusal when blocked. ``triggered`` holds the findings that
    drove the decision (block, redact or flag); ``findings`` holds every hit reported.
    """

    model_config = ConfigDict(frozen=True)

    direction: Direction
    decision: Decision
    text: str
    findings: tuple[Finding, ...] = ()
    triggered: tuple[Finding, ...] = ()
    flagged: bool = False
    reason: str | None = None
    backend: str = ""
    timings_ms: dict[str, float] = Field(default_factory=dict)
    errors: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    store_version: int | None = None
    """The store change counter the blocklists, incidents and categories used reflect
    (PostgreSQL store): replicas that report the same number enforced the same state."""
    stale: str | None = None
    """Set when the store was unreachable: the check ran on the resources last loaded."""
    language: str | None = None
    """The text's language (ISO 639-1) when harm was checked and it could be told."""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def blocked(self) -> bool:
        return self.decision is Decision.BLOCKED

    @property
    def redacted(self) -> bool:
        return self.decision is Decision.REDACTED

    def __repr__(self) -> str:
        hits = ", ".join(f.describe() for f in self.triggered)
        extra = " flagged" if self.flagged else ""
        return f"<Verdict {self.direction.value} {self.decision.value}{extra} [{hits}]>"

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
