"""LocalEngine: the default backend, answering from the local store and shipped models."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..._models import Finding, FindingKind, Span
from ..._store import Store
from .._base import Analysis, Backend
from .blocklists import Blocklists

__all__ = ["LocalEngine"]


class LocalEngine(Backend):
    """The embedded engine. Resources live in ``store`` (a :class:`Store` or a path).

    ``engine.blocklists`` manages blocklists with the service's resource model.
    """

    name = "local"

    def __init__(self, store: Store | str | Path | None = None) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.blocklists = Blocklists(self.store)

    def __repr__(self) -> str:
        return f"<LocalEngine store={self.store.path!r}>"

    def supports(self, analysis: str) -> bool:
        return analysis == Analysis.BLOCKLIST

    async def match_blocklists(self, text: str, names: Sequence[str]) -> list[Finding]:
        # Matching takes microseconds; a thread hop would cost more than it saves.
        return self.match_blocklists_sync(text, names)

    def match_blocklists_sync(self, text: str, names: Sequence[str]) -> list[Finding]:
        return [
            Finding(
                kind=FindingKind.BLOCKLIST,
                name=name,
                span=Span(start=m.start, end=m.end),
                item_id=m.term.key,
                item_text=m.term.text,
            )
            for name, m in self.blocklists.match(text, names)
        ]

    def stream_margin(self, blocklists: Sequence[str]) -> int:
        # Twice the longest term, for whitespace runs and width forms inside a hit;
        # regexes can match anything up to the service's 128-character bound.
        longest = 0
        for name in blocklists:
            try:
                matcher = self.blocklists.matcher(name)
            except Exception:  # an unknown list fails the check itself; do not fail here
                return super().stream_margin(blocklists)
            if matcher.has_regex:
                return super().stream_margin(blocklists)
            longest = max(longest, matcher.longest)
        return min(super().stream_margin(blocklists), 2 * longest + 8) if longest else 1

    def close(self) -> None:
        self.store.close()

    async def aclose(self) -> None:
        self.close()
