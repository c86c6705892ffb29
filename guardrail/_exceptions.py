"""Every error guardrail raises, rooted at one class callers can catch.

    GuardrailError
    ├── InvalidInputError          bad text or arguments from the caller (also ValueError)
    │   ├── EmptyTextError
    │   ├── TextTooLongError
    │   └── UnsupportedInputError  a type guardrail cannot check (also TypeError)
    ├── PolicyError                an invalid policy; the message names the field
    ├── ResourceError              blocklists, incidents, categories
    │   ├── NotFoundError          an unknown name or id (also LookupError)
    │   ├── ConflictError          a duplicate, or a resource in the wrong state
    │   └── LimitExceededError     over one of the service's limits
    ├── StoreError                 the SQLite store is unusable (not ours, newer schema, ...)
    ├── BackendError               a backend failed to answer
    │   └── BackendTimeoutError
    ├── ConfigurationError         missing endpoint, key, extra, ...
    └── ContentBlockedError        raised by adapters when asked to; carries the Verdict
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Verdict

__all__ = [
    "BackendError",
    "BackendTimeoutError",
    "ConfigurationError",
    "ConflictError",
    "ContentBlockedError",
    "EmptyTextError",
    "GuardrailError",
    "InvalidInputError",
    "LimitExceededError",
    "NotFoundError",
    "PolicyError",
    "ResourceError",
    "StoreError",
    "TextTooLongError",
    "UnsupportedInputError",
]


class GuardrailError(Exception):
    """Base class of every error guardrail raises.

    Errors from a service carry its error ``code`` and the HTTP ``status_code``.
    """

    def __init__(
        self, message: str = "", *, code: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = status_code
        # A service error's other fields, as it sent them (target, details, innererror).
        self.target: str | None = None
        self.details: list[object] = []
        self.innererror: object = None


class InvalidInputError(GuardrailError, ValueError):
    """The caller passed text or arguments guardrail cannot use."""


class EmptyTextError(InvalidInputError):
    """The text to check or store is empty."""


class TextTooLongError(InvalidInputError):
    """The text is longer than the configured limit."""


class UnsupportedInputError(InvalidInputError, TypeError):
    """The input is of a type guardrail does not know how to check."""


class PolicyError(GuardrailError, ValueError):
    """The policy is invalid. The message names each offending field."""


class ResourceError(GuardrailError):
    """A blocklist, incident or custom-category operation was refused."""


class NotFoundError(ResourceError, LookupError):
    """No resource (blocklist, item, incident, sample, category, version) has that name or id."""


class ConflictError(ResourceError):
    """The request repeats itself or the resource is in a state that forbids it."""


class LimitExceededError(ResourceError):
    """The request goes over one of the service's limits (name length, item count, ...)."""


class StoreError(GuardrailError):
    """The local store cannot be used: not a guardrail store, a newer schema, unreadable."""


class BackendError(GuardrailError):
    """A backend failed to answer.

    Carries the backend's name and, for the Azure service, its error code and HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, code=code, status_code=status_code)
        self.backend = backend


class BackendTimeoutError(BackendError):
    """The backend did not answer within the policy's timeout."""


class ConfigurationError(GuardrailError):
    """guardrail is missing a setting, an endpoint, a key or an optional extra."""


class ContentBlockedError(GuardrailError):
    """Raised by adapters configured to raise on a block. ``.verdict`` says why."""

    def __init__(self, verdict: Verdict, message: str | None = None) -> None:
        self.verdict = verdict
        super().__init__(message or _describe_block(verdict))


def _describe_block(verdict: Any) -> str:
    reasons = ", ".join(f"{f.kind.value}:{f.name}" for f in verdict.triggered) or (
        verdict.reason or "policy"
    )
    return f"{verdict.direction.value} blocked by {reasons}"
