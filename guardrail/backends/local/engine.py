"""LocalEngine: the default backend, answering from the local store and shipped models."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..._models import Finding, FindingKind, HarmCategory, OutputType, Span
from ..._folds import SPACED, fold_text, spaced_reading
from ..._store import BaseStore, open_store
from .._base import Analysis, AnalysisRequest, AnalysisResult, Backend, CategoryRef, IncidentRef
from .blocklists import Blocklists
from .categories import Categories
from .embedder import Embedder, default_embedder
from .harm import HarmAnalyzer, default_harm_analyzer
from ._runner import ModelRunner
from .incidents import Incidents
from .shield import ShieldAnalyzer, default_shield_analyzer

__all__ = ["LocalEngine"]


class LocalEngine(Backend):
    """The embedded engine. Resources live in ``store`` (a :class:`Store`, a ``PostgresStore``, a file path or a ``postgresql://`` URL).

    ``engine.blocklists`` manages blocklists with the service's resource model; ``harm``
    is the shipped harm model unless another :class:`HarmAnalyzer` or model folder is given.
    """

    name = "local"
    harm_languages: tuple[str, ...] | None = ("en",)  # the shipped harm model reads English
    # About 3 s of harm analysis on two cores (100,000 characters take ~8 s): within the
    # default 5 s timeout, so the documented limit is one the default policy can check.
    max_text_length = 40_000

    def __init__(
        self,
        store: BaseStore | str | Path | None = None,
        *,
        embedder: Embedder | str | Path | None = None,
        harm: HarmAnalyzer | str | Path | None = None,
        shield: ShieldAnalyzer | str | Path | None = None,
    ) -> None:
        self.store = open_store(store)
        if embedder is None:
            self.embedder = default_embedder()
        else:
            self.embedder = embedder if isinstance(embedder, Embedder) else Embedder(embedder)
        self.blocklists = Blocklists(self.store)
        if harm is None:
            self.harm = default_harm_analyzer()
        else:
            self.harm = harm if isinstance(harm, HarmAnalyzer) else HarmAnalyzer(harm)
        if shield is None:
            self.shield = default_shield_analyzer()
        else:
            self.shield = shield if isinstance(shield, ShieldAnalyzer) else ShieldAnalyzer(shield)
        self.text_incidents = Incidents(self.store, "text", self.embedder)
        self.image_incidents = Incidents(self.store, "image", self.embedder)
        self.categories = Categories(self.store, self.embedder)
        self.runner = ModelRunner()

    def __repr__(self) -> str:
        return f"<LocalEngine store={self.store.path!r}>"

    def supports(self, analysis: str) -> bool:
        return analysis in (
            Analysis.HARM,
            Analysis.BLOCKLIST, Analysis.INCIDENT, Analysis.IMAGE_INCIDENT, Analysis.CUSTOM_CATEGORY,
            Analysis.BLOCKLIST_FOLD, Analysis.PROMPT_SHIELD,
        )

    async def analyze(self, text: str, request: AnalysisRequest, *, timeout: float) -> AnalysisResult:
        # The state checks run on is at least this new (caches refresh before it moves).
        status = self.store.status if request.uses_store else None
        result = await super().analyze(text, request, timeout=timeout)
        if status is not None:
            result.store_version, result.store_stale = status.version, status.stale
        return result

    async def analyze_harm(
        self, text: str, categories: Sequence[HarmCategory], output_type: OutputType
    ) -> list[Finding]:
        # Concurrent checks that queue together are scored in one model call (micro-batch).
        scores = await self.runner.run_batched(
            ("harm", tuple(categories), output_type), self._harm_batch, (text, categories, output_type),
            cost=len(text),
        )
        return [
            Finding(
                kind=FindingKind.HARM, name=s.category.value, severity=s.severity, score=s.score, span=s.span
            )
            for s in scores
        ]

    def _harm_batch(self, items: list[Any], *, stop: Any, checkpoint: Any) -> list[Any]:
        _, categories, output_type = items[0]
        return self.harm.analyze_many([t for t, _, _ in items], categories, output_type, stop=stop,
                                      checkpoint=checkpoint)

    async def detect_image_incidents(self, image: Any, incidents: Sequence[IncidentRef]) -> list[Finding]:
        thresholds = {i.name: i.threshold for i in incidents if i.threshold is not None}
        return await self.runner.run(
            _unstoppable(self.image_incidents.detect), image, [i.name for i in incidents], thresholds=thresholds,
            cost=1000,
        )

    async def detect_incidents(self, text: str, incidents: Sequence[IncidentRef]) -> list[Finding]:
        thresholds = {i.name: i.threshold for i in incidents if i.threshold is not None}
        # The model runs in a thread: the event loop stays free while it computes.
        return await self.runner.run(
            _unstoppable(self.text_incidents.detect), text, [i.name for i in incidents], thresholds=thresholds,
            cost=len(text),
        )

    async def shield_prompt(
        self, user_prompt: str, documents: Sequence[str] = (), *, threshold: float | None = None
    ) -> list[Finding]:
        return await self.runner.run(_unstoppable(self.shield_prompt_sync), user_prompt, list(documents),
                                     threshold=threshold, cost=len(user_prompt) + sum(map(len, documents)))

    def shield_prompt_sync(
        self, user_prompt: str, documents: Sequence[str] = (), *, threshold: float | None = None
    ) -> list[Finding]:
        prompt, docs = self.shield.analyze(user_prompt, documents, threshold=threshold)
        scored = ([(None, prompt)] if prompt is not None else []) + list(enumerate(docs))
        return [Finding(kind=FindingKind.PROMPT_ATTACK, name="userPrompt" if index is None else "document",
                        document=index, score=s.score, detected=s.detected, span=s.span) for index, s in scored]

    async def analyze_custom_categories(self, text: str, categories: Sequence[CategoryRef]) -> list[Finding]:
        return await self.runner.run(_unstoppable(self.categories.analyze), text, list(categories), cost=len(text))

    async def match_blocklists(
        self, text: str, names: Sequence[str], *, folds: dict[str, tuple[str, ...]] | None = None
    ) -> list[Finding]:
        # Matching takes microseconds (RE2 keeps regexes linear); a thread hop would cost more.
        return self.match_blocklists_sync(text, names, folds=folds)

    def match_blocklists_sync(
        self, text: str, names: Sequence[str], *, folds: dict[str, tuple[str, ...]] | None = None
    ) -> list[Finding]:
        hits = list(self.blocklists.match(text, names))
        for name, wanted in (folds or {}).items():
            for fold in wanted:
                if fold == SPACED:  # separators dropped: spans map back through the index
                    joined = spaced_reading(text)
                    if joined is not None:
                        hits.extend((n, m._replace(start=a, end=b))
                                    for n, m in self.blocklists.match(joined.text, [name]) if m.end > m.start
                                    for a, b in [joined.span(m.start, m.end)])
                    continue
                variant = fold_text(text, fold)  # one character for one: spans carry over
                if variant != text:
                    hits.extend(self.blocklists.match(variant, [name]))
        seen: set[tuple[str, str, int, int]] = set()
        out = []
        for name, m in hits:
            key = (name, m.term.key, m.start, m.end)
            if key not in seen:
                seen.add(key)
                out.append(Finding(kind=FindingKind.BLOCKLIST, name=name, span=Span(start=m.start, end=m.end),
                                   item_id=m.term.key, item_text=m.term.text))
        return out

    def check_resources(self, request: AnalysisRequest) -> None:
        for name in request.blocklists:
            self.blocklists.get(name)
        for ref in request.incidents:
            self.text_incidents.get(ref.name)
        for cat in request.categories:
            self.categories.get(cat.name, cat.version)

    def stream_margin(self, blocklists: Sequence[str], *, spaced: bool = False) -> int:
        # The longest term as the matcher folds it; a regex may match anything up to the
        # service's 128-character bound (a longer match is held until it ends). A list
        # with the spacing fold can hit a term typed apart: up to twice as long.
        if spaced:
            return 2 * self.stream_margin(blocklists)
        longest = 0
        for name in blocklists:
            try:
                matcher = self.blocklists.matcher(name)
            except Exception:  # an unknown list fails the check itself; do not fail here
                return super().stream_margin(blocklists)
            if matcher.has_regex:
                return super().stream_margin(blocklists)
            longest = max(longest, matcher.longest_folded)
        return longest

    def close(self) -> None:
        self.categories.join()  # a build started just before exit finishes, not half-written
        self.runner.shutdown()
        self.store.close()

    async def aclose(self) -> None:
        self.close()


def _unstoppable(fn: Any) -> Any:
    """A job that finishes quickly once started (one embedding pass): ignores ``stop``."""

    def call(*args: Any, stop: Any = None, checkpoint: Any = None, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return call
