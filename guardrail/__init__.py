"""guardrail: content-safety guardrails for LLM apps."""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._decision import mask_spans
from ._exceptions import (
    BackendError,
    BackendTimeoutError,
    ConfigurationError,
    ConflictError,
    ContentBlockedError,
    EmptyTextError,
    GuardrailError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    PolicyError,
    ResourceError,
    StoreError,
    TextTooLongError,
    UnsupportedInputError,
)
from ._guard import Guard
from ._models import (
    Decision,
    Direction,
    Finding,
    FindingKind,
    HarmCategory,
    OutputType,
    Span,
    Verdict,
    to_four_levels,
)
from ._policy import (
    Action,
    BlocklistRule,
    CategoryRule,
    DirectionPolicy,
    FailMode,
    HarmRule,
    IncidentRule,
    Policy,
)
from ._resources import TextBlocklist, TextBlocklistItem, TextBlocklistItemInput
from ._store import BaseStore, Store, StoreStatus, default_store_path, open_store
from ._streaming import StreamFilter
from .backends._base import Backend

__version__ = "0.1.0"

if _TYPE_CHECKING:
    from .backends.local import LocalEngine


def __getattr__(name: str) -> _Any:
    # The local engine (numpy, ONNX Runtime) loads when first named, not on import.
    if name == "LocalEngine":
        from .backends.local import LocalEngine

        _rehome(LocalEngine)
        globals()[name] = LocalEngine
        return LocalEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "LocalEngine"})

__all__ = [
    "Action",
    "Backend",
    "BackendError",
    "BackendTimeoutError",
    "BaseStore",
    "BlocklistRule",
    "CategoryRule",
    "ConfigurationError",
    "ConflictError",
    "ContentBlockedError",
    "Decision",
    "Direction",
    "DirectionPolicy",
    "EmptyTextError",
    "FailMode",
    "Finding",
    "FindingKind",
    "Guard",
    "GuardrailError",
    "HarmCategory",
    "HarmRule",
    "IncidentRule",
    "InvalidInputError",
    "LimitExceededError",
    "LocalEngine",
    "NotFoundError",
    "OutputType",
    "Policy",
    "PolicyError",
    "ResourceError",
    "Span",
    "Store",
    "StoreError",
    "StoreStatus",
    "StreamFilter",
    "TextBlocklist",
    "TextBlocklistItem",
    "TextBlocklistItemInput",
    "TextTooLongError",
    "UnsupportedInputError",
    "Verdict",
    "default_store_path",
    "mask_spans",
    "open_store",
    "to_four_levels",
]


def _rehome(obj: _Any) -> None:
    # Show guardrail.X, not guardrail._module.X, in reprs and tracebacks.
    if getattr(obj, "__module__", "").startswith("guardrail."):
        try:
            obj.__module__ = "guardrail"
        except (AttributeError, TypeError):  # pragma: no cover
            pass


for _name in __all__:
    _rehome(globals().get(_name))  # LocalEngine is rehomed when first loaded
del _name
