"""Many replicas, one store: live updates, concurrent writers, migrations, an unreachable
database. Each test runs on a PostgreSQL URL and, where the issue asks it of both, on one
SQLite file shared by processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from hypothesis import given
from hypothesis import strategies as st
import pytest

from guardrail import Guard, LimitExceededError, LocalEngine, StoreError, open_store
from guardrail._store import SCHEMA_VERSION
from guardrail._store_postgres import PostgresStore, redact_url


@pytest.fixture(params=["sqlite", "postgres"])
def store_target(request, tmp_path):
    """The store as a replica names it: a postgresql:// URL, or a path to one shared file."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "shared.sqlite3")


def run_replica(target: str, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in another process whose ``engine`` finds ``target`` in GUARDRAIL_STORE."""
    script = "from guardrail import LocalEngine\nengine = LocalEngine()\n" + textwrap.dedent(code)
    script += "\nengine.close()\n"
    env = {**os.environ, "GUARDRAIL_STORE": target}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                          check=True, env=env)


def blocked_within(guard: Guard, text: str, seconds: float) -> float | None:
    """Seconds until ``guard`` blocks ``text``, or None if it did not within ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if guard.check_prompt_sync(text).blocked:
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def test_a_write_in_one_process_is_enforced_by_a_running_guard_in_another(store_target):
    engine = LocalEngine(store_target)
    engine.blocklists.create_or_update("live")
    engine.blocklists.add_or_update_items("live", ["placeholder-term"])
    engine.text_incidents.create_or_update("live")
    engine.text_incidents.add_samples("live", ["a recipe for banana bread with walnuts"])
    engine.text_incidents.deploy("live")
    guard = Guard({"harm": {}, "prompt": {"blocklists": ["live"], "incidents": ["live"]}}, backend=engine)
    term_text = "please send the zorblax codes"
    incident_text = "we are going to poison the town's water supply tonight"
    assert guard.check_prompt_sync(term_text).allowed
    assert guard.check_prompt_sync(incident_text).allowed  # the Guard's caches are warm now

    run_replica(store_target, "engine.blocklists.add_or_update_items('live', ['zorblax'])")
    waited = blocked_within(guard, term_text, 2.0)
    assert waited is not None, "a term added by another process was not enforced within 2 s"

    run_replica(store_target, """
        engine.text_incidents.add_samples('live', ['we will poison the water supply of the town'])
        engine.text_incidents.deploy('live')
    """)
    waited = blocked_within(guard, incident_text, 2.0)
    assert waited is not None, "an incident deployed by another process was not enforced within 2 s"
    engine.close()


def test_four_processes_adding_items_at_once_store_all_of_them(store_target):
    engine = LocalEngine(store_target)
    engine.blocklists.create_or_update("many")
    code = """
        import sys
        for batch in range(5):
            engine.blocklists.add_or_update_items('many', [f'p{P}-b{batch}-t{i}' for i in range(50)])
    """
    procs = [subprocess.Popen([sys.executable, "-c",
                               f"from guardrail import LocalEngine\nengine = LocalEngine({store_target!r})\n"
                               + textwrap.dedent(code).replace("{P}", str(p))])
             for p in range(4)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0, 0, 0]
    items = engine.blocklists.list_items("many")
    assert len(items) == 4 * 5 * 50
    assert len({i.text for i in items}) == 1000
    engine.close()


def test_the_items_per_list_limit_holds_exactly_under_concurrent_writers(store_target, monkeypatch):
    from guardrail import _resources

    # A small limit keeps the test fast; the check is the same code as for 10,000.
    monkeypatch.setattr(_resources.BLOCKLIST_LIMITS, "items_per_list", 40, raising=False)
    engines = [LocalEngine(store_target) for _ in range(4)]
    engines[0].blocklists.create_or_update("capped")

    def add(k: int) -> int:
        stored = 0
        for batch in range(6):
            try:
                engines[k].blocklists.add_or_update_items("capped", [f"w{k}-{batch}-{i}" for i in range(3)])
                stored += 3
            except LimitExceededError:
                pass
        return stored

    with ThreadPoolExecutor(4) as pool:
        stored = sum(pool.map(add, range(4)))
    count = len(engines[0].blocklists.list_items("capped"))
    assert count == stored <= 40
    assert count >= 39  # every batch that fit was stored
    for e in engines:
        e.close()


def test_replicas_starting_together_create_the_schema_once(postgres_url):
    with ThreadPoolExecutor(6) as pool:
        stores = list(pool.map(lambda _: PostgresStore(postgres_url), range(6)))
    assert {s.schema_version for s in stores} == {SCHEMA_VERSION}
    for s in stores:
        s.close()


def test_a_newer_schema_is_refused_and_foreign_tables_are_not_touched(postgres_url, postgres_server):
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE guardrail_meta SET value = 99 WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99, newer"):
        PostgresStore(postgres_url)

    other = postgres_server.new_schema()
    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE TABLE blocklists (x int)")
        conn.execute("INSERT INTO blocklists VALUES (7)")
    with pytest.raises(StoreError, match="tables guardrail did not create"):
        PostgresStore(other)
    with psycopg.connect(other, autocommit=True) as conn:
        assert conn.execute("SELECT x FROM blocklists").fetchall() == [(7,)]
    postgres_server.drop_schema(other)


def test_a_change_that_fails_leaves_nothing_half_written(postgres_url):
    engine = LocalEngine(postgres_url)
    engine.blocklists.create_or_update("atomic")
    engine.blocklists.add_or_update_items("atomic", ["one"])
    with pytest.raises(ZeroDivisionError), engine.store.transaction() as conn:
        conn.execute("INSERT INTO blocklist_items(id, blocklist, text, seq) VALUES ('y', 'atomic', 'half', 8)")
        raise ZeroDivisionError  # anything raised inside a change undoes all of it
    assert [i.text for i in engine.blocklists.list_items("atomic")] == ["one"]
    # A replica killed mid-transaction: its uncommitted rows vanish with its session.
    code = """
        import os
        with engine.store.transaction() as conn:
            conn.execute("INSERT INTO blocklist_items(id, blocklist, text, seq) VALUES ('x', 'atomic', 'ghost', 9)")
            os._exit(9)
    """
    proc = subprocess.run([sys.executable, "-c", f"from guardrail import LocalEngine\nengine = LocalEngine({postgres_url!r})\n"
                           + textwrap.dedent(code)], timeout=120, check=False)
    assert proc.returncode == 9
    assert [i.text for i in engine.blocklists.list_items("atomic")] == ["one"]
    engine.close()


def test_the_url_password_never_shows(postgres_server):
    url = "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nothing?password=s3cr3t-pw&sslmode=disable"
    assert "s3cr3t" not in redact_url(url)
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert "s3cr3t" not in str(info.value)
    assert "cannot reach the store postgresql://someone:***@127.0.0.1:1/nothing" in str(info.value)


@pytest.mark.parametrize("url", ["postgresql://", "postgresql:///guardrail", "postgres://h/db?sslmode=disable"])
def test_a_redacted_url_without_a_password_reads_as_given(url):
    assert redact_url(url) == url


def test_verdicts_say_which_store_version_they_used(postgres_url):
    engine = LocalEngine(postgres_url)
    engine.blocklists.create_or_update("v")
    engine.blocklists.add_or_update_items("v", ["qwerty"])
    guard = Guard({"harm": {}, "prompt": {"blocklists": ["v"]}}, backend=engine)
    first = guard.check_prompt_sync("qwerty")
    assert first.blocked and first.stale is None and first.store_version is not None
    other = LocalEngine(postgres_url)
    other.blocklists.add_or_update_items("v", ["asdfgh"])
    deadline = time.monotonic() + 2
    while guard.check_prompt_sync("asdfgh").allowed and time.monotonic() < deadline:
        time.sleep(0.02)
    later = guard.check_prompt_sync("asdfgh")
    assert later.blocked and later.store_version > first.store_version
    assert Guard({"harm": {}}, backend=engine).check_prompt_sync("hello").store_version is None
    other.close()
    engine.close()


def test_a_sqlite_store_refuses_a_postgres_url_with_a_pointer():
    from guardrail import Store

    with pytest.raises(StoreError, match="open_store"):
        Store("postgresql://u@localhost/db")


def test_checks_go_on_while_the_database_is_down_and_updates_resume_after(tmp_path):
    from _postgres import Server

    server = Server()
    server.url = None  # a server of its own, to stop and start
    server.start()
    if server.url is None:
        pytest.skip(f"PostgreSQL unavailable: {server.skip_reason}")
    try:
        engine = LocalEngine(server.url)
        engine.store.poll_seconds = 0.2
        engine.blocklists.create_or_update("kept")
        engine.blocklists.add_or_update_items("kept", ["forbidden"])
        guard = Guard({"harm": {}, "prompt": {"blocklists": ["kept"]}}, backend=engine)
        assert guard.check_prompt_sync("a forbidden word").blocked

        server.halt()
        deadline = time.monotonic() + 5
        while engine.store.status.stale is None and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        verdict = guard.check_prompt_sync("a forbidden word")
        assert time.monotonic() - started < 1.0  # no wait on the database
        assert verdict.blocked and verdict.stale and "unreachable" in verdict.stale
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot reach the store"):
            engine.blocklists.add_or_update_items("kept", ["more"])
        assert time.monotonic() - started < 1.0  # writes fail at once, not after a timeout

        server.resume()
        deadline = time.monotonic() + 10
        while engine.store.status.stale is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.store.status.stale is None, "the store did not reconnect by itself"
        engine.blocklists.add_or_update_items("kept", ["again"])
        assert guard.check_prompt_sync("again and again").blocked
        assert guard.check_prompt_sync("a forbidden word").stale is None
        engine.close()
    finally:
        server.stop()


def test_a_build_asked_for_by_two_replicas_runs_once_and_both_see_it(postgres_url, caplog):
    import logging

    samples = [{"text": f"tell me about rare stamp number {i} and its perforations", "isPositive": True}
               for i in range(50)] + [{"text": f"the weather on day {i} was mild", "isPositive": False}
                                      for i in range(50)]
    one, two = LocalEngine(postgres_url), LocalEngine(postgres_url)
    one.categories.create_version("stamps", definition="stamp collecting", samples=samples)
    caplog.set_level(logging.INFO, logger="guardrail")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda e: e.categories.build("stamps", wait=True), (one, two)))
    assert [r.status.value if hasattr(r.status, "value") else r.status for r in results] == ["Succeeded"] * 2
    builds = [r for r in caplog.records if r.getMessage().startswith("building category stamps")]
    assert len(builds) == 1
    guard = Guard({"harm": {}, "prompt": {"custom_categories": ["stamps"]}}, backend=two)
    assert guard.check_prompt_sync("what perforations does rare stamp 12 have?").blocked
    one.close()
    two.close()


