"""Local custom categories (standard): versions trained from JSONL, built in seconds.

A version is created from ``{"text", "isPositive"}`` lines (a file path, a URL, or a
list of dicts); building embeds the samples with the shipped sentence model and fits a
class-balanced logistic regression on them. Builds run in the background with a status
(NotStarted, Running, Succeeded, Failed with the error). Analysis without a version uses
the latest version that built; a failed build leaves the previous one in use.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._exceptions import (
    ConflictError,
    EmptyTextError,
    GuardrailError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
)
from ..._jsonl import parse_jsonl
from ..._models import Finding, FindingKind
from ..._resources import BuildStatus, CategoryVersion, check_category_name
from ..._store import BaseStore, Row, utc_now
from ..._text import clean
from .._base import CategoryRef
from .embedder import Embedder

__all__ = ["Categories", "parse_samples"]

logger = logging.getLogger("guardrail")
NAME_LENGTH = 128
MAX_SAMPLES = 10_000
MIN_POSITIVES = 50  # the service's guidance
BUILD_LEASE_SECONDS = 60.0  # renewed while the build runs; a replica that died loses it this long after
MAX_SAMPLE_TEXT = 10_000

# Neutral sentences written for guardrail (not from any data set), used as negatives when
# a version brings none, so a classifier can still be fitted.
BACKGROUND_NEGATIVES = (
    "What time does the library open on Saturdays?",
    "Can you recommend a good book about the history of Rome?",
    "I need a recipe for a quick vegetarian dinner.",
    "How do I convert Celsius to Fahrenheit?",
    "Please summarize this meeting in three bullet points.",
    "What's the weather like in Lisbon in spring?",
    "Help me write a polite email declining an invitation.",
    "Explain how photosynthesis works in simple terms.",
    "Which train goes from the airport to the city centre?",
    "My laptop battery drains fast; any tips?",
    "Translate 'good morning' into Spanish and French.",
    "What are some fun things to do with kids on a rainy day?",
    "How many cups are in a litre?",
    "Write a short poem about autumn leaves.",
    "What is the difference between a list and a tuple in Python?",
    "Suggest a name for my new bakery.",
    "How do I reset my router to factory settings?",
    "Thanks, that answer was really helpful!",
    "Can you check this paragraph for grammar mistakes?",
    "What's a good stretching routine after running?",
    "How long should I boil an egg for a soft yolk?",
    "Tell me a fun fact about octopuses.",
    "Plan a three-day itinerary for Kyoto.",
    "What does a project manager do all day?",
    "How can I improve my sleep schedule?",
    "List the planets in order from the sun.",
    "I'd like to learn to play the guitar; where do I start?",
    "What's the capital of Australia?",
    "Draft a birthday message for my colleague.",
    "How does compound interest work?",
    "The meeting has moved to 3 pm tomorrow.",
    "Our team shipped the new release last week.",
    "Please find the invoice attached to this message.",
    "The museum is closed for renovation until June.",
    "I enjoyed the concert, the band was great.",
    "Remember to water the plants while I'm away.",
    "The package should arrive by Thursday.",
    "We are looking for volunteers for the charity run.",
    "This recipe needs two eggs and a cup of flour.",
    "The printer on the second floor is out of toner.",
)


def parse_samples(source: Any, *, allowed_hosts: Sequence[str] = ()) -> tuple[list[dict[str, Any]], str]:
    """Samples from a JSONL path or URL, or a list of dicts; raises naming the bad line.
    ``allowed_hosts`` lets a URL reach hosts the SSRF check refuses (an internal blob store)."""
    if isinstance(source, (list, tuple)):
        lines = [json.dumps(x) if not isinstance(x, str) else x for x in source]
        where = "samples"
    elif isinstance(source, (str, Path)):
        where = str(source)
        if where.startswith(("http://", "https://")):
            from ..._fetch import fetch, shown

            url, where = where, shown(where)  # messages and the stored source never carry a SAS token

            # As image links: internal addresses refused, 3 redirects, bounded size.
            data = fetch(url, limit=32 * 1024 * 1024, timeout=30.0, allowed_hosts=allowed_hosts)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"{where} is not UTF-8 text") from None
        else:
            try:
                text = Path(source).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInputError(f"cannot read {where}: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise InvalidInputError(f"{where} is not UTF-8 text") from None
        lines = io.StringIO(text).read().splitlines()
    else:
        raise InvalidInputError("samples must be a JSONL file path, an http(s) URL, or a list of dicts")
    samples: list[dict[str, Any]] = []
    for number, row in parse_jsonl(lines, where):
        if not isinstance(row.get("text"), str):
            raise InvalidInputError(f'{where} line {number}: expected {{"text": "...", "isPositive": true|false}}')
        if not isinstance(row.get("isPositive"), bool):
            raise InvalidInputError(f"{where} line {number}: isPositive must be true or false")
        if not row["text"].strip():
            raise EmptyTextError(f"{where} line {number}: the text is empty")
        if len(row["text"]) > MAX_SAMPLE_TEXT:
            raise LimitExceededError(f"{where} line {number}: over {MAX_SAMPLE_TEXT:,} characters")
        samples.append({"text": clean(row["text"]), "isPositive": row["isPositive"]})
        if len(samples) > MAX_SAMPLES:
            raise LimitExceededError(f"{where}: more than {MAX_SAMPLES:,} samples")
    if not samples:
        raise EmptyTextError(f"{where} has no samples")
    if not any(s["isPositive"] for s in samples):
        raise InvalidInputError(f"{where} has no positive samples (isPositive: true)")
    return samples, where


def _fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, steps: int = 400, lr: float = 2.0) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression by full-batch gradient descent (tiny data)."""
    n, d = x.shape
    pos = max(1.0, float(y.sum()))
    neg = max(1.0, float(n - y.sum()))
    weight = np.where(y == 1, n / (2 * pos), n / (2 * neg))
    w = np.zeros(d, dtype=np.float64)
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = weight * (p - y)
        w -= lr * (x.T @ g / n + l2 * w)
        b -= lr * float(g.mean())
    return w.astype(np.float32), float(b)


