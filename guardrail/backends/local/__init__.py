"""The embedded local engine: offline, no account, state in a SQLite store."""

from .blocklists import Blocklists
from .engine import LocalEngine

__all__ = ["Blocklists", "LocalEngine"]
