"""Quality figures for harm analysis on labelled JSONL: precision, recall, AUPRC.

Rows follow the schema of the project's labelled data: ``{"text", "labels": {"Hate",
"SelfHarm", "Sexual", "Violence"}}`` with 1, 0 or null per category, or
``{"text", "severity": {category: 0-7}}`` (graded rows; an absent category is 0, and
severity 2 or more counts as positive). Pure numpy; plotting lives in the CLI.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ._exceptions import InvalidInputError
from ._models import HarmCategory

__all__ = [
    "CATEGORIES",
    "CategoryFigures",
    "EvalReport",
    "LabelledRow",
    "average_precision",
    "dev_split",
    "evaluate",
    "labelled_rows",
    "pr_curve",
]

CATEGORIES = tuple(c.value for c in HarmCategory)
POSITIVE_SEVERITY = 2


def dev_split(text: str) -> bool:
    """The development split of scripts/train_harm.py: sha1(text) % 10 < 2."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 10 < 2


@dataclass(frozen=True)
class LabelledRow:
    text: str
    labels: dict[str, int | None]  # 1, 0 or None per category

    @property
    def harmful(self) -> int | None:
        values = [self.labels.get(c) for c in CATEGORIES]
        if any(v == 1 for v in values):
            return 1
        return 0 if all(v == 0 for v in values) else None


def labelled_rows(rows: Sequence[dict[str, Any]], where: str = "data") -> list[LabelledRow]:
    """Validate parsed JSONL rows (with ``_line`` numbers) into :class:`LabelledRow`."""
    out = []
    for row in rows:
        line = row.get("_line", "?")
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"{where} line {line}: needs a non-empty string field 'text'")
        if isinstance(row.get("labels"), dict):
            labels: dict[str, int | None] = {}
            for cat in CATEGORIES:
                value = row["labels"].get(cat)
                if value not in (0, 1, None):
                    raise InvalidInputError(
                        f"{where} line {line}: labels.{cat} must be 1, 0 or null, not {value!r}"
                    )
                labels[cat] = value
        elif isinstance(row.get("severity"), dict):
            unknown = set(row["severity"]) - set(CATEGORIES)
            if unknown:
                raise InvalidInputError(
                    f"{where} line {line}: unknown category {sorted(unknown)[0]!r} in severity; "
                    f"use {', '.join(CATEGORIES)}"
                )
            labels = {}
            for cat in CATEGORIES:
                value = row["severity"].get(cat, 0)
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 7:
                    raise InvalidInputError(f"{where} line {line}: severity.{cat} must be an integer 0-7")
                labels[cat] = int(value >= POSITIVE_SEVERITY)
        else:
            raise InvalidInputError(
                f"{where} line {line}: needs 'labels' (1/0/null per category) or 'severity' (0-7 per category)"
            )
        out.append(LabelledRow(text, labels))
    return out


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the precision-recall curve as the step sum (as scikit-learn computes it)."""
    y = np.asarray(y, dtype=bool)
    if y.sum() == 0 or y.sum() == len(y):
        return float("nan")
    precision, recall, _ = pr_curve(y, s)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def pr_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at every distinct score, recall descending (ends at recall 0)."""
    y = np.asarray(y, dtype=bool)
    s = np.asarray(s, dtype=float)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.where(np.diff(s))[0]
    ends = np.r_[distinct, len(y) - 1]
    tp = np.cumsum(y)[ends]
    fp = (1 + ends) - tp
    precision = tp / (tp + fp)
    recall = tp / max(1, y.sum())
    # reversed so recall decreases, with the (recall 0, precision 1) end point
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], s[ends][::-1]


@dataclass
class CategoryFigures:
    rows: int
    positives: int
    precision: float  # at severity >= threshold
    recall: float
    auprc: float


@dataclass
class EvalReport:
    threshold: int
    rows: int
    categories: dict[str, CategoryFigures]
    binary_auprc: float
    binary_rows: int
    benign_rows: int
    benign_at_threshold: float  # share of all-benign rows with any severity >= threshold
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "rows": self.rows,
            "categories": {k: vars(v) for k, v in self.categories.items()},
            "binary_auprc": self.binary_auprc,
            "binary_rows": self.binary_rows,
            "benign_rows": self.benign_rows,
            "benign_at_threshold": self.benign_at_threshold,
        }


def evaluate(
    rows: Sequence[LabelledRow],
    severities: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: int = 4,
) -> EvalReport:
    """Figures from per-row severities (rows x 4, 0-7) and ranking scores (rows x 4).

    ``scores`` rank rows for AUPRC; the binary score is the row's highest score, so the
    four columns must be on one scale (guardrail's continuous severities are).
    """
    if len(rows) == 0:
        raise InvalidInputError("no labelled rows to evaluate")
    figures: dict[str, CategoryFigures] = {}
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for k, cat in enumerate(CATEGORIES):
        idx = [i for i, r in enumerate(rows) if r.labels.get(cat) is not None]
        y = np.array([rows[i].labels[cat] == 1 for i in idx], dtype=bool)
        hit = severities[idx, k] >= threshold if idx else np.zeros(0, dtype=bool)
        tp = int((hit & y).sum())
        figures[cat] = CategoryFigures(
            rows=len(idx),
            positives=int(y.sum()),
            precision=tp / int(hit.sum()) if hit.sum() else float("nan"),
            recall=tp / int(y.sum()) if y.sum() else float("nan"),
            auprc=average_precision(y, scores[idx, k]) if idx else float("nan"),
        )
        if idx and 0 < y.sum() < len(y):
            p, r, _ = pr_curve(y, scores[idx, k])
            curves[cat] = (r.tolist(), p.tolist())
    known = [i for i, r in enumerate(rows) if r.harmful is not None]
    y_any = np.array([rows[i].harmful == 1 for i in known], dtype=bool)
    s_any = scores[known].max(axis=1) if known else np.zeros(0)
    if known and 0 < y_any.sum() < len(y_any):
        p, r, _ = pr_curve(y_any, s_any)
        curves["binary"] = (r.tolist(), p.tolist())
    benign = [i for i in known if rows[i].harmful == 0]
    flagged = int((severities[benign].max(axis=1) >= threshold).sum()) if benign else 0
    return EvalReport(
        threshold=threshold,
        rows=len(rows),
        categories=figures,
        binary_auprc=average_precision(y_any, s_any) if known else float("nan"),
        binary_rows=len(known),
        benign_rows=len(benign),
        benign_at_threshold=flagged / len(benign) if benign else float("nan"),
        curves=curves,
    )
