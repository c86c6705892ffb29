"""Prompt shields offline: direct attacks in a user prompt, indirect ones in documents.

The model (``guardrail/_weights/shield_ngram``) is a linear classifier over hashed word
uni/bigrams and character 3-5-grams of the folded text (NFKC, case-folded, invisible
characters dropped, whitespace runs as one space), trained by ``scripts/train_shield.py``.
A text is read in overlapping character windows; its score is its worst window's, whose
span is reported. Pure numpy: a 200-character prompt takes well under a millisecond.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..._evasion import reading
from ..._exceptions import ConfigurationError, EmptyTextError, InvalidInputError, LimitExceededError
from ..._matching import is_ignorable
from ..._models import Span
from ..._text import clean, document_list

__all__ = ["DEFAULT_SHIELD_MODEL", "SHIELD_LIMITS", "ShieldAnalyzer", "ShieldScore", "check_shield_input",
           "default_shield_analyzer", "featurize", "fold_text", "windows"]

DEFAULT_SHIELD_MODEL = "shield_ngram"
WINDOW = 1000  # characters per window; an attack is judged in context, not smeared over a book
STRIDE = 500
_WORD = re.compile(r"\w+")
_P = np.uint64(1_000_003)
_MASK32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class ShieldLimits:
    """text:shieldPrompt's documented input limits (the spec sets none): a prompt of 10,000
    characters; at most five documents of 10,000 characters together per request. The Azure
    client splits and batches what is longer; the local model reads any length in windows."""

    prompt_chars: int = 10_000
    documents: int = 5
    documents_chars: int = 10_000


SHIELD_LIMITS = ShieldLimits()


@dataclass(frozen=True)
class ShieldScore:
    score: float  # 0..1, the worst window's
    detected: bool
    span: Span | None  # the worst window, in characters of the original text


def fold_text(text: str) -> str:
    """What the features read: NFKC, case-folded, invisible characters dropped, whitespace
    runs as one space (so 'I g n o r e' tricks still leave their n-grams)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = "".join(ch for ch in text if not is_ignorable(ch))
    return " ".join(text.split())


def _char_hashes(text: str, sizes: Sequence[int]) -> np.ndarray:
    """Rolling polynomial hashes of every character n-gram (vectorised; stable across runs)."""
    codes = np.frombuffer(f" {text} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    out = []
    for n in sizes:
        if len(codes) < n:
            continue
        h = np.zeros(len(codes) - n + 1, dtype=np.uint64)
        for k in range(n):
            h = (h * _P + codes[k: len(codes) - n + 1 + k]) & _MASK32
        out.append((h * np.uint64(2654435761) + np.uint64(n)) & _MASK32)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)


def featurize(folded: str, dim: int, char_sizes: Sequence[int] = (3, 4, 5)) -> tuple[np.ndarray, np.ndarray]:
    """(indices, values) of the L2-normalised log-count vector of one folded text."""
    words = _WORD.findall(folded)
    grams = [f"w {w}" for w in words] + [f"b {a} {b}" for a, b in zip(words, words[1:])]
    word_h = np.array([zlib.crc32(g.encode("utf-8")) for g in grams], dtype=np.uint64)
    hashes = np.concatenate([word_h, _char_hashes(folded, char_sizes)]) % np.uint64(dim)
    idx, counts = np.unique(hashes.astype(np.int64), return_counts=True)
    values = np.log1p(counts.astype(np.float32))
    norm = float(np.sqrt((values * values).sum())) or 1.0
    return idx, values / norm


def windows(text: str, size: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """Overlapping (start, end) character windows, cut at whitespace where one is near."""
    if len(text) <= size:
        return [(0, len(text))]
    out = []
    start = 0
    while True:
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)
            end = cut if cut > start else end
        out.append((start, end))
        if end >= len(text):
            return out
        nxt = start + stride
        space = text.find(" ", nxt, nxt + 50)
        start = space + 1 if space != -1 else nxt


