"""text:shieldPrompt: requests within the service's limits, answers checked and merged.

A prompt over 10,000 characters and documents over 10,000 characters together are split
(overlapping chunks) and packed into several requests of at most five documents; an item
is an attack when any of its chunks is (merge by OR). An answer that lacks an analysis it
was asked for is an error (the fail mode), never "no attack"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..._exceptions import BackendError
from ..._models import Finding, FindingKind
from ..local.shield import SHIELD_LIMITS
from ._mapping import chunk_text

__all__ = ["ShieldRequest", "merge", "plan"]


@dataclass
class ShieldRequest:
    prompt: str | None = None
    documents: list[tuple[int, str]] = field(default_factory=list)  # (document index, chunk)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"documents": [chunk for _, chunk in self.documents]}
        if self.prompt is not None:
            out["userPrompt"] = self.prompt
        return out


def plan(user_prompt: str, documents: Sequence[str]) -> list[ShieldRequest]:
    limits = SHIELD_LIMITS
    prompts = [c for _, c in chunk_text(user_prompt, limits.prompt_chars)] if user_prompt else []
    chunks = [(i, c) for i, doc in enumerate(documents) if doc
              for _, c in chunk_text(doc, limits.documents_chars)]
    requests: list[ShieldRequest] = []
    current = ShieldRequest(prompt=prompts[0] if prompts else None)
    size = 0
    for index, chunk in chunks:
        if current.documents and (len(current.documents) == limits.documents or size + len(chunk) > limits.documents_chars):
            requests.append(current)
            current, size = ShieldRequest(), 0
        current.documents.append((index, chunk))
        size += len(chunk)
    requests.append(current)
    requests += [ShieldRequest(prompt=p) for p in prompts[1:]]
    return [r for r in requests if r.prompt is not None or r.documents]


def _flag(entry: Any, what: str) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("attackDetected"), bool):
        raise BackendError(f"text:shieldPrompt answered without {what}.attackDetected; the check cannot pass "
                           "on a missing answer", backend="azure")
    return bool(entry["attackDetected"])


def merge(user_prompt: str, documents: Sequence[str], requests: Sequence[ShieldRequest],
          answers: Sequence[Any]) -> list[Finding]:
    prompt_hit = False
    doc_hits = [False] * len(documents)
    for request, data in zip(requests, answers):
        if not isinstance(data, dict):
            raise BackendError("text:shieldPrompt answered without an analysis", backend="azure")
        if request.prompt is not None:
            prompt_hit |= _flag(data.get("userPromptAnalysis"), "userPromptAnalysis")
        got = data.get("documentsAnalysis") if request.documents else []
        if not isinstance(got, list) or len(got) != len(request.documents):
            raise BackendError(f"text:shieldPrompt answered {len(got) if isinstance(got, list) else 'no'} document "
                               f"analyses for {len(request.documents)} documents", backend="azure")
        for (index, _), entry in zip(request.documents, got):
            doc_hits[index] |= _flag(entry, "documentsAnalysis[]")
    out = []
    if user_prompt:
        out.append(Finding(kind=FindingKind.PROMPT_ATTACK, name="userPrompt", detected=prompt_hit))
    out += [Finding(kind=FindingKind.PROMPT_ATTACK, name="document", document=i, detected=hit)
            for i, hit in enumerate(doc_hits)]
    return out
