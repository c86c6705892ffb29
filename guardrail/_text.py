"""The one rule for text guardrail cannot encode: lone surrogates become U+FFFD.

A lone surrogate (``"\\ud800"``, what JSON ``"\\ud800"`` decodes to) cannot be encoded as
UTF-8, so tokenizers, the matcher and SQLite would raise on it. Each one is replaced by
U+FFFD before analysis or storage: one character for one, so spans into the original
text stay right. Applied at the Guard's edge and in every resource method that takes text.
"""

from __future__ import annotations

import re

__all__ = ["clean"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)
