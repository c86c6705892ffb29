"""Local blocklists: the service's blocklist resource model, stored in SQLite."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Hashable, Iterable, Sequence, Union

from ..._exceptions import (
    ConflictError,
    EmptyTextError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
)
from ..._matching import Match, Term, TermMatcher, fold, validate_regex
from ..._resources import (
    BLOCKLIST_LIMITS,
    TextBlocklist,
    TextBlocklistItem,
    TextBlocklistItemInput,
    check_blocklist_name,
    check_description,
)
from ..._store import BaseStore, Connection, Row, new_revision, utc_now
from ..._text import clean

__all__ = ["Blocklists", "ItemLike"]

ItemLike = Union[str, TextBlocklistItemInput, dict]


def _coerce_item(item: object, position: int) -> TextBlocklistItemInput:
    if isinstance(item, TextBlocklistItemInput):
        parsed = item
    elif isinstance(item, str):
        parsed = TextBlocklistItemInput(text=item)
    elif isinstance(item, dict):
        try:
            parsed = TextBlocklistItemInput.model_validate(item)
        except Exception as exc:  # pydantic's message is long; keep the first line
            raise InvalidInputError(
                f"item {position}: expected {{'text': ..., 'description'?: ...}}: "
                f"{str(exc).splitlines()[0]}"
            ) from None
    else:
        raise InvalidInputError(
            f"item {position}: expected a string or a dict with 'text', got {type(item).__name__}"
        )
    if not parsed.text.strip():
        raise EmptyTextError(f"item {position}: the term is empty")
    if len(parsed.text) > BLOCKLIST_LIMITS.item_text_length:
        raise LimitExceededError(
            f"item {position}: term {parsed.text[:20]!r}... is {len(parsed.text)} characters; "
            f"the limit is {BLOCKLIST_LIMITS.item_text_length}"
        )
    parsed = parsed.model_copy(update={"text": clean(parsed.text), "description": clean(parsed.description)})
    if parsed.is_regex:
        problem = validate_regex(parsed.text)
        if problem:
            raise InvalidInputError(f"item {position}: {parsed.text!r} is not a valid regex: {problem}")
    elif not fold(parsed.text).strip():
        raise EmptyTextError(f"item {position}: the term has no visible characters")
    check_description(parsed.description, f"item {position}")
    return parsed


def _row_item(row: Row) -> TextBlocklistItem:
    return TextBlocklistItem(
        blocklist_item_id=row["id"],
        text=row["text"],
        description=row["description"],
        is_regex=bool(row["is_regex"]),
    )


def _revisions(conn: Connection) -> dict[str, str]:
    return {r["name"]: r["revision"] for r in conn.execute("SELECT name, revision FROM blocklists")}


def _load_matcher(conn: Connection, name: str) -> TermMatcher:
    rows = conn.execute(
        "SELECT id, text, is_regex FROM blocklist_items WHERE blocklist = ? ORDER BY seq", (name,)
    ).fetchall()
    return TermMatcher([Term(r["id"], r["text"], bool(r["is_regex"])) for r in rows])


class Blocklists:
    """Create, read, update and delete blocklists and their items; match text against them."""

    def __init__(self, store: BaseStore) -> None:
        self._store = store
        self._cache: dict[str, tuple[str, TermMatcher]] = {}
        self._revisions: dict[str, str] = {}
        self._token: Hashable | None = None
        self._lock = threading.Lock()
        store.on_change(self._refresh)

    # -- lists ---------------------------------------------------------------------------

    def create_or_update(self, name: str, *, description: str | None = None) -> TextBlocklist:
        """Create the list, or update it; ``description=None`` keeps the current one."""
        check_blocklist_name(name)
        desc = check_description(description, "blocklist")
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO blocklists(name, description) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET description = "
                "CASE WHEN ? THEN blocklists.description ELSE excluded.description END, "
                "updated_at = ?",
                (name, desc, description is None, utc_now()),
            )
            desc = conn.execute("SELECT description FROM blocklists WHERE name = ?", (name,)).fetchone()[0]
        return TextBlocklist(blocklist_name=name, description=desc)

    def get(self, name: str) -> TextBlocklist:
        check_blocklist_name(name)
        with self._store.read() as conn:
            row = conn.execute(
                "SELECT name, description FROM blocklists WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise self._unknown(name)
        return TextBlocklist(blocklist_name=row["name"], description=row["description"])

    def list(self) -> list[TextBlocklist]:
        with self._store.read() as conn:
            rows = conn.execute("SELECT name, description FROM blocklists ORDER BY name").fetchall()
        return [TextBlocklist(blocklist_name=r["name"], description=r["description"]) for r in rows]

    def delete(self, name: str) -> None:
        check_blocklist_name(name)
        with self._store.transaction() as conn:
            if conn.execute("DELETE FROM blocklists WHERE name = ?", (name,)).rowcount == 0:
                raise self._unknown(name)

    # -- items ---------------------------------------------------------------------------

    def add_or_update_items(
        self, name: str, items: Sequence[ItemLike]
    ) -> list[TextBlocklistItem]:
        """Add terms; a term already in the list keeps its id and gets the new description.

        All items are validated before anything is written, and the whole batch is one
        transaction.
        """
        check_blocklist_name(name)
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise InvalidInputError("items must be a list of terms or item dicts")
        if not items:
            raise EmptyTextError("no items to add; give at least one term")
        parsed = [_coerce_item(item, i) for i, item in enumerate(items)]
        seen: dict[tuple[str, bool], int] = {}
        for i, item in enumerate(parsed):
            key = (item.text, item.is_regex)
            if key in seen:
                raise ConflictError(
                    f"item {i} repeats item {seen[key]} ({item.text!r}); give each term once"
                )
            seen[key] = i
        out: list[TextBlocklistItem] = []
        with self._store.transaction() as conn:
            self._require(conn, name)
            # Only the rows of the terms being added are read (the UNIQUE index finds them),
            # so adding one term to a long list does not read the list.
            existing: dict[tuple[str, bool], str] = {}
            for item in parsed:
                row = conn.execute(
                    "SELECT id FROM blocklist_items WHERE blocklist = ? AND text = ? AND is_regex = ?",
                    (name, item.text, int(item.is_regex)),
                ).fetchone()
                if row is not None:
                    existing[(item.text, item.is_regex)] = row["id"]
            count = conn.execute("SELECT count(*) FROM blocklist_items WHERE blocklist = ?", (name,)).fetchone()[0]
            new = sum(1 for item in parsed if (item.text, item.is_regex) not in existing)
            if count + new > BLOCKLIST_LIMITS.items_per_list:
                raise LimitExceededError(
                    f"blocklist {name!r} has {count} items; adding {new} would pass the "
                    f"limit of {BLOCKLIST_LIMITS.items_per_list} per list; split it into lists"
                )
            seq = conn.execute(
                "SELECT coalesce(max(seq), 0) FROM blocklist_items WHERE blocklist = ?", (name,)
            ).fetchone()[0]
            for item in parsed:
                item_id = existing.get((item.text, item.is_regex))
                if item_id is None:
                    item_id = str(uuid.uuid4())
                    seq += 1
                    conn.execute(
                        "INSERT INTO blocklist_items(id, blocklist, text, description, is_regex, seq)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (item_id, name, item.text, item.description, int(item.is_regex), seq),
                    )
                else:
                    conn.execute(
                        "UPDATE blocklist_items SET description = ? WHERE id = ?",
                        (item.description, item_id),
                    )
                out.append(
                    TextBlocklistItem(
                        blocklist_item_id=item_id,
                        text=item.text,
                        description=item.description,
                        is_regex=item.is_regex,
                    )
                )
            self._bump(conn, name)
        return out

    def remove_items(self, name: str, item_ids: Sequence[str]) -> None:
        """Remove items by id; all ids must exist, or nothing is removed."""
        check_blocklist_name(name)
        if isinstance(item_ids, str) or not isinstance(item_ids, Sequence) or not item_ids:
            raise InvalidInputError("item_ids must be a non-empty list of item ids")
        if not all(isinstance(i, str) for i in item_ids):
            raise InvalidInputError("item ids are strings")
        counts = Counter(item_ids)
        dupes = sorted(i for i, n in counts.items() if n > 1)
        if dupes:
            raise ConflictError(f"item id(s) given more than once: {', '.join(dupes[:20])}")
        with self._store.transaction() as conn:
            self._require(conn, name)
            # One statement per id: linear, and no limit on bound variables.
            missing = []
            for item_id in item_ids:
                cursor = conn.execute(
                    "DELETE FROM blocklist_items WHERE blocklist = ? AND id = ?", (name, item_id)
                )
                if cursor.rowcount == 0:
                    missing.append(item_id)
            if missing:  # raising rolls the whole batch back
                raise NotFoundError(
                    f"blocklist {name!r} has no item(s) {', '.join(missing[:20])}"
                    f"{' ...' if len(missing) > 20 else ''}; see `guardrail blocklist show {name}`"
                )
            self._bump(conn, name)

    def list_items(
        self, name: str, *, top: int | None = None, skip: int = 0
    ) -> list[TextBlocklistItem]:
        check_blocklist_name(name)
        for label, value in (("top", top), ("skip", skip)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidInputError(f"{label} must be a whole number, zero or more; got {value!r}")
        with self._store.read() as conn:
            self._require(conn, name)
            rows = conn.execute(
                "SELECT id, text, description, is_regex FROM blocklist_items "
                "WHERE blocklist = ? ORDER BY seq LIMIT ? OFFSET ?",
                (name, 2**62 if top is None else top, skip),  # no LIMIT -1 in PostgreSQL
            ).fetchall()
        return [_row_item(r) for r in rows]

    def get_item(self, name: str, item_id: str) -> TextBlocklistItem:
        check_blocklist_name(name)
        with self._store.read() as conn:
            self._require(conn, name)
            row = conn.execute(
                "SELECT id, text, description, is_regex FROM blocklist_items "
                "WHERE blocklist = ? AND id = ?",
                (name, item_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"blocklist {name!r} has no item {item_id!r}")
        return _row_item(row)

    # -- matching ------------------------------------------------------------------------

    def match(self, text: str, names: Iterable[str]) -> list[tuple[str, Match]]:
        """Every match of every named list in ``text``, as ``(list name, match)``."""
        out: list[tuple[str, Match]] = []
        for name in names:
            for m in self.matcher(name).find(text):
                out.append((name, m))
        return out

    def matcher(self, name: str) -> TermMatcher:
        """The compiled matcher of one list, rebuilt only after the list changed."""
        token = self._store.change_token()
        with self._lock:
            if token != self._token:
                with self._store.read() as conn:
                    self._revisions = _revisions(conn)
                self._token = token
            revision = self._revisions.get(name)
            if revision is None:
                raise self._unknown(name)
            cached = self._cache.get(name)
            if cached is not None and cached[0] == revision:
                return cached[1]
        with self._store.read() as conn:
            matcher = _load_matcher(conn, name)
        with self._lock:
            self._cache[name] = (revision, matcher)
        return matcher

    def _refresh(self, token: Hashable) -> None:
        """Rebuild the matchers in use whose list changed (the store calls this off the
        request path, before checks see ``token``)."""
        with self._lock:
            cached = {name: rev for name, (rev, _) in self._cache.items()}
        with self._store.read() as conn:  # one snapshot: revisions and items agree
            revisions = _revisions(conn)
            rebuilt = {name: (revisions[name], _load_matcher(conn, name))
                       for name, rev in cached.items() if name in revisions and revisions[name] != rev}
        with self._lock:
            for name in [n for n in self._cache if n not in revisions]:
                del self._cache[name]
            self._cache.update(rebuilt)
            self._revisions = revisions
            self._token = token

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _unknown(name: str) -> NotFoundError:
        return NotFoundError(
            f"no blocklist named {name!r}; create it with `guardrail blocklist create {name}`"
        )

    def _require(self, conn: Connection, name: str) -> None:
        if conn.execute("SELECT 1 FROM blocklists WHERE name = ?", (name,)).fetchone() is None:
            raise self._unknown(name)

    @staticmethod
    def _bump(conn: Connection, name: str) -> None:
        conn.execute(
            "UPDATE blocklists SET revision = ?, updated_at = ? WHERE name = ?",
            (new_revision(), utc_now(), name),
        )
