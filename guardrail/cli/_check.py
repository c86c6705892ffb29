"""guardrail check: guard texts from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._guard import Guard
from .._models import Decision, Direction
from ._backend import Session
from ._io import print_table, read_texts, shorten


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check text against the policy",
        description="Check text (argument, stdin, or JSONL with a 'text' field per line). "
        "Exit 0 when all allowed, 1 when any blocked, 2 on usage errors.",
    )
    p.add_argument("text", nargs="?", metavar="TEXT", help="text to check (default: stdin)")
    p.add_argument("--file", "-f", metavar="F.jsonl", help="one JSON object per line with 'text'")
    p.add_argument("--completion", action="store_true", help="check as a model completion")
    p.add_argument("--policy", "-p", metavar="P", help="policy file (.toml, .yaml, .json)")
    p.add_argument("--json", action="store_true", help="print one JSON verdict per input")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    texts = read_texts(args.text, args.file)
    direction = Direction.COMPLETION if args.completion else Direction.PROMPT
    with Session(args) as session:
        guard = Guard(args.policy, backend=session.backend)
        verdicts = [session.run(guard.check(text, direction)) for text in texts]
    if args.json:
        for v in verdicts:
            print(json.dumps(v.to_json_dict(), ensure_ascii=False))
    else:
        rows = [
            [
                str(i),
                v.decision.value + (" (flagged)" if v.flagged else ""),
                ", ".join(f.describe() for f in v.triggered) or "-",
                shorten(v.text, 60),
            ]
            for i, v in enumerate(verdicts, 1)
        ]
        print_table(["#", "decision", "triggered by", "delivered text"], rows)
        notes = {n for v in verdicts for n in (*v.skipped, *v.errors)}
        for note in sorted(notes):
            print(f"note: {note}")
    return 1 if any(v.decision is Decision.BLOCKED for v in verdicts) else 0
