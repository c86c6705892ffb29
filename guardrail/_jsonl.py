"""JSONL parsing shared by the CLI and the local engine: whole file first, errors by line."""

from __future__ import annotations

import json
from typing import Any, Iterable

from ._exceptions import InvalidInputError

__all__ = ["parse_jsonl"]


def parse_jsonl(lines: Iterable[str], where: str) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line; a bad line raises, naming it."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InvalidInputError(f"{where} line {number}: expected a JSON object")
        rows.append((number, row))
    return rows
