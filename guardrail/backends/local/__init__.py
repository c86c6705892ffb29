"""The embedded local engine: offline, no account, state in a SQLite store."""

from .blocklists import Blocklists
from .engine import LocalEngine
from .harm import HarmAnalyzer, HarmScore

__all__ = ["Blocklists", "HarmAnalyzer", "HarmScore", "LocalEngine"]
