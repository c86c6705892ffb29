"""The store: blocklists, incidents and custom categories, on SQLite (default) or PostgreSQL.

Every change runs in one transaction, so a crash leaves the store as it was before the
change. Resource code speaks one small SQL dialect to either backend: ``?`` marks, rows
read by index or column name, timestamps and revisions made here rather than by SQL
functions. The SQLite file is marked as ours with ``application_id`` and carries its
schema version in ``user_version``; PostgreSQL is in ``_store_postgres.py``.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import sys
import threading
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator

from ._exceptions import StoreError

logger = logging.getLogger("guardrail.store")

__all__ = ["SCHEMA_VERSION", "BaseStore", "Store", "default_store_path", "is_postgres_url", "open_store"]

# What resource code gets from ``transaction()`` / ``read()``: ``execute(sql, params)``
# returning a cursor with ``fetchone``, ``fetchall`` and ``rowcount``; rows index by
# position and by column name (sqlite3.Row, or the PostgreSQL store's row).
Connection = Any
Row = Any

STORE_ENV = "GUARDRAIL_STORE"
WATCH_SECONDS = 0.1  # how often a SQLite store looks for other processes' changes
APPLICATION_ID = 0x47524C31  # "GRL1"
SCHEMA_VERSION = 4

# Each entry upgrades the schema from version i to i + 1; written once for both stores,
# with the column types and defaults that differ as {placeholders} (SQLITE, POSTGRES).
MIGRATION_TEMPLATES: tuple[str, ...] = (
    """
    CREATE TABLE blocklists (
        name        TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        revision    TEXT NOT NULL DEFAULT {revision},
        created_at  TEXT NOT NULL DEFAULT {now},
        updated_at  TEXT NOT NULL DEFAULT {now}
    );
    CREATE TABLE blocklist_items (
        id          TEXT PRIMARY KEY,
        blocklist   TEXT NOT NULL REFERENCES blocklists(name) ON DELETE CASCADE,
        text        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        is_regex    INTEGER NOT NULL DEFAULT 0,
        seq         INTEGER NOT NULL,
        UNIQUE (blocklist, text, is_regex)
    );
    CREATE INDEX blocklist_items_by_list ON blocklist_items(blocklist, seq);
    """,
    """
    CREATE TABLE incidents (
        kind        TEXT NOT NULL,
        name        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        threshold   {real},
        deployed_at TEXT,
        revision    TEXT NOT NULL DEFAULT {revision},
        created_at  TEXT NOT NULL DEFAULT {now},
        updated_at  TEXT NOT NULL DEFAULT {now},
        PRIMARY KEY (kind, name)
    );
    CREATE TABLE incident_samples (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        incident    TEXT NOT NULL,
        text        TEXT,
        image       {blob},
        vector      {blob},
        quality     INTEGER,
        deployed    INTEGER NOT NULL DEFAULT 0,
        seq         INTEGER NOT NULL,
        FOREIGN KEY (kind, incident) REFERENCES incidents(kind, name) ON DELETE CASCADE
    );
    CREATE INDEX incident_samples_by_incident ON incident_samples(kind, incident, seq);
    CREATE TABLE category_versions (
        name        TEXT NOT NULL,
        version     INTEGER NOT NULL,
        definition  TEXT NOT NULL,
        source      TEXT,
        samples     TEXT NOT NULL,
        positives   INTEGER NOT NULL,
        negatives   INTEGER NOT NULL,
        status      TEXT NOT NULL,
        error       TEXT,
        model       {blob},
        warnings    TEXT NOT NULL DEFAULT '[]',
        created_at  TEXT NOT NULL DEFAULT {now},
        built_at    TEXT,
        PRIMARY KEY (name, version)
    );
    """,
    # A build's lease (epoch seconds): one replica builds, the others wait for its result.
    # The change counter every write bumps: other processes' watchers poll it.
    """
    ALTER TABLE category_versions ADD COLUMN lease_until {real};
    CREATE TABLE IF NOT EXISTS guardrail_meta (key TEXT PRIMARY KEY, value {bigint} NOT NULL);
    INSERT INTO guardrail_meta VALUES ('changes', 0) ON CONFLICT (key) DO NOTHING;
    """,
    # Which encoder made a stored vector (a sample's embedding, a category's weights): a
    # vector from another model is recomputed, never compared across spaces. NULL is the
    # only encoder there was before: all-MiniLM-L6-v2.
    """
    ALTER TABLE incident_samples ADD COLUMN encoder TEXT;
    ALTER TABLE category_versions ADD COLUMN encoder TEXT;
    """,
)

LEGACY_ENCODER = "all-MiniLM-L6-v2"


SQLITE = {
    "revision": "(lower(hex(randomblob(16))))",
    "now": "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    "real": "REAL",
    "blob": "BLOB",
    "bigint": "INTEGER",
}
POSTGRES = {
    "revision": "(md5(random()::text || clock_timestamp()::text))",
    "now": "(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
    "real": "DOUBLE PRECISION",
    "blob": "BYTEA",
    "bigint": "BIGINT",
}


def migrations(dialect: dict[str, str]) -> tuple[str, ...]:
    return tuple(step.format(**dialect) for step in MIGRATION_TEMPLATES)


_MIGRATIONS = migrations(SQLITE)


def utc_now() -> str:
    """A timestamp as the store keeps them: ISO 8601, UTC, milliseconds."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_revision() -> str:
    """A fresh revision tag; caches compare it to know a resource changed."""
    return secrets.token_hex(16)


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class BaseStore:
    """What resources need from a store; :class:`Store` (SQLite) and ``PostgresStore``."""

    path: str  # shown in messages and reprs; never carries a password
    read_only: bool = False

    def transaction(self) -> AbstractContextManager[Connection]:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - interface
        raise NotImplementedError

    def change_token(self) -> Hashable:  # pragma: no cover - interface
        """Changes whenever anyone (this process or another) commits to the store."""
        raise NotImplementedError

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Hashable], None]] = []
        self._closing = threading.Event()  # set by close(): a refresh under way stops

    def on_change(self, callback: Callable[[Hashable], None]) -> None:
        """Call ``callback(token)`` after another process's change, before checks see the
        new token, so caches rebuild off the request path. (After this process's own
        writes, caches rebuild on their next use.)"""
        self._subscribers.append(callback)

    def _refresh_caches(self, token: Hashable) -> bool:
        """Run the callbacks for ``token``; False when the store closed meanwhile (the
        new token must not be published then)."""
        for callback in list(self._subscribers):
            if self._closing.is_set():
                return False  # the engine is closing: nothing left to refresh
            try:
                callback(token)
            except Exception:  # one cache's failure must not stop the others: it rebuilds on use
                if self._closing.is_set():
                    return False  # closed under it (the connection or pool is gone): not a failure
                logger.exception("store %s: refreshing a cache failed", self.path)
        return True

    @property
    def status(self) -> StoreStatus:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class StoreStatus:
    """What a check used: the store-wide change counter its state reflects (every write
    bumps it, on either backend), and why it may be behind (``stale``: the database is
    unreachable and checks run on the state last loaded)."""

    version: int
    stale: str | None


