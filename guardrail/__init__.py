"""guardrail: content-safety guardrails for LLM apps."""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any
import importlib as _importlib
import sys as _sys

__version__ = "0.1.0"

# Every public name loads with its module when first named, not on `import guardrail`:
# pydantic (the models and the policy) costs ~250 ms, numpy and ONNX Runtime (the local
# engine) more, and a CLI's --help or an app's start-up should not pay for what it never uses.
_MODULES: dict[str, tuple[str, ...]] = {
    "._policy": ("Action", "BlocklistRule", "CategoryRule", "DirectionPolicy", "FailMode", "HarmRule", "IncidentRule", "Policy"),
    ".backends._base": ("Backend",),
    "._exceptions": ("BackendError", "BackendTimeoutError", "ConfigurationError", "ConflictError", "ContentBlockedError", "EmptyTextError", "GuardrailError", "InvalidInputError", "LimitExceededError", "NotFoundError", "PolicyError", "ResourceError", "StoreError", "TextTooLongError", "UnsupportedInputError"),
    "._store": ("BaseStore", "Store", "StoreStatus", "default_store_path", "open_store"),
    "._models": ("Decision", "Direction", "Finding", "FindingKind", "HarmCategory", "OutputType", "Span", "Verdict", "to_four_levels"),
    "._guard": ("Guard",),
    ".backends.local": ("LocalEngine",),
    "._streaming": ("StreamFilter",),
    "._resources": ("TextBlocklist", "TextBlocklistItem", "TextBlocklistItemInput"),
    "._decision": ("mask_spans",),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}

from . import _exceptions  # noqa: E402,F401

if _TYPE_CHECKING:
    from ._policy import Action, BlocklistRule, CategoryRule, DirectionPolicy, FailMode, HarmRule, IncidentRule, Policy
    from .backends._base import Backend
    from ._exceptions import BackendError, BackendTimeoutError, ConfigurationError, ConflictError, ContentBlockedError, EmptyTextError, GuardrailError, InvalidInputError, LimitExceededError, NotFoundError, PolicyError, ResourceError, StoreError, TextTooLongError, UnsupportedInputError
    from ._store import BaseStore, Store, StoreStatus, default_store_path, open_store
    from ._models import Decision, Direction, Finding, FindingKind, HarmCategory, OutputType, Span, Verdict, to_four_levels
    from ._guard import Guard
    from .backends.local import LocalEngine
    from ._streaming import StreamFilter
    from ._resources import TextBlocklist, TextBlocklistItem, TextBlocklistItemInput
    from ._decision import mask_spans


def __getattr__(name: str) -> _Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    _bind(name, value)
    _bind_loaded()
    return value


def _bind(name: str, value: _Any) -> None:
    globals()[name] = value
    _rehome(value)


def _bind_loaded() -> None:
    # Bind the names of every module loaded so far, not only the one asked for, so a
    # Verdict reads guardrail.Verdict however its module came to be imported. Only what
    # a module has defined: a lazy package (backends.local) stays lazy.
    for module, names in _MODULES.items():
        loaded = _sys.modules.get(__name__ + module)
        if loaded is None:
            continue
        for name in names:
            if name not in globals() and name in vars(loaded):
                _bind(name, vars(loaded)[name])


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


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


_bind_loaded()  # the exceptions: cheap, and tracebacks should name guardrail.PolicyError
