"""Local incidents (text and image): the service's incident resource model, offline.

Text samples are embedded with the shipped sentence model; a text hits an incident when
its cosine similarity to the nearest deployed sample reaches the incident's threshold.
Image samples are PDQ-hashed (with rotations and mirrors); an image hits when its hash
is within the threshold's bit distance of a sample. Only deployed samples count: add
samples, then deploy, as with the service.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
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
from ..._models import Finding, FindingKind
from ..._resources import (
    INCIDENT_LIMITS,
    Incident,
    IncidentImage,
    IncidentSample,
    IncidentStatus,
    check_incident_name,
)
from ..._store import BaseStore, Connection, Row, new_revision, utc_now
from ..._text import clean
from .embedder import Embedder
from .images import PDQ_BITS, hamming, image_hash, load_image, sample_hashes

__all__ = ["DEFAULT_IMAGE_DISTANCE", "DEFAULT_TEXT_THRESHOLD", "Incidents"]

DEFAULT_TEXT_THRESHOLD = 0.60
"""Cosine similarity to the nearest sample. Chosen on the paraphrase set of
benchmarks/incident_paraphrase_set.py by one rule: the lowest threshold at which benign
text hits at most one time in a thousand (0.10%); paraphrase recall there is 0.96 (sweep
in benchmarks/README.md). Raise it per incident for tighter matching."""
DEFAULT_IMAGE_DISTANCE = 31
"""PDQ bit distance (of 256) at or below which images match: Meta's recommended cut-off."""


@dataclass
class _Group:
    key: tuple[Any, ...]
    token: tuple[int, int]
    padded: np.ndarray  # (incidents, longest) sample indexes; padding = index of a -inf slot
    names: list[str]
    thresholds: list[float]
    ids: list[str]
    texts: list[str | None]
    matrix: np.ndarray


@dataclass
class _Deployed:
    revision: str
    ids: list[str]
    texts: list[str | None]
    matrix: np.ndarray  # (n, dim) embeddings, or (n, 8, 32) packed PDQ hashes


