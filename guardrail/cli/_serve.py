"""guardrail serve: the local engine behind the Content Safety REST API (uvicorn)."""

from __future__ import annotations

import argparse
import ipaddress
import os
from typing import Any

from .._exceptions import ConfigurationError

KEY_ENV = "GUARDRAIL_SERVER_KEY"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the local engine over the Azure AI Content Safety REST API",
        description="Answer the Content Safety REST API (text:analyze, blocklists, incidents, custom "
        "categories) from the local engine, so "
        "the official azure-ai-contentsafety SDK and curl scripts work against it. Needs "
        "pip install 'guardrail[server]'.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--key", help=f"required Ocp-Apim-Subscription-Key (also ${KEY_ENV})")
    p.add_argument("--workers", type=int, default=1, help="worker processes sharing the store (default 1)")
    p.add_argument("--allow-fetch", action="append", default=[], metavar="HOST",
                   help="a host or network (10.0.0.0/8) a category's sampleBlobUrl may reach although it is "
                   "internal; repeat for more")
    p.set_defaults(run=run)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise ConfigurationError("guardrail serve needs uvicorn and starlette: pip install 'guardrail[server]'") from None
    key = args.key or os.environ.get(KEY_ENV) or None
    if not _loopback(args.host) and key is None:
        raise ConfigurationError(
            f"refusing to serve on {args.host} without a key: anyone who can reach it could use and change "
            f"your blocklists; pass --key or set {KEY_ENV} (or bind 127.0.0.1)"
        )
    if args.workers < 1:
        raise ConfigurationError("--workers must be at least 1")
    # The workers build their app from the environment (uvicorn imports the factory in each).
    if args.store:
        os.environ["GUARDRAIL_STORE"] = args.store
    from ..server._factory import FETCH_HOSTS_ENV

    os.environ[FETCH_HOSTS_ENV] = ",".join(args.allow_fetch)
    if key is not None:
        os.environ[KEY_ENV] = key
    else:
        os.environ.pop(KEY_ENV, None)
    import copy

    from uvicorn.config import LOGGING_CONFIG

    from ..server._uvicorn import Config

    log_config = copy.deepcopy(LOGGING_CONFIG)  # the JSON access lines of guardrail.server too
    log_config["loggers"]["guardrail.server"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config = Config("guardrail.server._factory:app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level="info", timeout_graceful_shutdown=10, log_config=log_config)
    try:
        if config.workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[config.bind_socket()]).run()
            return 0
        server = uvicorn.Server(config)
        server.run()
    except KeyboardInterrupt:
        return 0
    return 0 if server.started else 1  # e.g. the port was taken (uvicorn logged why)

