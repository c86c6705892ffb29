"""The one rule for text guardrail cannot encode: lone surrogates become U+FFFD.

A lone surrogate (``"\\ud800"``, what JSON ``"\\ud800"`` decodes to) cannot be encoded as
UTF-8, so tokenizers, the matcher and SQLite would raise on it. Each one is replaced by
U+FFFD before analysis or storage: one character for one, so spans into the original
text stay right. Applied at the Guard's edge and in every resource method that takes text.
"""

from __future__ import annotations

import re

from ._exceptions import InvalidInputError

__all__ = ["clean", "document_list"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def document_list(documents: object) -> list[str]:
    """Documents to shield: a list (or tuple) of strings; a typed error names the bad one."""
    if isinstance(documents, (str, bytes)) or not isinstance(documents, (list, tuple)):
        raise InvalidInputError(f"documents must be a list of strings, got {type(documents).__name__}")
    for i, doc in enumerate(documents):
        if not isinstance(doc, str):
            raise InvalidInputError(f"document {i} must be a string, got {type(doc).__name__}")
    return list(documents)