def open_store(target: str | Path | BaseStore | None = None) -> BaseStore:
    """A store for ``target``: a store as is, a ``postgresql://`` URL, a file path, or
    ``None`` for ``$GUARDRAIL_STORE`` (either kind) or the per-user default file."""
    if isinstance(target, BaseStore):
        return target
    if target is None:
        env = os.environ.get(STORE_ENV, "")
        target = env if is_postgres_url(env) else None
    if is_postgres_url(target):
        from ._store_postgres import PostgresStore

        return PostgresStore(str(target))
    return Store(target)


def default_store_path() -> Path:
    """``$GUARDRAIL_STORE``, else a per-user data directory."""
    env = os.environ.get(STORE_ENV)
    if env and not is_postgres_url(env):
        return Path(env).expanduser()
    if sys.platform == "win32":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":  # pragma: no cover
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "guardrail" / "store.sqlite3"


class Store(BaseStore):
    """A guardrail store in the SQLite file ``path`` (default: :func:`default_store_path`).

    ``path=":memory:"`` keeps everything in memory, for tests and demos.
    Safe to share between threads; writes are serialized. Other processes may share the
    file: a watcher thread reads the change counter every ``poll_seconds`` and lets
    caches rebuild before checks see the change, so checks never read the file for it.
    """

    def __init__(self, path: str | Path | None = None, *, poll_seconds: float = WATCH_SECONDS) -> None:
        if is_postgres_url(path):
            raise StoreError("Store() opens SQLite files; for a postgresql:// URL use "
                             "guardrail.open_store(url) or LocalEngine(store=url)")
        super().__init__()
        self.path = str(path) if path is not None else str(default_store_path())
        self.read_only = False
        self.poll_seconds = poll_seconds
        self._lock = threading.RLock()
        self._conn = self._open()
        self._own_writes = 0
        self._applied = self._counter(self._conn)
        if self.path != ":memory:":  # in memory, this connection is the only writer
            threading.Thread(target=self._watch, name="guardrail-store-watcher", daemon=True).start()

    def __repr__(self) -> str:
        return f"<Store {self.path!r}>"

    def _open(self) -> sqlite3.Connection:
        target: str = self.path
        uri = False
        if self.path != ":memory:":
            p = Path(self.path)
            if p.is_dir():
                raise StoreError(f"store path {p} is a directory; give a file path")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store's folder {p.parent}: {exc}") from None
            if p.exists() and not os.access(p, os.W_OK):
                # Checks only read: open read-only rather than fail; writes say why.
                self.read_only = True
                target, uri = p.resolve().as_uri() + "?mode=ro", True
        try:
            conn = sqlite3.connect(
                target, check_same_thread=False, isolation_level=None, timeout=10.0, uri=uri
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("BEGIN")  # one snapshot: another process may be creating the schema
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if "unable to open" in str(exc) or "readonly" in str(exc):
                raise StoreError(f"cannot open the store {self.path}: {exc} (check its permissions)") from None
            raise StoreError(
                f"{self.path} is not a guardrail store ({exc}); "
                f"point {STORE_ENV} or --store at another file"
            ) from None
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            conn.close()
            raise StoreError(
                f"{self.path} is an SQLite file that guardrail did not create; "
                f"point {STORE_ENV} or --store at another file"
            )
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this guardrail "
                f"understands ({SCHEMA_VERSION}); upgrade guardrail"
            )
        if version < SCHEMA_VERSION:
            if self.read_only:
                conn.close()
                raise StoreError(f"{self.path} is read-only and has schema version {version}; "
                                 f"open it once writable so guardrail can upgrade it to {SCHEMA_VERSION}")
            self._migrate(conn)
        if self.path != ":memory:" and not self.read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        try:
            # Many processes may open a new store at once: the write lock serializes them,
            # and the version is read again under it, so each step runs exactly once.
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if version and app_id != APPLICATION_ID:  # pragma: no cover - raced with a stranger
                raise sqlite3.DatabaseError("the file was changed by another program")
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"cannot set up the store schema: {exc}") from None

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a change atomically: all of it is committed, or none of it."""
        with self._lock:
            conn = self._conn
            if self.read_only:
                raise StoreError(f"the store {self.path} is read-only (opened so, the file is not "
                                 "writable): checks work, changes need write access")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"the store {self.path} is busy or read-only: {exc}") from None
            try:
                yield conn
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StoreError(f"the change to {self.path} was rolled back: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("UPDATE guardrail_meta SET value = value + 1 WHERE key = 'changes'")
                counter = self._counter(conn)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:  # pragma: no cover - disk full and the like
                conn.execute("ROLLBACK")
                raise StoreError(f"cannot commit to the store {self.path}: {exc}") from None
            self._own_writes += 1
            if self.path == ":memory:":
                self._applied = counter

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def change_token(self) -> Hashable:
        """Memory only: this process's writes and the counter the watcher last applied."""
        return (self._own_writes, self._applied)

    @property
    def status(self) -> StoreStatus:
        return StoreStatus(version=self._applied, stale=None)

    @staticmethod
    def _counter(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT value FROM guardrail_meta WHERE key = 'changes'").fetchone()[0])

    def _watch(self) -> None:
        try:
            conn = sqlite3.connect(Path(self.path).resolve().as_uri() + "?mode=ro", uri=True, timeout=10.0,
                                   check_same_thread=False)
        except sqlite3.Error:  # pragma: no cover - the file went away; checks use what they have
            logger.exception("store %s: cannot watch for other processes' changes", self.path)
            return
        try:
            while not self._closing.wait(self.poll_seconds):
                try:
                    counter = self._counter(conn)
                except sqlite3.Error:  # busy or being replaced: next round
                    continue
                if counter != self._applied:
                    self._apply(counter)
        finally:
            conn.close()

    def _apply(self, counter: int) -> None:
        if self._refresh_caches((self._own_writes, counter)):
            self._applied = counter

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            self._conn.close()
