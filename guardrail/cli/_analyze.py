"""guardrail analyze: harm severities per category, like the service's text:analyze."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._exceptions import EmptyTextError, InvalidInputError, TextTooLongError
from ..backends.local.engine import LocalEngine
from .._models import HarmCategory, OutputType
from ._backend import Session
from ._io import print_table, read_texts, shorten


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="harm severities (Hate, SelfHarm, Sexual, Violence) of text",
        description="Severity per harm category of each input (argument, stdin, or JSONL with "
        "a 'text' field per line), with the model's raw score on the local backend.",
    )
    p.add_argument("text", nargs="?", metavar="TEXT", help="text to analyze (default: stdin)")
    p.add_argument("--file", "-f", metavar="F.jsonl", help="one JSON object per line with 'text'")
    p.add_argument("--categories", metavar="C1,C2", help="comma-separated subset of " + ",".join(c.value for c in HarmCategory))
    p.add_argument(
        "--output-type",
        default=OutputType.EIGHT_SEVERITY_LEVELS.value,
        metavar="TYPE",
        help="EightSeverityLevels (0-7, default) or FourSeverityLevels (0, 2, 4, 6)",
    )
    p.add_argument("--json", action="store_true", help="one text:analyze-shaped JSON object per input")
    p.set_defaults(run=run)


def parse_categories(value: str | None) -> list[HarmCategory]:
    if not value:
        return list(HarmCategory)
    names = {c.value.lower(): c for c in HarmCategory}
    out = []
    for part in value.split(","):
        key = part.strip().lower()
        if key not in names:
            raise InvalidInputError(
                f"unknown harm category {part.strip()!r}; use any of {', '.join(c.value for c in HarmCategory)}"
            )
        if names[key] not in out:
            out.append(names[key])
    return out


def parse_output_type(value: str) -> OutputType:
    for t in OutputType:
        if t.value.lower() == value.lower():
            return t
    raise InvalidInputError(f"unknown output type {value!r}; use FourSeverityLevels or EightSeverityLevels")


def run(args: argparse.Namespace) -> int:
    categories = parse_categories(args.categories)
    output_type = parse_output_type(args.output_type)
    texts = read_texts(args.text, args.file)
    for n, text in enumerate(texts, 1):
        if not text.strip():
            where = f"input {n}" if args.file else "the text"
            raise EmptyTextError(f"{where} is empty; give text with at least one non-space character")
        if len(text) > LocalEngine.max_text_length:  # the Guard's bound: analysis time grows with length
            where = f"input {n}" if args.file else "the text"
            raise TextTooLongError(
                f"{where} has {len(text):,} characters, over the limit of {LocalEngine.max_text_length:,}; split it"
            )
    with Session(args) as session:
        results = [session.run(session.backend.analyze_harm(t, categories, output_type)) for t in texts]
    if args.json:
        for findings in results:
            analysis = []
            for f in findings:
                entry: dict[str, Any] = {"category": f.name, "severity": f.severity}
                if f.score is not None:
                    entry["score"] = round(f.score, 4)
                if f.span is not None:
                    entry["span"] = {"start": f.span.start, "end": f.span.end}
                analysis.append(entry)
            print(json.dumps({"categoriesAnalysis": analysis}, ensure_ascii=False))
        return 0
    headers = ["text", *[c.value for c in categories]]
    rows = []
    for text, findings in zip(texts, results):
        by_name = {f.name: f for f in findings}
        cells = []
        for c in categories:
            f = by_name.get(c.value)
            if f is None:
                cells.append("-")
            else:
                cells.append(f"{f.severity}" + (f" ({f.score:.2f})" if f.score is not None else ""))
        rows.append([shorten(text, 48), *cells])
    print_table(headers, rows)
    return 0
