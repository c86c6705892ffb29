"""The app as uvicorn's workers build it: store, key and fetch hosts from the environment."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from ._app import create_app

FETCH_HOSTS_ENV = "GUARDRAIL_SERVER_FETCH_HOSTS"  # comma-separated


def app() -> Starlette:
    hosts = [h.strip() for h in os.environ.get(FETCH_HOSTS_ENV, "").split(",") if h.strip()]
    return create_app(key=os.environ.get("GUARDRAIL_SERVER_KEY") or None, fetch_hosts=hosts)
