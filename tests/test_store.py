import sqlite3

import pytest

from guardrail import LocalEngine, Store, StoreError, default_store_path
from guardrail._store import SCHEMA_VERSION


def test_new_store_has_schema_version_and_our_id(tmp_path):
    s = Store(tmp_path / "sub" / "s.sqlite3")
    assert s.schema_version == SCHEMA_VERSION
    s.close()
    conn = sqlite3.connect(tmp_path / "sub" / "s.sqlite3")
    assert conn.execute("PRAGMA application_id").fetchone()[0] != 0
    conn.close()


def test_path_from_argument_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("GUARDRAIL_STORE", str(tmp_path / "env.sqlite3"))
    assert default_store_path() == tmp_path / "env.sqlite3"
    engine = LocalEngine()
    assert engine.store.path == str(tmp_path / "env.sqlite3")
    engine.close()
    monkeypatch.delenv("GUARDRAIL_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "guardrail" / "store.sqlite3"


def test_foreign_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="did not create"):
        Store(path)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]
    conn.close()


def test_non_sqlite_file_and_directory_are_refused(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a database, just some notes " * 100)
    with pytest.raises(StoreError, match="not a guardrail store"):
        Store(junk)
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="upgrade guardrail"):
        Store(path)


def test_an_older_store_is_upgraded_in_place_keeping_its_data(tmp_path):
    import sqlite3

    from guardrail._store import _MIGRATIONS, APPLICATION_ID

    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path)
    for step in _MIGRATIONS[:2]:
        conn.executescript(step)
    conn.execute("INSERT INTO blocklists(name) VALUES ('kept')")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    engine = LocalEngine(path)
    assert engine.store.schema_version == SCHEMA_VERSION
    assert [b.blocklist_name for b in engine.blocklists.list()] == ["kept"]
    engine.close()