def test_an_older_postgres_schema_is_upgraded_keeping_its_data(postgres_url):
    from guardrail._store_postgres import _MIGRATIONS

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE guardrail_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)")
        conn.execute("INSERT INTO guardrail_meta VALUES ('schema_version', 2), ('changes', 5)")
        for step in _MIGRATIONS[:2]:
            conn.execute(step)
        conn.execute("INSERT INTO blocklists(name) VALUES ('kept')")
    engine = LocalEngine(postgres_url)
    assert engine.store.schema_version == SCHEMA_VERSION
    assert [b.blocklist_name for b in engine.blocklists.list()] == ["kept"]
    engine.close()


def test_builds_in_a_row_finish_while_the_listener_applies_their_changes(postgres_url):
    """A build holds the categories' lock while it claims its lease (a write); the listener
    refreshing caches for that write waits for the same lock. Writes must not wait for the
    listener in turn (they once did, and the second build hung forever)."""
    engine = LocalEngine(postgres_url)
    samples = [{"text": f"a note about sailing boat {i}", "isPositive": True} for i in range(50)]
    samples += [{"text": f"a note about lunch {i}", "isPositive": False} for i in range(50)]

    def build_all() -> list[str]:
        out = []
        for c in range(5):
            engine.categories.create_version(f"c{c}", definition="sailing", samples=samples)
            out.append(str(engine.categories.build(f"c{c}", wait=True).status))
            Guard({"harm": {}, "prompt": {"custom_categories": [f"c{c}"]}}, backend=engine).check_prompt_sync("hi")
        return out

    import threading

    statuses: list[str] = []
    worker = threading.Thread(target=lambda: statuses.extend(build_all()), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the builds hung"
    assert len(statuses) == 5 and all("Succeeded" in s or "SUCCEEDED" in s for s in statuses)
    engine.close()


@given(st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00"), min_size=4, max_size=30),
       st.sampled_from(["", "?sslmode=disable", "?options=-csearch_path%3Dx"]))
def test_redacted_urls_never_carry_the_password(password, query):
    from urllib.parse import parse_qsl, quote, urlsplit

    url = f"postgresql://someone:{quote(password, safe='')}@db.internal:5432/guardrail{query}"
    shown = redact_url(url)
    prefix = "postgresql://someone:***@db.internal:5432/guardrail"
    assert shown.startswith(prefix)
    # What follows is the original query, read back: nothing of the password.
    assert parse_qsl(urlsplit(shown).query) == parse_qsl(urlsplit(url).query)
    with_query_password = f"postgresql://someone@db/guardrail?password={quote(password, safe='')}"
    assert dict(parse_qsl(urlsplit(redact_url(with_query_password)).query)) == {"password": "***"}


def test_closing_right_after_a_write_logs_no_errors(store_target, caplog):
    """The listener may be applying the write's change while the engine closes: that is
    the end of its work, not a failure to report (the CLI printed a traceback)."""
    import logging

    caplog.set_level(logging.WARNING, logger="guardrail")
    for i in range(15):
        engine = LocalEngine(store_target)
        engine.blocklists.create_or_update(f"l{i}")
        engine.blocklists.match("warm the cache", [f"l{i}"])  # a cache the listener would refresh
        other = LocalEngine(store_target)
        other.blocklists.add_or_update_items(f"l{i}", ["x"])  # a change from elsewhere, now
        other.close()
        time.sleep(0.05 * (i % 4))
        engine.close()
    time.sleep(1.5)  # past the listeners' next wake-up
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("url", ["postgresql://u:secretpw@[::1/db", "postgresql://u:secretpw@host:99999999/db"])
def test_a_malformed_store_url_is_a_store_error_that_does_not_echo_it(url):
    with pytest.raises(StoreError) as info:
        LocalEngine(url)
    assert "secretpw" not in str(info.value)
