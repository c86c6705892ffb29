"""Reading inputs and printing tables for the CLI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from .._exceptions import EmptyTextError, InvalidInputError
from .._jsonl import parse_jsonl

__all__ = ["print_table", "read_jsonl", "read_text_file", "read_texts", "shorten"]


def _decode(data: bytes, where: str, strict: bool) -> str:
    # Resources (terms, samples) must be what the user meant: bad UTF-8 is an error there.
    # Text to check is checked anyway, bad bytes as U+FFFD: a check is never switched off.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if strict:
            raise InvalidInputError(f"{where} is not UTF-8 text (bad byte at {exc.start}); save it as UTF-8") from None
        return data.decode("utf-8", errors="replace")


def _stdin_text(strict: bool, stdin: TextIO | None = None) -> str:
    stream = stdin or sys.stdin
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a StringIO in tests: already text
        return stream.read()
    return _decode(buffer.read(), "stdin", strict)


def read_text_file(path: str, *, strict: bool = True) -> str:
    if path == "-":
        return _stdin_text(strict)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _decode(data, path, strict)


def read_jsonl(path: str, *, stdin: TextIO | None = None, strict: bool = True) -> list[dict[str, Any]]:
    """Parse a whole JSONL file (``-`` for stdin) before anything is done with it."""
    if path == "-":
        lines = _stdin_text(strict, stdin).splitlines()
    else:
        lines = read_text_file(path, strict=strict).splitlines()
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
        for row in read_jsonl(file, strict=False):
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
        text = _stdin_text(strict=False)
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
