"""Text embeddings offline: ONNX Runtime + tokenizers, weights shipped in the package.

The default model is all-MiniLM-L6-v2 (see ``guardrail/_weights/minilm_l6_v2/LICENSE``),
converted by ``scripts/export_embedder.py``. Point ``model_dir`` at another folder with
``model.onnx``, ``tokenizer.json`` and ``config.json`` to use another local model.
Nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..._evasion import known_words, reading
from ..._store import LEGACY_ENCODER
from ..._text import clean
from ._onnx import check_model_dir, load_model

__all__ = ["DEFAULT_MODEL", "Embedder", "default_embedder"]

DEFAULT_MODEL = "minilm_l6_v2"


def _default_dir() -> Any:
    # One segment per joinpath: Traversables of Python 3.10 take a single child.
    return resources.files("guardrail").joinpath("_weights").joinpath(DEFAULT_MODEL)


class Embedder:
    """Embeds texts as L2-normalized float32 vectors; batched, cached, thread-safe.

    **Parameters:**

    * **model_dir** - *(optional)* a folder with model.onnx, tokenizer.json, config.json.
    * **batch_size** - *(optional)* texts per ONNX run.
    * **cache_size** - *(optional)* embeddings kept (LRU), 0 to disable.
    * **threads** - *(optional)* ONNX Runtime intra-op threads (default: up to 4 cores).
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        batch_size: int = 32,
        cache_size: int = 10_000,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else None
        if self.model_dir is not None:
            check_model_dir(self.model_dir, "embedding model", "scripts/export_embedder.py")
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._session: Any = None
        self._tokenizer: Any = None
        self._words: frozenset[str] = frozenset()
        self.config: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<Embedder {self.model_dir or DEFAULT_MODEL}>"

    def _files(self) -> Any:
        return self.model_dir if self.model_dir is not None else _default_dir()

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise)."""
        with self._lock:
            if self._session is not None:
                return
            config, tokenizer, session = load_model(self._files(), self.threads, "embedding model", "")
            self.config = config
            tokenizer.enable_truncation(int(config.get("max_length", 256)))
            tokenizer.enable_padding()
            self._session = session
            self._inputs = [i.name for i in self._session.get_inputs()]
            self._tokenizer = tokenizer
            self._words = known_words(tokenizer.get_vocab())

    @property
    def model_id(self) -> str:
        """Names the vector space: stored vectors made by another model are recomputed."""
        self.load()
        return str(self.config.get("id") or self.config.get("name") or self._files())

    def made(self, encoder: str | None) -> bool:
        """Whether a vector the store tagged ``encoder`` is in this model's space (an
        untagged one was made by the only encoder there was before the tag)."""
        return (encoder or LEGACY_ENCODER) == self.model_id

    @property
    def dim(self) -> int:
        self.load()
        return int(self.config.get("dim", 384))

    @property
    def max_length(self) -> int:
        self.load()
        return int(self.config.get("max_length", 256))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), dim); equal texts are embedded once."""
        self.load()
        texts = [clean(t) for t in texts]
        out: list[np.ndarray | None] = [None] * len(texts)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is not None:
                    self._cache.move_to_end(text)
                    out[i] = hit
                else:
                    todo.setdefault(text, []).append(i)
        if todo:
            # Similar lengths per batch keep padding (wasted compute) low.
            pending = sorted(todo, key=len)
            for start in range(0, len(pending), self.batch_size):
                batch = pending[start : start + self.batch_size]
                vectors = self._run(batch)
                with self._lock:
                    for text, vec in zip(batch, vectors):
                        for i in todo[text]:
                            out[i] = vec
                        if self.cache_size:
                            self._cache[text] = vec
                            if len(self._cache) > self.cache_size:
                                self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(out)  # type: ignore[arg-type]

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def _run(self, batch: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(batch)
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        hidden = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def window_vectors(self, text: str) -> np.ndarray:
        """One vector per window of ``text`` (long texts are read in windows), for matching;
        a text with spelling tricks ("s e n d 1 B T C", "fr33") also gets the windows of its
        de-obfuscated reading, so matching takes the best of both."""
        self.load()
        pieces = [w for _, w in self.windows(text)]
        folded = reading(text, self._words)
        if folded is not None:
            pieces += [w for _, w in self.windows(folded.text)]
        return self.embed(pieces)

    def windows(self, text: str, *, size: int = 1000, overlap: int = 200) -> list[tuple[int, str]]:
        """Overlapping character windows that fit the model, for long texts."""
        if len(text) <= size:
            return [(0, text)]
        out = []
        start = 0
        while start < len(text):
            end = min(len(text), start + size)
            if end < len(text):
                cut = text.rfind(" ", start + size - overlap, end)
                end = cut if cut > start else end
            out.append((start, text[start:end]))
            if end >= len(text):
                break
            start = max(end - overlap, start + 1)
        return out


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """One shared Embedder of the shipped model per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Embedder()
        return _default
