"""Azure AI Content Safety over REST (httpx)."""

from ._config import ApiVersions, RetryPolicy
from .backend import AzureBackend

__all__ = ["ApiVersions", "AzureBackend", "RetryPolicy"]
