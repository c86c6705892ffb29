"""The app as uvicorn's workers build it: store and key from the environment."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from ._app import create_app


def app() -> Starlette:
    return create_app(key=os.environ.get("GUARDRAIL_SERVER_KEY") or None)
