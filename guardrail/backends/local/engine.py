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

    def close(self) -> None:
        self.store.close()

    async def aclose(self) -> None:
        self.close()
