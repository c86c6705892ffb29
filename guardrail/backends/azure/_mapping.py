"""Pure mapping between the service's JSON and guardrail's findings. No I/O here.

Covers the GA text:analyze shape (categoriesAnalysis, blocklistsMatch), the preview
extensions (incidents, customizedCategories) and the older 2023-04-30-preview shape
(hateResult ... violenceResult, blocklistsMatchResults with offsets).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ..._exceptions import BackendError
from ..._matching import Term, TermMatcher
from ..._models import Finding, FindingKind, HarmCategory, OutputType, Span
from .._base import CategoryRef

__all__ = [
    "LEGACY_ANALYZE",
    "TEXT_LIMIT",
    "analyze_body",
    "chunk_text",
    "harm_findings",
    "blocklist_findings",
    "category_findings",
    "incident_findings",
    "is_legacy",
]

TEXT_LIMIT = 10_000  # text:analyze, GA
LEGACY_TEXT_LIMIT = 1_000  # text:analyze, 2023-04-30-preview
CHUNK_OVERLAP = 256  # > the longest blocklist term (128), so no term is cut in every chunk
LEGACY_ANALYZE = "2023-04-30-preview"
_LEGACY_FIELDS = {
    "hateResult": HarmCategory.HATE,
    "selfHarmResult": HarmCategory.SELF_HARM,
    "sexualResult": HarmCategory.SEXUAL,
    "violenceResult": HarmCategory.VIOLENCE,
}


_CATEGORY_NAMES = {c.value for c in HarmCategory}


def is_legacy(api_version: str) -> bool:
    return api_version.startswith("2023-04-30")


def text_limit(api_version: str) -> int:
    return LEGACY_TEXT_LIMIT if is_legacy(api_version) else TEXT_LIMIT


def chunk_text(text: str, limit: int, overlap: int = CHUNK_OVERLAP) -> list[tuple[int, str]]:
    """Split ``text`` into ``(offset, chunk)`` windows of at most ``limit`` characters.

    Windows overlap by ``overlap`` characters and prefer to end on whitespace, so a word
    or term cut at one edge is whole in the next window.
    """
    if len(text) <= limit:
        return [(0, text)]
    chunks: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            cut = text.rfind(" ", start + limit - overlap // 2, end)
            if cut > start:
                end = cut
        chunks.append((start, text[start:end]))
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return chunks


def analyze_body(
    text: str,
    *,
    api_version: str,
    categories: Sequence[HarmCategory] = (),
    output_type: OutputType | None = None,
    blocklists: Sequence[str] = (),
    halt_on_blocklist_hit: bool | None = None,
    incidents: Sequence[str] = (),
    halt_on_incident_hit: bool | None = None,
    custom_categories: Sequence[CategoryRef] = (),
) -> dict[str, Any]:
    """The JSON body of text:analyze for ``api_version``; only fields with values."""
    body: dict[str, Any] = {"text": text}
    if categories:
        body["categories"] = [c.value for c in categories]
    if blocklists:
        body["blocklistNames"] = list(blocklists)
    if is_legacy(api_version):
        if halt_on_blocklist_hit is not None:
            body["breakByBlocklists"] = halt_on_blocklist_hit
        return body
    if halt_on_blocklist_hit is not None:
        body["haltOnBlocklistHit"] = halt_on_blocklist_hit
    if output_type is not None:
        body["outputType"] = output_type.value
    if incidents:
        inc: dict[str, Any] = {"incidentNames": list(incidents)}
        if halt_on_incident_hit is not None:
            inc["haltOnIncidentHit"] = halt_on_incident_hit
        body["incidents"] = inc
    if custom_categories:
        body["customizedCategories"] = [
            {"categoryName": c.name, **({"version": c.version} if c.version is not None else {})}
            for c in custom_categories
        ]
    return body


def _bad(message: str) -> BackendError:
    return BackendError(f"Azure text:analyze answer {message}", backend="azure")


def _severity(value: Any, category: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 7:
        raise _bad(f"has severity {value!r} for {category}; expected an integer 0-7")
    return value


def check_analysis(data: Any, categories: Sequence[HarmCategory], blocklists: Sequence[str], legacy: bool) -> None:
    """Refuse an answer that does not contain what was asked for: a missing category is
    not severity 0, and a body with no analysis is not "allowed" (it is the fail mode)."""
    if not isinstance(data, dict):
        raise _bad(f"is {type(data).__name__}, not an object")
    if categories:
        if legacy:
            seen = {cat.value for field, cat in _LEGACY_FIELDS.items() if isinstance(data.get(field), dict)}
        else:
            entries = data.get("categoriesAnalysis")
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise _bad("has no categoriesAnalysis list")
            seen = set()
            for e in entries:
                name = e.get("category")
                if name not in _CATEGORY_NAMES:
                    raise _bad(f"names an unknown category {name!r}")
                _severity(e.get("severity"), str(name))
                seen.add(name)
        missing = [c.value for c in categories if c.value not in seen]
        if missing:
            raise _bad(f"lacks the requested categor{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}")
    if blocklists:
        key = "blocklistsMatchResults" if legacy else "blocklistsMatch"
        value = data.get(key, [] if categories else None)  # GA may omit it when nothing matched
        if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
            raise _bad(f"has no {key} list for the requested blocklists")


def harm_findings(data: dict[str, Any]) -> list[Finding]:
    """categoriesAnalysis (GA) or hateResult... (legacy) as harm findings."""
    out: list[Finding] = []
    for entry in data.get("categoriesAnalysis") or []:
        severity = entry.get("severity")
        if severity is None:
            continue
        name = str(entry.get("category"))
        out.append(Finding(kind=FindingKind.HARM, name=name, severity=_severity(severity, name)))
    for field, category in _LEGACY_FIELDS.items():
        entry = data.get(field)
        if isinstance(entry, dict) and entry.get("severity") is not None:
            out.append(Finding(kind=FindingKind.HARM, name=category.value,
                               severity=_severity(entry["severity"], category.value)))
    return out


def blocklist_findings(data: dict[str, Any], text: str, offset: int = 0) -> list[Finding]:
    """Blocklist matches with spans into the whole text.

    The legacy shape carries offsets; GA ``blocklistsMatch`` does not, so the spans are
    found again from each matched item's text with guardrail's own matcher (falling back
    to a plain case-insensitive search, then to no span, which makes ``redact`` block).
    """
    out: list[Finding] = []
    for m in data.get("blocklistsMatchResults") or []:  # legacy, with offsets
        start = offset + int(m["offset"])
        out.append(
            Finding(
                kind=FindingKind.BLOCKLIST,
                name=m["blocklistName"],
                span=Span(start=start, end=start + int(m["length"])),
                item_id=m.get("blockItemId"),
                item_text=m.get("blockItemText"),
            )
        )
    matches = data.get("blocklistsMatch") or []
    if matches:
        out.extend(_locate(matches, text))
    return out


def _locate(matches: Iterable[dict[str, Any]], text: str) -> list[Finding]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for m in matches:
        seen.setdefault((m["blocklistName"], m["blocklistItemId"]), m)
    out: list[Finding] = []
    for (name, item_id), m in seen.items():
        item_text = m.get("blocklistItemText") or ""
        spans = [(hit.start, hit.end) for hit in TermMatcher([Term(item_id, item_text)]).find(text)]
        if not spans and item_text:
            lowered, needle = text.casefold(), item_text.casefold()
            pos = lowered.find(needle)
            while pos != -1 and len(lowered) == len(text):
                spans.append((pos, pos + len(needle)))
                pos = lowered.find(needle, pos + 1)
        base = dict(kind=FindingKind.BLOCKLIST, name=name, item_id=item_id, item_text=item_text)
        if spans:
            out.extend(Finding(**base, span=Span(start=s, end=e)) for s, e in spans)
        else:
            out.append(Finding(**base))
    return out


def incident_findings(data: dict[str, Any]) -> list[Finding]:
    return [
        Finding(kind=FindingKind.INCIDENT, name=m["incidentName"])
        for m in data.get("incidentMatches") or []
    ]


def category_findings(data: dict[str, Any], refs: Sequence[CategoryRef]) -> list[Finding]:
    versions = {r.name: r.version for r in refs}
    out = []
    for entry in data.get("textCustomizedCategoriesAnalysis") or data.get("customizedCategoriesAnalysis") or []:
        name = entry["categoryName"]
        out.append(
            Finding(
                kind=FindingKind.CUSTOM_CATEGORY,
                name=name,
                detected=bool(entry.get("detected")),
                version=versions.get(name),
            )
        )
    return out


def merge_harm(chunks: Iterable[list[Finding]]) -> list[Finding]:
    """Highest severity per category wins across chunks."""
    best: dict[str, Finding] = {}
    for findings in chunks:
        for f in findings:
            current = best.get(f.name)
            if current is None or (f.severity or 0) > (current.severity or 0):
                best[f.name] = f
    return list(best.values())


def dedupe_spans(findings: Iterable[Finding]) -> list[Finding]:
    """Overlapping chunks report the same hit twice: keep one per (list, item, span)."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in findings:
        key = (f.kind, f.name, f.item_id, f.span.start if f.span else None, f.span.end if f.span else None)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