class Categories:
    """Custom categories with versions, in the local store."""

    def __init__(self, store: BaseStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder
        self._models: dict[tuple[str, int, str | None], tuple[np.ndarray, float]] = {}
        # What a reference (name, version or None) resolved to, and the store token then.
        self._resolved: dict[tuple[str, int | None], tuple[Hashable, tuple[int, tuple[np.ndarray, float]]]] = {}
        store.on_change(self._refresh)
        self._threads: dict[tuple[str, int], threading.Thread] = {}
        self._lock = threading.Lock()

    def create_version(self, name: str, *, definition: str, samples: Any,
                       allowed_hosts: Sequence[str] = ()) -> CategoryVersion:
        """Store a new version (auto-incremented) of ``name``; build it with :meth:`build`."""
        _check_name(name)
        if not isinstance(definition, str) or not definition.strip():
            raise EmptyTextError("a category needs a definition")
        parsed, where = parse_samples(samples, allowed_hosts=allowed_hosts)
        positives = sum(1 for s in parsed if s["isPositive"])
        negatives = len(parsed) - positives
        warnings = []
        if positives < MIN_POSITIVES:
            warnings.append(f"only {positives} positive samples; the service's guidance is at least {MIN_POSITIVES}")
        if negatives == 0:
            warnings.append("no negative samples; generic background sentences are used as negatives")
        for w in warnings:
            logger.warning("category %s: %s", name, w)
        with self._store.transaction() as conn:
            version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM category_versions WHERE name = ?",
                                   (name,)).fetchone()[0]
            conn.execute(
                "INSERT INTO category_versions(name, version, definition, source, samples, positives, negatives,"
                " status, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, version, definition, where, json.dumps(parsed), positives, negatives,
                 BuildStatus.NOT_STARTED, json.dumps(warnings)),
            )
        return self.get(name, version)

    def build(self, name: str, version: int | None = None, *, wait: bool = False) -> CategoryVersion:
        """Start building ``version`` (default: the latest) in the background; ``wait``
        blocks until it ends. Returns the version with its status.

        A build runs once however many replicas ask: the first takes a lease in the store,
        the others see it Building (and, with ``wait``, wait for its result)."""
        current = self.get(name, version)
        key = (name, current.version)
        with self._lock:
            running = self._threads.get(key)
            if running is not None and running.is_alive():
                if wait:
                    running.join()
                return self.get(name, current.version)
            thread = None
            if self._claim(name, current.version):
                # Not a daemon: a process that exits right after starting a build (the CLI
                # without --wait) finishes the build first instead of dying inside the model.
                thread = threading.Thread(target=self._build, args=key, name=f"guardrail-build-{name}")
                self._threads[key] = thread
                thread.start()
        if wait and thread is not None:
            thread.join()
        elif wait:
            return self._await_other(name, current.version)
        return self.get(name, current.version)

    def _claim(self, name: str, version: int) -> bool:
        """Take the build lease of one version unless another replica holds a live one, or
        it is built already (a version's samples never change: its model would be the same)."""
        now = time.time()
        with self._store.transaction() as conn:
            row = conn.execute("SELECT status, lease_until FROM category_versions WHERE name = ? AND version = ?",
                               (name, version)).fetchone()
            if row is None:
                raise NotFoundError(f"custom category {name!r} has no version {version}")
            if row["status"] == BuildStatus.SUCCEEDED:
                return False
            if row["status"] == BuildStatus.RUNNING and (row["lease_until"] or 0) > now:
                return False
            conn.execute("UPDATE category_versions SET status = ?, error = NULL, lease_until = ? "
                         "WHERE name = ? AND version = ?", (BuildStatus.RUNNING, now + BUILD_LEASE_SECONDS,
                                                            name, version))
        return True

    def _await_other(self, name: str, version: int) -> CategoryVersion:
        """Wait for the replica holding the lease; build here if its lease runs out."""
        while True:
            current = self.get(name, version)
            if current.status != BuildStatus.RUNNING:
                return current
            with self._store.read() as conn:
                row = conn.execute("SELECT lease_until FROM category_versions WHERE name = ? AND version = ?",
                                   (name, version)).fetchone()
            if row is not None and (row["lease_until"] or 0) <= time.time():
                return self.build(name, version, wait=True)  # that replica died mid-build
            time.sleep(0.2)

    def join(self) -> None:
        """Wait for every build still running (the engine does before it closes the store)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join()

    def wait(self, name: str, version: int) -> CategoryVersion:
        thread = self._threads.get((name, version))
        if thread is not None:
            thread.join()
        return self.get(name, version)

    def _build(self, name: str, version: int) -> None:
        logger.info("building category %s v%s", name, version)
        try:
            with self._store.read() as conn:
                row = conn.execute("SELECT samples FROM category_versions WHERE name = ? AND version = ?",
                                   (name, version)).fetchone()
            if row is None:
                return  # deleted while queued
            texts, labels = _training_set(json.loads(row["samples"]))
            x = self._embed_renewing(name, version, texts)
            w, b = _fit(x, np.array(labels))
            blob = np.concatenate([w, np.array([b], dtype=np.float32)]).tobytes()
            with self._store.transaction() as conn:
                conn.execute(
                    "UPDATE category_versions SET status = ?, error = NULL, model = ?, encoder = ?, "
                    "built_at = ?, lease_until = NULL WHERE name = ? AND version = ?",
                    (BuildStatus.SUCCEEDED, blob, self._embedder.model_id, utc_now(), name, version))
        except Exception as exc:  # the status carries the failure; the previous version stays usable
            logger.exception("building category %s v%s failed", name, version)
            try:
                self._set_status(name, version, BuildStatus.FAILED, f"{type(exc).__name__}: {exc}")
            except Exception:  # pragma: no cover - store gone
                pass

    def _embed_renewing(self, name: str, version: int, texts: list[str]) -> np.ndarray:
        """Embed in chunks, renewing the build lease as it goes."""
        parts, renewed = [], time.monotonic()
        for start in range(0, len(texts), 256):
            parts.append(self._embedder.embed(texts[start : start + 256]))
            if time.monotonic() - renewed > BUILD_LEASE_SECONDS / 3:
                with self._store.transaction() as conn:
                    conn.execute("UPDATE category_versions SET lease_until = ? WHERE name = ? AND version = ?",
                                 (time.time() + BUILD_LEASE_SECONDS, name, version))
                renewed = time.monotonic()
        return np.concatenate(parts).astype(np.float64)

    def _set_status(self, name: str, version: int, status: str, error: str | None) -> None:
        with self._store.transaction() as conn:
            conn.execute("UPDATE category_versions SET status = ?, error = ? WHERE name = ? AND version = ?",
                         (status, error, name, version))

    def get(self, name: str, version: int | None = None) -> CategoryVersion:
        """A version, or the latest one."""
        _check_name(name)
        with self._store.read() as conn:
            if version is None:
                row = conn.execute("SELECT * FROM category_versions WHERE name = ? ORDER BY version DESC LIMIT 1",
                                   (name,)).fetchone()
            else:
                row = conn.execute("SELECT * FROM category_versions WHERE name = ? AND version = ?",
                                   (name, version)).fetchone()
        if row is None:
            if version is None:
                raise NotFoundError(f"no custom category named {name!r}; create it with `guardrail category create`")
            raise NotFoundError(f"custom category {name!r} has no version {version}")
        return _version(row)

    def list(self) -> list[CategoryVersion]:
        """The latest version of every category."""
        with self._store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM category_versions v WHERE version = "
                "(SELECT max(version) FROM category_versions WHERE name = v.name) ORDER BY name").fetchall()
        return [_version(r) for r in rows]

    def delete(self, name: str, version: int | None = None) -> None:
        """Delete one version, or the whole category."""
        _check_name(name)
        with self._store.transaction() as conn:
            if version is None:
                n = conn.execute("DELETE FROM category_versions WHERE name = ?", (name,)).rowcount
            else:
                n = conn.execute("DELETE FROM category_versions WHERE name = ? AND version = ?",
                                 (name, version)).rowcount
        if n == 0:
            self.get(name, version)  # raises the right NotFoundError
        with self._lock:
            for key in [k for k in self._models if k[0] == name and (version is None or k[1] == version)]:
                del self._models[key]

    def analyze(self, text: str, categories: Sequence[CategoryRef | dict[str, Any] | str]) -> list[Finding]:
        """For each category: detected and a score (probability) on ``text``."""
        if not isinstance(text, str) or not text:  # whitespace is text: it just scores low
            raise EmptyTextError("the text to analyze is empty")
        refs = [_ref(c) for c in categories]
        if not refs:
            raise InvalidInputError("name at least one category")
        models = [(ref, *self._model(ref)) for ref in refs]
        x = self._embedder.window_vectors(text).astype(np.float32)
        out = []
        for ref, version, (w, b) in models:
            score = float((1.0 / (1.0 + np.exp(-(x @ w + b)))).max())
            out.append(Finding(kind=FindingKind.CUSTOM_CATEGORY, name=ref.name, score=round(score, 4),
                               detected=score >= 0.5, version=version))
        return out

    def _model(self, ref: CategoryRef) -> tuple[int, tuple[np.ndarray, float]]:
        """The version and weights ``ref`` names now; the store is read only after a change."""
        token = self._store.change_token()
        key = (ref.name, ref.version)
        with self._lock:
            hit = self._resolved.get(key)
            if hit is not None and hit[0] == token:
                return hit[1]
        resolved = self._resolve(ref)
        with self._lock:
            self._resolved[key] = (token, resolved)
        return resolved

    def _refresh(self, token: Hashable) -> None:
        """Resolve the references in use again after a change (the store calls this off the
        request path, before checks see ``token``); one that fails is dropped and its next
        check says why."""
        with self._lock:
            in_use = list(self._resolved)
        for name, version in in_use:
            try:
                resolved = self._resolve(CategoryRef(name, version))
            except GuardrailError:
                with self._lock:
                    self._resolved.pop((name, version), None)
                continue
            with self._lock:
                self._resolved[(name, version)] = (token, resolved)

    def _resolve(self, ref: CategoryRef) -> tuple[int, tuple[np.ndarray, float]]:
        with self._store.read() as conn:
            if ref.version is None:
                row = conn.execute(
                    "SELECT version, status, model, built_at, encoder FROM category_versions WHERE name = ? AND status = ? "
                    "ORDER BY version DESC LIMIT 1", (ref.name, BuildStatus.SUCCEEDED)).fetchone()
                if row is None:
                    self.get(ref.name)  # unknown name -> NotFoundError
                    raise ConflictError(
                        f"custom category {ref.name!r} has no built version; run `guardrail category build {ref.name}`"
                    )
            else:
                row = conn.execute("SELECT version, status, model, built_at, encoder FROM category_versions "
                                   "WHERE name = ? AND version = ?",
                                   (ref.name, ref.version)).fetchone()
                if row is None:
                    raise NotFoundError(f"custom category {ref.name!r} has no version {ref.version}")
                if row["status"] != BuildStatus.SUCCEEDED:
                    raise ConflictError(
                        f"custom category {ref.name!r} version {ref.version} is not built (status {row['status']})"
                    )
        # built_at in the key: another process (a server worker) may have deleted, re-created
        # and rebuilt the same version number since this one cached it.
        key = (ref.name, int(row["version"]), row["built_at"])
        with self._lock:
            if key in self._models:
                return key[1], self._models[key]
        if self._embedder.made(row["encoder"]):
            arr = np.frombuffer(row["model"], dtype=np.float32)
            model = (arr[:-1].copy(), float(arr[-1]))
        else:
            model = self._refit(ref.name, key[1])  # built by another encoder: its weights mean nothing here
        with self._lock:
            self._models[key] = model
        return key[1], model

    def _refit(self, name: str, version: int) -> tuple[np.ndarray, float]:
        """The version's classifier fitted again on this engine's embeddings (in memory)."""
        with self._store.read() as conn:
            row = conn.execute("SELECT samples FROM category_versions WHERE name = ? AND version = ?",
                               (name, version)).fetchone()
        if row is None:
            raise NotFoundError(f"custom category {name!r} has no version {version}")
        texts, labels = _training_set(json.loads(row["samples"]))
        w, b = _fit(self._embedder.embed(texts).astype(np.float64), np.array(labels))
        return w, b


def _training_set(samples: list[dict[str, Any]]) -> tuple[list[str], list[float]]:
    texts = [s["text"] for s in samples]
    labels = [1.0 if s["isPositive"] else 0.0 for s in samples]
    if not any(label == 0.0 for label in labels):
        texts += list(BACKGROUND_NEGATIVES)
        labels += [0.0] * len(BACKGROUND_NEGATIVES)
    return texts, labels


def _ref(c: CategoryRef | dict[str, Any] | str) -> CategoryRef:
    if isinstance(c, CategoryRef):
        return c
    if isinstance(c, str):
        name, _, version = c.partition(":")
        if version and not version.isdigit():
            raise InvalidInputError(f"category {c!r}: the version after ':' must be a number")
        return CategoryRef(name, int(version) if version else None)
    if isinstance(c, dict) and isinstance(c.get("categoryName"), str):
        return CategoryRef(c["categoryName"], c.get("version"))
    raise InvalidInputError('categories are CategoryRef, "name[:version]" or {"categoryName", "version"?}')


def _check_name(name: object) -> str:
    return check_category_name(name)


def _version(row: Row) -> CategoryVersion:
    return CategoryVersion(
        category_name=row["name"], definition=row["definition"], version=row["version"], status=row["status"],
        sample_blob_url=row["source"], created_time=row["created_at"], error=row["error"],
        positives=row["positives"], negatives=row["negatives"], warnings=tuple(json.loads(row["warnings"])),
    )
