"""Harm severities offline: Hate, SelfHarm, Sexual and Violence on the service's 0-7 scale.

The model (``guardrail/_weights/harm_minilm``) is MiniLM-L6 fine-tuned with four sigmoid
heads by ``scripts/train_harm.py``; scores are trained as severity/7 and mapped to
severities by the knots in its config.json (see :func:`severity_of`). Long texts are read
in overlapping token windows; each category takes its worst window, whose character span
is reported. Nothing is fetched from a model hub.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..._evasion import known_words, reading
from ..._exceptions import InvalidInputError
from ..._models import HarmCategory, OutputType, Span, to_four_levels
from ..._text import clean
from ._onnx import check_model_dir, load_model
from ._runner import Cancelled

__all__ = [
    "DEFAULT_HARM_MODEL",
    "HarmAnalyzer",
    "HarmScore",
    "continuous_severity",
    "default_harm_analyzer",
    "severity_of",
]

DEFAULT_HARM_MODEL = "harm_minilm"


@dataclass(frozen=True)
class HarmScore:
    category: HarmCategory
    severity: int  # on the requested output type's scale
    score: float  # the model's raw score, 0..1, of the worst window
    span: Span  # the worst window, in characters of the original text


def continuous_severity(score: Any, knots: Sequence[Sequence[float]]) -> Any:
    """A raw score (or array of them) on the 0-8 severity line: linear between the knots."""
    return np.interp(score, [k[0] for k in knots], [k[1] for k in knots])


def severity_of(score: float, knots: Sequence[Sequence[float]]) -> int:
    """EightSeverityLevels value of a raw score: its continuous severity floored to 0-7."""
    return int(min(7, max(0, np.floor(continuous_severity(score, knots)))))


class HarmAnalyzer:
    """Scores texts for the four harm categories; batched, thread-safe, loads on first use.

    **Parameters:**

    * **model_dir** - *(optional)* a folder with model.onnx, tokenizer.json, config.json.
    * **threads** - *(optional)* ONNX Runtime intra-op threads (default: up to 4 cores).
    * **batch_size** - *(optional)* windows per ONNX run (small, so a long text can be
      stopped or let a short one pass between runs).
    """

    def __init__(
        self, model_dir: str | Path | None = None, *, threads: int | None = None, batch_size: int = 8
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else None
        if self.model_dir is not None:
            check_model_dir(self.model_dir, "harm model", "scripts/train_harm.py")
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._words: frozenset[str] = frozenset()
        self.config: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<HarmAnalyzer {self.model_dir or DEFAULT_HARM_MODEL}>"

    def _files(self) -> Any:
        if self.model_dir is not None:
            return self.model_dir
        return resources.files("guardrail").joinpath("_weights").joinpath(DEFAULT_HARM_MODEL)

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise)."""
        with self._lock:
            if self._session is not None:
                return
            config, tokenizer, session = load_model(
                self._files(), self.threads, "harm model",
                "; reinstall guardrail or pass a folder made by scripts/train_harm.py",
            )
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self.config = config
            self._tokenizer = tokenizer
            self._cls = tokenizer.token_to_id("[CLS]")
            self._sep = tokenizer.token_to_id("[SEP]")
            self._words = known_words(tokenizer.get_vocab())
            self._session = session

    @property
    def holdout_sources(self) -> tuple[str, ...]:
        """Whole data sources the model was never trained on (its TRAINING.json)."""
        import json

        try:
            training = json.loads(self._files().joinpath("TRAINING.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ()
        return tuple(training.get("holdout_sources") or ())

    @property
    def categories(self) -> list[HarmCategory]:
        self.load()
        return [HarmCategory(c) for c in self.config["categories"]]

    def windows(self, text: str) -> list[tuple[list[int], Span]]:
        """Token windows of at most the model's length, overlapping, with their spans."""
        self.load()
        enc = self._tokenizer.encode(text, add_special_tokens=False)
        ids, offsets = enc.ids, enc.offsets
        size = int(self.config["max_tokens"]) - 2
        stride = min(size, int(self.config.get("stride_tokens", size)))
        if not ids:
            return [([self._cls, self._sep], Span(start=0, end=len(text)))]
        out = []
        start = 0
        while True:
            end = min(start + size, len(ids))
            span = Span(start=offsets[start][0], end=offsets[end - 1][1])
            out.append(([self._cls, *ids[start:end], self._sep], span))
            if end >= len(ids):
                return out
            start += stride

    def _run(self, windows: list[list[int]]) -> np.ndarray:
        width = max(len(w) for w in windows)
        ids = np.zeros((len(windows), width), dtype=np.int64)
        mask = np.zeros((len(windows), width), dtype=np.int64)
        for i, w in enumerate(windows):
            ids[i, : len(w)] = w
            mask[i, : len(w)] = 1
        scores: np.ndarray = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return scores

    def raw_scores(
        self, texts: Sequence[str], *, stop: Any = None, checkpoint: Any = None
    ) -> list[tuple[np.ndarray, list[Span]]]:
        """Per text: the worst window's score per category and that window's span."""
        self.load()
        spans_of: list[list[Span]] = []
        flat: list[tuple[int, list[int]]] = []
        for t, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidInputError(f"text must be a str, not {type(text).__name__}")
            text = clean(text)
            wins = self.windows(text)
            spans = [s for _, s in wins]
            # A de-obfuscated reading ("k i l l", "k1ll", "kys") is scored beside the text;
            # the worse window wins, and its span points into the original.
            folded = reading(text, self._words)
            if folded is not None:
                extra = self.windows(folded.text)
                wins = wins + extra
                spans += [_span(folded.span(s.start, s.end)) for _, s in extra]
            spans_of.append(spans)
            flat.extend((t, ids) for ids, _ in wins)
        # Similar lengths in one batch: padding costs as much as real tokens.
        order = sorted(range(len(flat)), key=lambda i: len(flat[i][1]))
        scores = np.zeros((len(flat), len(self.config["categories"])), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            if stop is not None and stop.is_set():  # the caller timed out: stop burning the cores
                raise Cancelled()
            if checkpoint is not None and start:
                checkpoint()  # let a short check that arrived meanwhile go first
            idx = order[start : start + self.batch_size]
            scores[idx] = self._run([flat[i][1] for i in idx])
        out = []
        pos = 0
        for spans in spans_of:
            block = scores[pos : pos + len(spans)]
            pos += len(spans)
            worst = block.argmax(axis=0)
            out.append((block.max(axis=0), [spans[w] for w in worst]))
        return out

    def severity_matrix(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Severities (texts x categories, 0-7) and the continuous severities they floor."""
        self.load()
        knots = [self.config["calibration"][c] for c in self.config["categories"]]
        raw = np.array([best for best, _ in self.raw_scores(texts)]).reshape(len(texts), len(knots))
        cont = np.column_stack([continuous_severity(raw[:, k], kn) for k, kn in enumerate(knots)])
        return np.clip(np.floor(cont), 0, 7).astype(int), cont

    def analyze_many(
        self,
        texts: Sequence[str],
        categories: Sequence[HarmCategory] | None = None,
        output_type: OutputType = OutputType.EIGHT_SEVERITY_LEVELS,
        *,
        stop: Any = None,
        checkpoint: Any = None,
    ) -> list[list[HarmScore]]:
        """Like text:analyze for each text: one :class:`HarmScore` per requested category."""
        self.load()
        order = [HarmCategory(c) for c in self.config["categories"]]
        wanted = list(categories) if categories else order
        knots = self.config["calibration"]
        results = []
        for best, spans in self.raw_scores(texts, stop=stop, checkpoint=checkpoint):
            row = []
            for cat in wanted:
                k = order.index(cat)
                severity = severity_of(float(best[k]), knots[cat.value])
                if output_type == OutputType.FOUR_SEVERITY_LEVELS:
                    severity = to_four_levels(severity)
                row.append(HarmScore(cat, severity, float(best[k]), spans[k]))
            results.append(row)
        return results

    def analyze(
        self,
        text: str,
        categories: Sequence[HarmCategory] | None = None,
        output_type: OutputType = OutputType.EIGHT_SEVERITY_LEVELS,
        *,
        stop: Any = None,
        checkpoint: Any = None,
    ) -> list[HarmScore]:
        return self.analyze_many([text], categories, output_type, stop=stop, checkpoint=checkpoint)[0]


def _span(bounds: tuple[int, int]) -> Span:
    return Span(start=bounds[0], end=bounds[1])


_default: HarmAnalyzer | None = None
_default_lock = threading.Lock()


def default_harm_analyzer() -> HarmAnalyzer:
    """The shipped model, one per process (loaded on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = HarmAnalyzer()
        return _default
