"""The embedded local engine: offline, no account, state in a SQLite store.

Its names load on first use, so ``import guardrail`` does not pull in numpy or ONNX Runtime
before a check needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .blocklists import Blocklists
    from .engine import LocalEngine
    from .harm import HarmAnalyzer, HarmScore

__all__ = ["Blocklists", "HarmAnalyzer", "HarmScore", "LocalEngine"]

_WHERE = {"Blocklists": ".blocklists", "LocalEngine": ".engine", "HarmAnalyzer": ".harm", "HarmScore": ".harm"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
