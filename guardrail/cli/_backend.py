"""Which backend a CLI command talks to, and a sync face for Azure's async resources."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
from typing import Any

from .._exceptions import ConfigurationError
from ..backends._base import Backend

BACKEND_ENV = "GUARDRAIL_BACKEND"


def backend_name(args: argparse.Namespace) -> str:
    name = getattr(args, "backend", None) or os.environ.get(BACKEND_ENV) or "local"
    if name not in ("local", "azure"):
        raise ConfigurationError(f"unknown backend {name!r}; use local or azure")
    return name


class Session:
    """Opens the chosen backend for one CLI command and runs its calls synchronously.

    Azure's clients are async and bound to one event loop, so every call of a command
    runs on the same private loop.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.name = backend_name(args)
        self.backend: Backend
        if self.name == "azure":
            from ..backends.azure import AzureBackend

            self.backend = AzureBackend()
        else:
            from ..backends.local import LocalEngine

            self.backend = LocalEngine(args.store)
        self.loop = asyncio.new_event_loop()  # after the backend: a config error leaks nothing

    def resource(self, attr: str) -> Any:
        target = getattr(self.backend, attr)
        return _Sync(target, self.loop)

    def run(self, value: Any) -> Any:
        return self.loop.run_until_complete(value) if inspect.isawaitable(value) else value

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.run_until_complete(self.backend.aclose())
        self.loop.close()


class _Sync:
    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            value = attr(*args, **kwargs)
            return self._loop.run_until_complete(value) if inspect.isawaitable(value) else value

        return call
