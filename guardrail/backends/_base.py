"""The one interface every backend implements.

The Guard asks a backend only for the analyses the policy needs, concurrently; a
backend that cannot do one lists it as unsupported and the Guard reports it as
skipped in the verdict rather than pretending it ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .._models import Finding, HarmCategory, OutputType

__all__ = ["Analysis", "Backend", "CategoryRef", "IncidentRef"]


class Analysis:
    HARM = "harm"
    BLOCKLIST = "blocklist"
    INCIDENT = "incident"
    CUSTOM_CATEGORY = "custom_category"
    ALL = frozenset({HARM, BLOCKLIST, INCIDENT, CUSTOM_CATEGORY})


@dataclass(frozen=True)
class IncidentRef:
    name: str
    threshold: float | None = None


@dataclass(frozen=True)
class CategoryRef:
    name: str
    version: int | None = None


class Backend:
    """Base class of backends. Subclasses override the analyses they support.

    Each method returns only hits (findings); an empty list means nothing found.
    Failures raise :class:`guardrail.BackendError`.
    """

    name = "base"

    def supports(self, analysis: str) -> bool:
        return False

    async def analyze_harm(
        self, text: str, categories: Sequence[HarmCategory], output_type: OutputType
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not analyze harm")

    async def match_blocklists(self, text: str, names: Sequence[str]) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not match blocklists")

    async def detect_incidents(
        self, text: str, incidents: Sequence[IncidentRef]
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not detect incidents")

    async def analyze_custom_categories(
        self, text: str, categories: Sequence[CategoryRef]
    ) -> list[Finding]:
        raise NotImplementedError(f"{type(self).__name__} does not analyze custom categories")

    async def aclose(self) -> None:
        """Release connections and sessions."""

    def close(self) -> None:
        """Release what can be released without an event loop."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
