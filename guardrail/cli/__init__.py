"""The ``guardrail`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .._exceptions import GuardrailError
from . import _analyze, _blocklist, _category, _check, _demo, _eval, _incident, _serve, _shield

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """Options may follow positionals (``blocklist add NAME --regex TERM``), as users type
    them: a command's own parser reads its arguments intermixed."""

    _intermixing = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        if self._subparsers is not None or self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return super().parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _global_options(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH|URL",
        default=default,
        help="the store: a SQLite file or a postgresql:// URL (default: $GUARDRAIL_STORE or a per-user data file)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "azure"),
        default=default,
        help="local engine (default) or Azure AI Content Safety; also $GUARDRAIL_BACKEND. "
        "Azure reads AZURE_CONTENT_SAFETY_ENDPOINT and AZURE_CONTENT_SAFETY_KEY",
    )


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    if parser._subparsers is None:
        return [parser]
    out = []
    for action in parser._subparsers._group_actions:
        for child in dict.fromkeys(getattr(action, "choices", {}).values()):
            out.extend(_leaves(child))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="guardrail",
        description="Content-safety guardrails for LLM apps. Runs offline on the embedded engine.",
    )
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _check.register(sub)
    _shield.register(sub)
    _analyze.register(sub)
    _eval.register(sub)
    _blocklist.register(sub)
    _incident.register(sub)
    _category.register(sub)
    _demo.register(sub)
    _serve.register(sub)
    for leaf in _leaves(parser):  # global options after the command too: `check --backend azure X`
        if not any("--store" in a.option_strings for a in leaf._actions):
            _global_options(leaf, default=argparse.SUPPRESS)
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
