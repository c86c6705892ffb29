"""Reading inputs and printing tables for the CLI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from .._exceptions import EmptyTextError, InvalidInputError
from .._jsonl import parse_jsonl

__all__ = ["print_table", "read_jsonl", "read_texts", "shorten"]


def read_jsonl(path: str, *, stdin: TextIO | None = None) -> list[dict[str, Any]]:
    """Parse a whole JSONL file (``-`` for stdin) before anything is done with it."""
    if path == "-":
        lines = (stdin or sys.stdin).read().splitlines()
    else:
        p = Path(path)
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise InvalidInputError(f"{path} is not UTF-8 text") from None
    rows = [{**row, "_line": number} for number, row in parse_jsonl(lines, path)]
    if not rows:
        raise EmptyTextError(f"{path} has no JSON lines")
    return rows


def read_texts(text: str | None, file: str | None, field: str = "text") -> list[str]:
    """Texts from the argument, a JSONL file (``field`` of each line), or stdin."""
    if text is not None and file is not None:
        raise InvalidInputError("give TEXT or --file, not both")
    if file is not None:
        texts = []
        for row in read_jsonl(file):
            value = row.get(field)
            if not isinstance(value, str):
                raise InvalidInputError(
                    f"{file} line {row['_line']}: needs a string field {field!r}"
                )
            texts.append(value)
        return texts
    if text is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise InvalidInputError("give TEXT, --file F.jsonl, or pipe text on stdin")
        text = sys.stdin.read()
        if text.endswith("\n"):
            text = text[:-1]
    return [text]


def shorten(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line.rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)