class ShieldAnalyzer:
    """Scores user prompts and documents for prompt attacks; thread-safe, loads on first use.

    **Parameters:**

    * **model_dir** - *(optional)* a folder with ``weights.npy`` and ``config.json``; the
      shipped ``shield_ngram`` by default.
    * **threshold** - *(optional)* score at or above which an attack is detected; the
      model's calibrated threshold by default.
    """

    def __init__(self, model_dir: str | Path | None = None, *, threshold: float | None = None) -> None:
        self._dir = Path(model_dir) if model_dir is not None else None
        self._threshold = threshold
        self._lock = threading.Lock()
        self._weights: np.ndarray | None = None
        self._encoder: Any = None
        self._config: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<ShieldAnalyzer {self._dir or DEFAULT_SHIELD_MODEL}>"

    def load(self) -> None:
        with self._lock:
            if self._config:
                return
            folder = self._dir or Path(str(resources.files("guardrail") / "_weights" / DEFAULT_SHIELD_MODEL))
            try:
                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                if (folder / "model.onnx").is_file():  # a fine-tuned encoder (scripts/train_shield_minilm.py)
                    from .harm import HarmAnalyzer  # the same windowed ONNX runner, one "attack" head

                    self._encoder = HarmAnalyzer(folder)
                    self._encoder.load()
                else:  # the n-gram baseline (scripts/train_shield.py)
                    weights = np.load(folder / "weights.npy").astype(np.float32)
                    if weights.shape != (int(config["dim"]) + 1,):
                        raise ValueError("weights.npy does not match config.json's dim")
                    self._weights = weights
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigurationError(f"cannot load the prompt-shield model from {folder}: {exc}") from None
            self._config = config

    @property
    def threshold(self) -> float:
        self.load()
        return float(self._threshold if self._threshold is not None else self._config["threshold"])

    def raw(self, text: str) -> tuple[float, tuple[int, int]]:
        """The worst window's probability and its (start, end) in ``text``."""
        self.load()
        if self._encoder is not None:
            best, spans = self._encoder.raw_scores([text])[0]
            return float(best[0]), (spans[0].start, spans[0].end)
        assert self._weights is not None
        dim = int(self._config["dim"])
        sizes = tuple(self._config.get("char_ngrams", (3, 4, 5)))
        w, b = self._weights[:dim], float(self._weights[dim])
        best_p, where = -1.0, (0, len(text))
        for start, end in windows(text, int(self._config.get("window", WINDOW)), int(self._config.get("stride", STRIDE))):
            folded = fold_text(text[start:end])
            if not folded:
                continue
            idx, val = featurize(folded, dim, sizes)
            z = float(w[idx] @ val) + b
            p = 1.0 / (1.0 + float(np.exp(-z)))
            if p > best_p:
                best_p, where = p, (start, end)
        return max(best_p, 0.0), where

    def score(self, text: str, threshold: float | None = None) -> ShieldScore:
        text = clean(text)
        p, (start, end) = self.raw(text)
        # "i g n o r e  a l l  p r e v i o u s" or "1gn0re": the de-obfuscated reading is
        # scored too, and the worse wins (its span maps back into the text as typed).
        folded = reading(text)
        if folded is not None:
            q, (a, b) = self.raw(folded.text)
            if q > p:
                p, (start, end) = q, folded.span(a, b)
        detected = bool(p >= (threshold if threshold is not None else self.threshold))
        return ShieldScore(round(float(p), 4), detected, Span(start=start, end=end) if detected else None)

    def analyze(self, user_prompt: str, documents: Sequence[str] = (), *,
                threshold: float | None = None) -> tuple[ShieldScore | None, list[ShieldScore]]:
        """The prompt's score (None for an empty prompt) and one per document."""
        check_shield_input(user_prompt, documents, local=True)
        prompt = self.score(user_prompt, threshold) if user_prompt else None
        return prompt, [self.score(d, threshold) for d in documents]


_default: ShieldAnalyzer | None = None
_default_lock = threading.Lock()


def default_shield_analyzer() -> ShieldAnalyzer:
    """The shipped model, shared by every engine in the process (loaded on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ShieldAnalyzer()
        return _default


def check_shield_input(user_prompt: object, documents: object, *, local: bool) -> None:
    """Types and limits of a shield request (Azure's limits; locally documents may be longer
    than the service takes, since the local model reads any length in windows)."""
    if not isinstance(user_prompt, str):
        raise InvalidInputError(f"the user prompt must be a string, got {type(user_prompt).__name__}")
    documents = document_list(documents)
    if not user_prompt and not any(documents):
        raise EmptyTextError("a shield check needs a user prompt or at least one non-empty document")
    if len(documents) > SHIELD_LIMITS.documents and not local:
        raise LimitExceededError(f"{len(documents)} documents; text:shieldPrompt takes at most "
                                 f"{SHIELD_LIMITS.documents} per request")
