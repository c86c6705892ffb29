"""The ``guardrail`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .._exceptions import GuardrailError
from . import _analyze, _blocklist, _category, _check, _demo, _eval, _incident

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guardrail",
        description="Content-safety guardrails for LLM apps. Runs offline on the embedded engine.",
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="local store file (default: $GUARDRAIL_STORE or a per-user data file)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "azure"),
        help="local engine (default) or Azure AI Content Safety; also $GUARDRAIL_BACKEND. "
        "Azure reads AZURE_CONTENT_SAFETY_ENDPOINT and AZURE_CONTENT_SAFETY_KEY",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _check.register(sub)
    _analyze.register(sub)
    _eval.register(sub)
    _blocklist.register(sub)
    _incident.register(sub)
    _category.register(sub)
    _demo.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.run(args))
    except GuardrailError as exc:
        print(f"guardrail: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
