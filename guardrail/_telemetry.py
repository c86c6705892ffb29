"""Observability hooks: OpenTelemetry spans when ``opentelemetry-api`` is installed."""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager

try:
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _trace = None

__all__ = ["span"]


def span(name: str, attributes: dict[str, Any] | None = None) -> ContextManager[Any]:
    """A current span named ``name``, or a no-op when OpenTelemetry is not installed."""
    if _trace is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _trace.get_tracer("guardrail").start_as_current_span(name, attributes=attributes)
