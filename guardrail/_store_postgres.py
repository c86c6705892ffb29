"""The store on PostgreSQL: one set of resources for many replicas (``guardrail[postgres]``).

Same tables and the same resource code as the SQLite store (``_store.py``). What differs:

* every change takes one transaction-scoped advisory lock, so writers on any replica are
  serialized as SQLite serializes them (limits such as 10,000 items per list hold exactly),
  bumps a change counter and sends ``NOTIFY`` in the same transaction;
* a listener thread per store hears the notification (or, when one is missed, reads the
  counter every ``POLL_SECONDS``) and lets caches rebuild *before* checks see the new
  token: checks never wait on the database, and use the previous state until then;
* when the database is unreachable, checks go on with the state last loaded and
  :attr:`PostgresStore.status` says since when; reads and writes fail at once with
  :class:`StoreError`; the listener reconnects by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Hashable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

from ._exceptions import StoreError
from ._store import POSTGRES, SCHEMA_VERSION, BaseStore, StoreStatus, migrations

__all__ = ["POLL_SECONDS", "PostgresStore", "redact_url"]

logger = logging.getLogger("guardrail.store")

CHANNEL = "guardrail_changes"
POLL_SECONDS = 1.0  # the counter is read this often too, in case a notification is lost
MIGRATE_KEY = 0x47524C31  # advisory lock ids ("GRL1", "GRL2")
WRITE_KEY = 0x47524C32
_MIGRATIONS = migrations(POSTGRES)  # the SQLite store's schema, in PostgreSQL's types


def redact_url(url: str) -> str:
    """``url`` with its password (in the authority or a ``password=`` query) as ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}:***@{host}"
        query = urlencode([(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)], safe="*")
        # Built by hand: urlunsplit drops "//" when the authority is empty ("postgresql://").
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:
        return "postgresql://(unreadable URL)"


