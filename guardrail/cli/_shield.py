"""guardrail shield: prompt attacks in a prompt and its documents, in the service's shape."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._exceptions import InvalidInputError
from ._backend import Session
from ._io import read_jsonl, read_texts


def register(sub: Any) -> None:
    p = sub.add_parser(
        "shield",
        help="detect jailbreaks in a prompt and injected instructions in documents",
        description="Prompt shields: a direct attack in the user prompt, instructions planted in documents. "
        "Input: TEXT (or stdin) with --document D (repeatable), or --file F.jsonl with 'userPrompt' (or "
        "'text') and optional 'documents' per line. Prints one JSON per input in text:shieldPrompt's "
        "shape (locally with 'score'). Exit 1 when any attack is detected, 0 when none, 2 on usage errors.",
    )
    p.add_argument("text", nargs="?", metavar="TEXT", help="the user prompt (default: stdin; '' for documents only)")
    p.add_argument("--document", "-d", action="append", default=[], metavar="D", help="a document to shield")
    p.add_argument("--file", "-f", metavar="F.jsonl", help="one JSON object per line")
    p.add_argument("--json", action="store_true", help="compact JSON, one line per input (the default prints it indented)")
    p.set_defaults(run=run)


def _inputs(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    if args.file is None:
        if args.text == "" and args.document:
            return [("", list(args.document))]
        return [(t, list(args.document)) for t in read_texts(args.text, None)]
    if args.text is not None or args.document:
        raise InvalidInputError("give TEXT/--document or --file, not both")
    out = []
    for row in read_jsonl(args.file, strict=False):
        prompt = row.get("userPrompt", row.get("text", ""))
        docs = row.get("documents", [])
        if not isinstance(prompt, str):
            raise InvalidInputError(f"{args.file} line {row['_line']}: userPrompt must be a string")
        if not isinstance(docs, list) or any(not isinstance(d, str) for d in docs):
            raise InvalidInputError(f"{args.file} line {row['_line']}: documents must be a list of strings")
        out.append((prompt, docs))
    return out


def run(args: argparse.Namespace) -> int:
    inputs = _inputs(args)
    attacked = False
    with Session(args) as session:
        for prompt, docs in inputs:
            found = session.run(session.backend.shield_prompt(prompt, docs))
            answer: dict[str, Any] = {}
            for f in found:
                entry: dict[str, Any] = {"attackDetected": f.detected}
                if f.score is not None:
                    entry["score"] = f.score
                if f.document is None:
                    answer["userPromptAnalysis"] = entry
                else:
                    answer.setdefault("documentsAnalysis", []).append(entry)
            answer.setdefault("documentsAnalysis", [])
            attacked |= any(f.detected for f in found)
            print(json.dumps(answer, ensure_ascii=False, indent=None if args.json else 1))
    return 1 if attacked else 0