class Incidents:
    """Text (``kind="text"``) or image (``kind="image"``) incidents in the local store."""

    def __init__(self, store: BaseStore, kind: str, embedder: Embedder) -> None:
        if kind not in ("text", "image"):
            raise InvalidInputError("kind must be 'text' or 'image'")
        self._store = store
        self.kind = kind
        self._embedder = embedder
        self._cache: dict[str, _Deployed] = {}
        self._groups: dict[tuple[str, ...], _Group] = {}
        self._lock = threading.Lock()
        store.on_change(self._refresh)

    # -- incidents -----------------------------------------------------------------------

    def create_or_update(self, name: str, *, description: str | None = None, threshold: float | None = None) -> Incident:
        _check_name(name)
        if description is not None and not isinstance(description, str):
            raise InvalidInputError("description must be a string")
        if threshold is not None:
            self._check_threshold(threshold)
        with self._store.transaction() as conn:
            exists = self._row(conn, name) is not None
            if not exists:
                count = conn.execute("SELECT count(*) FROM incidents WHERE kind = ?", (self.kind,)).fetchone()[0]
                if count >= INCIDENT_LIMITS.incidents_per_kind:
                    raise LimitExceededError(
                        f"there are already {count} {self.kind} incidents, the limit; delete one first"
                    )
                conn.execute(
                    "INSERT INTO incidents(kind, name, description, threshold) VALUES (?, ?, ?, ?)",
                    (self.kind, name, description or "", threshold),
                )
            else:
                if description is not None:
                    conn.execute("UPDATE incidents SET description = ? WHERE kind = ? AND name = ?",
                                 (description, self.kind, name))
                if threshold is not None:
                    conn.execute("UPDATE incidents SET threshold = ? WHERE kind = ? AND name = ?",
                                 (threshold, self.kind, name))
        return self.get(name)

    def get(self, name: str) -> Incident:
        _check_name(name)
        with self._store.read() as conn:
            row = self._row(conn, name)
            if row is None:
                raise self._unknown(name)
            return self._incident(conn, row)

    def list(self) -> list[Incident]:
        with self._store.read() as conn:
            rows = conn.execute("SELECT * FROM incidents WHERE kind = ? ORDER BY name", (self.kind,)).fetchall()
            return [self._incident(conn, r) for r in rows]

    def delete(self, name: str) -> None:
        _check_name(name)
        with self._store.transaction() as conn:
            if conn.execute("DELETE FROM incidents WHERE kind = ? AND name = ?", (self.kind, name)).rowcount == 0:
                raise self._unknown(name)

    # -- samples -------------------------------------------------------------------------

    def add_samples(self, name: str, samples: Sequence[Any]) -> list[IncidentSample]:
        """Add samples (text: strings; image: bytes, base64, paths or URLs). All are
        validated (and embedded or hashed) before anything is written."""
        _check_name(name)
        if isinstance(samples, (str, bytes)) or not isinstance(samples, Sequence) or not samples:
            raise EmptyTextError("give a non-empty list of samples")
        if len(samples) > INCIDENT_LIMITS.samples_per_incident:
            raise LimitExceededError(
                f"{len(samples)} samples in one call; an incident holds at most "
                f"{INCIDENT_LIMITS.samples_per_incident}"
            )
        self.get(name)  # unknown incident: fail before the expensive part
        rows: list[tuple[Any, ...]] = []
        encoder = None
        if self.kind == "text":
            texts = [_check_sample_text(s, i) for i, s in enumerate(samples)]
            vectors = self._embedder.embed(texts)
            encoder = self._embedder.model_id
            rows = [(t, None, v.astype(np.float32).tobytes(), None) for t, v in zip(texts, vectors)]
        else:
            for i, s in enumerate(samples):
                try:
                    data = load_image(s)
                except (InvalidInputError, LimitExceededError) as exc:
                    raise type(exc)(f"sample {i}: {exc}") from None
                hashes, quality = sample_hashes(data)
                rows.append((None, data, hashes.tobytes(), quality))
        out = []
        with self._store.transaction() as conn:
            if self._row(conn, name) is None:
                raise self._unknown(name)
            have = conn.execute(
                "SELECT count(*), coalesce(max(seq), 0) FROM incident_samples WHERE kind = ? AND incident = ?",
                (self.kind, name),
            ).fetchone()
            if have[0] + len(rows) > INCIDENT_LIMITS.samples_per_incident:
                raise LimitExceededError(
                    f"incident {name!r} has {have[0]} samples; adding {len(rows)} would pass the limit "
                    f"of {INCIDENT_LIMITS.samples_per_incident}"
                )
            seq = have[1]
            for text, image, vector, quality in rows:
                seq += 1
                sample_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO incident_samples(id, kind, incident, text, image, vector, quality, seq, encoder) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sample_id, self.kind, name, text, image, vector, quality, seq, encoder),
                )
                out.append(self._sample_model(sample_id, text, image))
            self._touch(conn, name)
        return out

    def remove_samples(self, name: str, sample_ids: Sequence[str]) -> None:
        """Remove samples; this takes effect at once, without a new deploy."""
        _check_name(name)
        if isinstance(sample_ids, str) or not sample_ids:
            raise InvalidInputError("sample_ids must be a non-empty list of sample ids")
        dupes = sorted({i for i in sample_ids if list(sample_ids).count(i) > 1})
        if dupes:
            raise ConflictError(f"sample id(s) given more than once: {', '.join(dupes)}")
        with self._store.transaction() as conn:
            if self._row(conn, name) is None:
                raise self._unknown(name)
            marks = ",".join("?" * len(sample_ids))
            found = {r[0] for r in conn.execute(
                f"SELECT id FROM incident_samples WHERE kind = ? AND incident = ? AND id IN ({marks})",
                (self.kind, name, *sample_ids))}
            missing = [i for i in sample_ids if i not in found]
            if missing:
                raise NotFoundError(f"incident {name!r} has no sample(s) {', '.join(missing)}")
            conn.execute(f"DELETE FROM incident_samples WHERE id IN ({marks})", tuple(sample_ids))
            self._touch(conn, name)

    def list_samples(self, name: str) -> list[IncidentSample]:
        _check_name(name)
        with self._store.read() as conn:
            if self._row(conn, name) is None:
                raise self._unknown(name)
            rows = conn.execute(
                "SELECT id, text, image FROM incident_samples WHERE kind = ? AND incident = ? ORDER BY seq",
                (self.kind, name)).fetchall()
        return [self._sample_model(r["id"], r["text"], r["image"]) for r in rows]

    def get_sample(self, name: str, sample_id: str) -> IncidentSample:
        _check_name(name)
        with self._store.read() as conn:
            row = conn.execute(
                "SELECT id, text, image FROM incident_samples WHERE kind = ? AND incident = ? AND id = ?",
                (self.kind, name, sample_id)).fetchone()
        if row is None:
            raise NotFoundError(f"incident {name!r} has no sample {sample_id!r}")
        return self._sample_model(row["id"], row["text"], row["image"])

    def deploy(self, name: str) -> str:
        """Make the current samples live. Returns the operation status (``Succeeded``)."""
        _check_name(name)
        with self._store.transaction() as conn:
            if self._row(conn, name) is None:
                raise self._unknown(name)
            n = conn.execute("SELECT count(*) FROM incident_samples WHERE kind = ? AND incident = ?",
                             (self.kind, name)).fetchone()[0]
            if n == 0:
                raise ConflictError(f"incident {name!r} has no samples to deploy; add samples first")
            conn.execute("UPDATE incident_samples SET deployed = 1 WHERE kind = ? AND incident = ?", (self.kind, name))
            conn.execute(
                "UPDATE incidents SET deployed_at = ?, revision = ? WHERE kind = ? AND name = ?",
                (utc_now(), new_revision(), self.kind, name))
        return "Succeeded"

    # -- detection -----------------------------------------------------------------------

    def detect(
        self,
        value: Any,
        names: Sequence[str],
        *,
        thresholds: dict[str, float] | None = None,
        include_misses: bool = False,
    ) -> list[Finding]:
        """The incidents hit, best first, each with its score and nearest sample.

        Like the service's detectIncidents, only hits come back; ``include_misses`` adds
        the other incidents (``detected=False``) with their best score.

        ``value`` is a text for text incidents, an image (any form :func:`load_image`
        takes) for image incidents. Every incident must exist and be deployed.
        """
        if isinstance(names, str) or not names:
            raise InvalidInputError("name at least one incident")
        group = self._group(tuple(dict.fromkeys(names)))
        thresholds = thresholds or {}
        if self.kind == "text":
            if not isinstance(value, str) or not value:  # whitespace is text: it just hits nothing
                raise EmptyTextError("the text to check is empty")
            queries = self._embedder.window_vectors(value)
            # (samples, dim) @ (dim, windows): contiguous, ~20x faster than the transposed form
            per_sample = (group.matrix @ queries.T).max(axis=1)
        else:
            query, _ = image_hash(load_image(value))
            per_sample = 1.0 - hamming(query, group.matrix).min(axis=1) / PDQ_BITS
        # Best sample of every incident at once: a padded (incidents x samples) index matrix
        # whose padding points at a trailing -inf.
        padded_scores = np.append(per_sample, -np.inf)[group.padded]
        bests = group.padded[np.arange(len(group.names)), np.argmax(padded_scores, axis=1)]
        findings = []
        for name, best, own in zip(group.names, bests.tolist(), group.thresholds):
            score = float(per_sample[best])
            threshold = thresholds.get(name) or own
            if not include_misses and score < threshold - 1e-9:
                continue
            # model_construct: every field is built here from checked values
            findings.append(Finding.model_construct(
                kind=FindingKind.INCIDENT, name=name, severity=None, score=round(score, 4), span=None,
                detected=score >= threshold - 1e-9, item_id=group.ids[best], item_text=group.texts[best],
                version=None,
            ))
        findings.sort(key=lambda f: -(f.score or 0.0))
        return findings

    # -- helpers -------------------------------------------------------------------------

    def _refresh(self, token: Hashable) -> None:
        """Rebuild the groups in use after a change (the store calls this off the request
        path, before checks see ``token``); a group that no longer resolves is dropped and
        its next check says why."""
        with self._lock:
            in_use = list(self._groups)
        for names in in_use:
            try:
                self._group(names, token=token)
            except GuardrailError:
                with self._lock:
                    self._groups.pop(names, None)

    def _group(self, names: tuple[str, ...], *, token: Hashable | None = None) -> _Group:
        """The deployed samples of ``names`` as one matrix, rebuilt only after a change."""
        refreshing = token is not None
        token = self._store.change_token() if token is None else token
        with self._lock:
            cached = self._groups.get(names)
            if cached is not None and cached.token == token and not refreshing:
                return cached  # nothing in the store changed since this group was built
        for name in names:
            _check_name(name)
        marks = ",".join("?" * len(names))
        with self._store.read() as conn:
            rows = {r["name"]: r for r in conn.execute(
                f"SELECT name, deployed_at, revision, threshold FROM incidents WHERE kind = ? AND name IN ({marks})",
                (self.kind, *names))}
        for name in names:
            row = rows.get(name)
            if row is None:
                raise self._unknown(name)
            if row["deployed_at"] is None:
                raise ConflictError(
                    f"incident {name!r} is not deployed; deploy it first (`guardrail incident deploy {name}`)"
                )
        key = tuple((n, rows[n]["revision"], rows[n]["threshold"]) for n in names)
        with self._lock:
            cached = self._groups.get(names)
            if cached is not None and cached.key == key:
                cached.token = token
                return cached
        parts = [self._deployed(n, rows[n]["revision"]) for n in names]
        starts = np.cumsum([0] + [len(p.ids) for p in parts[:-1]]).tolist()
        total = sum(len(p.ids) for p in parts)
        padded = np.full((len(parts), max(len(p.ids) for p in parts)), total, dtype=np.int64)
        for row, (start, p) in enumerate(zip(starts, parts)):
            padded[row, : len(p.ids)] = np.arange(start, start + len(p.ids))
        group = _Group(
            key=key,
            token=token,
            padded=padded,
            names=list(names),
            thresholds=[self._default_threshold() if rows[n]["threshold"] is None else float(rows[n]["threshold"])
                        for n in names],
            ids=[i for p in parts for i in p.ids],
            texts=[t for p in parts for t in p.texts],
            matrix=np.concatenate([p.matrix for p in parts]),
        )
        with self._lock:
            self._groups[names] = group
            while len(self._groups) > 64:
                self._groups.pop(next(iter(self._groups)))
        return group

    def _deployed(self, name: str, revision: str) -> _Deployed:
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached.revision == revision:
                return cached
        with self._store.read() as conn:
            rows = conn.execute(
                "SELECT id, text, vector, encoder FROM incident_samples WHERE kind = ? AND incident = ? "
                "AND deployed = 1 ORDER BY seq", (self.kind, name)).fetchall()
        if not rows:
            raise ConflictError(f"incident {name!r} has no deployed samples; add samples and deploy")
        if self.kind == "text":
            matrix = self._vectors(rows)
        else:
            matrix = np.stack([np.frombuffer(r["vector"], dtype=np.uint8).reshape(8, 32) for r in rows])
        d = _Deployed(revision, [r["id"] for r in rows], [r["text"] for r in rows], matrix)
        with self._lock:
            self._cache[name] = d
        return d

    def _vectors(self, rows: list[Row]) -> np.ndarray:
        """The samples' stored embeddings; those another encoder made are embedded again
        (in memory: replicas on other models may share the store)."""
        stale = [i for i, r in enumerate(rows) if not self._embedder.made(r["encoder"])]
        fresh = dict(zip(stale, self._embedder.embed([rows[i]["text"] for i in stale]))) if stale else {}
        return np.stack([fresh[i] if i in fresh else np.frombuffer(r["vector"], dtype=np.float32)
                         for i, r in enumerate(rows)]).astype(np.float32)

    def _default_threshold(self) -> float:
        return DEFAULT_TEXT_THRESHOLD if self.kind == "text" else 1.0 - DEFAULT_IMAGE_DISTANCE / PDQ_BITS

    def _check_threshold(self, threshold: float) -> None:
        if not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) <= 1.0:
            raise InvalidInputError("threshold must be a number in (0, 1]")

    def _row(self, conn: Connection, name: str) -> Row | None:
        return conn.execute("SELECT * FROM incidents WHERE kind = ? AND name = ?", (self.kind, name)).fetchone()

    def _incident(self, conn: Connection, row: Row) -> Incident:
        pending = conn.execute(
            "SELECT count(*) FROM incident_samples WHERE kind = ? AND incident = ? AND deployed = 0",
            (self.kind, row["name"])).fetchone()[0]
        if row["deployed_at"] is None:
            status = IncidentStatus.NOT_DEPLOYED
        elif pending:
            status = IncidentStatus.PENDING
        else:
            status = IncidentStatus.DEPLOYED
        return Incident(
            incident_name=row["name"], description=row["description"], kind=self.kind, status=status,
            created=row["created_at"], last_updated=row["updated_at"], threshold=row["threshold"],
        )

    def _sample_model(self, sample_id: str, text: str | None, image: bytes | None) -> IncidentSample:
        if self.kind == "text":
            return IncidentSample(incident_sample_id=sample_id, text=text)
        import base64

        return IncidentSample(
            incident_sample_id=sample_id,
            image=IncidentImage(content=base64.b64encode(image).decode("ascii") if image else None),
        )

    def _touch(self, conn: Connection, name: str) -> None:
        conn.execute(
            "UPDATE incidents SET updated_at = ?, revision = ? WHERE kind = ? AND name = ?",
            (utc_now(), new_revision(), self.kind, name))

    def _unknown(self, name: str) -> NotFoundError:
        flag = " --image" if self.kind == "image" else ""
        return NotFoundError(
            f"no {self.kind} incident named {name!r}; create it with `guardrail incident create {name}{flag}`"
        )


def _check_name(name: object) -> str:
    return check_incident_name(name)


def _check_sample_text(value: object, i: int) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"sample {i}: text incidents take strings, got {type(value).__name__}")
    if not value.strip():
        raise EmptyTextError(f"sample {i}: the text is empty")
    if len(value) >= INCIDENT_LIMITS.sample_text_length:
        raise LimitExceededError(
            f"sample {i}: {len(value)} characters; samples must be under {INCIDENT_LIMITS.sample_text_length}"
        )
    return clean(value)