class _Row:
    """A result row read by position (``row[0]``) or by column (``row["name"]``), as sqlite3.Row."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: tuple[Any, ...], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key]] if isinstance(key, str) else self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Callable[[tuple[Any, ...]], _Row]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: _Row(tuple(values), index)


@lru_cache(maxsize=512)
def _marks(sql: str) -> str:
    """The resource code's ``?`` marks as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Connection:
    """The part of a DB-API connection resource code uses, over one psycopg connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        return self._conn.execute(_marks(sql), tuple(params))


class PostgresStore(BaseStore):
    """The guardrail store in the PostgreSQL database at ``url``
    (``postgresql://user:password@host:port/dbname``; libpq's query options work too).

    Opening it creates or upgrades the schema (once, under an advisory lock, whatever
    the number of replicas starting together) and refuses a newer one. Safe to share
    between threads. :meth:`close` it when done.
    """

    def __init__(self, url: str, *, poll_seconds: float = POLL_SECONDS, pool_size: int = 4) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover - the extra is not installed
            raise StoreError("a postgresql:// store needs the driver: pip install 'guardrail[postgres]'") from None
        super().__init__()
        try:
            self._password = urlsplit(url).password
        except ValueError as exc:  # the URL itself is never echoed: it may hold the password
            raise StoreError(f"the store URL is not a valid postgresql:// URL ({exc}); "
                             "write it as postgresql://user:password@host:port/dbname") from None
        self._psycopg = psycopg
        self._url = url
        self.path = redact_url(url)
        self.read_only = False
        self.poll_seconds = poll_seconds
        self._applied = self._migrate()
        self._own_writes = 0
        self._stale: str | None = None
        self._refresh_lock = threading.Lock()
        # Only for the increment: resource code may write while holding its own lock,
        # which a cache refresh (under _refresh_lock) may be waiting for.
        self._count_lock = threading.Lock()
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, timeout=5.0, open=True, name="guardrail-store",
            kwargs={"row_factory": _row_factory, "connect_timeout": 5},
            check=ConnectionPool.check_connection,
        )
        self._listener = threading.Thread(target=self._listen, name="guardrail-store-listener", daemon=True)
        self._listener.start()

    def __repr__(self) -> str:
        return f"<PostgresStore {self.path!r}>"

    # -- errors ---------------------------------------------------------------------------

    def _reason(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return text.replace(self._password, "***") if self._password else text

    def _unreachable(self, exc: BaseException) -> StoreError:
        return StoreError(f"cannot reach the store {self.path}: {self._reason(exc)} "
                          "(is PostgreSQL up, and the URL's host, port, user and password right?)")

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> int:
        """Create or upgrade the schema; the change counter as it stands then."""
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None
        try:
            # Replicas starting together: the lock serializes them and the version is read
            # again under it, so each step runs exactly once.
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_KEY,))
            conn.execute("CREATE TABLE IF NOT EXISTS guardrail_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)")
            conn.execute("INSERT INTO guardrail_meta VALUES ('schema_version', 0), ('changes', 0) "
                         "ON CONFLICT (key) DO NOTHING")
            version = conn.execute("SELECT value FROM guardrail_meta WHERE key = 'schema_version'").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"the store {self.path} has schema version {version}, newer than this "
                                 f"guardrail understands ({SCHEMA_VERSION}); upgrade guardrail")
            if version < SCHEMA_VERSION:
                with conn.transaction():
                    for step in range(version, SCHEMA_VERSION):
                        conn.execute(_MIGRATIONS[step])
                    conn.execute("UPDATE guardrail_meta SET value = %s WHERE key = 'schema_version'",
                                 (SCHEMA_VERSION,))
            return int(conn.execute("SELECT value FROM guardrail_meta WHERE key = 'changes'").fetchone()[0])
        except psycopg.errors.DuplicateTable as exc:
            raise StoreError(f"the database of {self.path} already has tables guardrail did not create "
                             f"({self._reason(exc)}); use another database or schema") from None
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from None
        except psycopg.Error as exc:
            raise StoreError(f"cannot set up the store schema in {self.path}: {self._reason(exc)}") from None
        finally:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_KEY,))
            except psycopg.Error:  # pragma: no cover - the session ends, and its lock with it
                pass
            conn.close()

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("SELECT value FROM guardrail_meta WHERE key = 'schema_version'").fetchone()[0])

    # -- reads and writes -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_Connection]:
        """Run a change atomically: all of it is committed, or none of it."""
        psycopg = self._psycopg
        self._fail_fast()
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_KEY,))
                yield _Connection(conn)
                counter = conn.execute(
                    "UPDATE guardrail_meta SET value = value + 1 WHERE key = 'changes' RETURNING value").fetchone()[0]
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(counter)))
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from None
        except psycopg.Error as exc:
            raise StoreError(f"the change to {self.path} was rolled back: {self._reason(exc)}") from None
        with self._count_lock:  # writers on many threads: no increment may be lost
            self._own_writes += 1

    @contextmanager
    def read(self) -> Iterator[_Connection]:
        """One consistent snapshot for the statements inside."""
        psycopg = self._psycopg
        self._fail_fast()
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield _Connection(conn)
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from None
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {self._reason(exc)}") from None

    def _fail_fast(self) -> None:
        # While the listener cannot reach the database, do not make callers wait out the
        # pool's timeout: say so now (checks with loaded state never get here).
        if self._stale is not None:
            raise StoreError(f"cannot reach the store {self.path}: {self._stale}")

    # -- live updates ---------------------------------------------------------------------

    def change_token(self) -> Hashable:
        """Memory only: the counter the listener last applied and this process's writes."""
        return (self._own_writes, self._applied)

    @property
    def status(self) -> StoreStatus:
        return StoreStatus(version=self._applied, stale=self._stale)

    def _listen(self) -> None:
        psycopg = self._psycopg
        backoff = 0.2
        down_since: float | None = None
        while not self._closing.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._closing.is_set():
                        counter = int(conn.execute(
                            "SELECT value FROM guardrail_meta WHERE key = 'changes'").fetchone()[0])
                        if down_since is not None:
                            logger.warning("store %s reachable again after %.1fs", self.path,
                                           time.monotonic() - down_since)
                            down_since = None
                        self._stale = None
                        backoff = 0.2
                        if counter != self._applied:
                            self._apply(counter)
                        for _ in conn.notifies(timeout=self.poll_seconds, stop_after=1):
                            pass
            except psycopg.Error as exc:
                if self._closing.is_set():
                    return
                if down_since is None:
                    down_since = time.monotonic()
                    logger.warning("store %s unreachable: %s; checks use the state last loaded",
                                   self.path, self._reason(exc))
                self._stale = (f"unreachable since {time.strftime('%H:%M:%S', time.gmtime())} UTC: "
                               f"{self._reason(exc)}") if self._stale is None else self._stale
                self._closing.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:  # pragma: no cover - a bug in a cache rebuild must not kill updates
                if self._closing.is_set():
                    return
                logger.exception("store %s: applying a change failed", self.path)
                self._closing.wait(backoff)

    def _apply(self, counter: int) -> None:
        """Let caches rebuild for ``counter``, then publish it to checks."""
        with self._refresh_lock:
            if self._refresh_caches((self._own_writes, counter)):
                self._applied = counter

    def close(self) -> None:
        """Stop listening and close the pool (the listener exits within ``poll_seconds``)."""
        self._closing.set()
        self._pool.close()
