"""Settings of the Azure backend: endpoint, credentials, api-versions, retries."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Awaitable, Callable, Union

from ..._exceptions import ConfigurationError

__all__ = ["ApiVersions", "RetryPolicy", "Secret", "TokenProvider", "resolve_endpoint", "resolve_key"]

ENDPOINT_ENV = "AZURE_CONTENT_SAFETY_ENDPOINT"
KEY_ENV = "AZURE_CONTENT_SAFETY_KEY"
TokenProvider = Callable[[], Union[str, Awaitable[str]]]


@dataclass(frozen=True)
class ApiVersions:
    """api-version per operation family; the defaults are the seeds' versions.

    ``analyze_text="2023-04-30-preview"`` switches text:analyze to the older request and
    response shape (breakByBlocklists; hateResult ... violenceResult).
    """

    analyze_text: str = "2024-09-01"
    analyze_image: str = "2024-09-01"
    blocklists: str = "2024-09-01"
    incidents: str = "2024-04-15-preview"
    analyze_with_incidents: str = "2023-10-30-preview"  # the one preview whose text:analyze takes incidents
    categories: str = "2024-05-15-preview"
    shield_prompt: str = "2024-09-01"


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429, 5xx, timeouts and connection errors; never on other 4xx."""

    max_retries: int = 3
    backoff: float = 0.5
    """First delay in seconds; doubles each retry, with full jitter."""
    max_backoff: float = 8.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})


class Secret:
    """Holds a key without ever showing it in a repr, str or traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def resolve_endpoint(endpoint: str | None) -> str:
    value = endpoint or os.environ.get(ENDPOINT_ENV)
    if not value:
        raise ConfigurationError(
            f"no Azure Content Safety endpoint: pass endpoint= or set {ENDPOINT_ENV} "
            "(e.g. https://<resource>.cognitiveservices.azure.com)"
        )
    value = value.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError(f"the endpoint must start with https:// (got {value[:40]!r})")
    return value


def resolve_key(key: str | None, token_provider: TokenProvider | None) -> Secret | None:
    if key is not None and token_provider is not None:
        raise ConfigurationError("give either key= or token_provider=, not both")
    if token_provider is not None:
        return None
    value = key or os.environ.get(KEY_ENV)
    if not value:
        raise ConfigurationError(
            f"no Azure Content Safety credential: pass key=, set {KEY_ENV}, or pass "
            "token_provider= (Microsoft Entra ID; see AzureBackend.from_credential)"
        )
    return Secret(value.strip())
