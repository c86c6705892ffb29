import time

import pytest

from guardrail import (
    ConflictError,
    EmptyTextError,
    InvalidInputError,
    LimitExceededError,
    LocalEngine,
    NotFoundError,
    StoreError,
)
from guardrail._resources import BLOCKLIST_LIMITS


@pytest.fixture
def engine(engine_on_each_store):
    """Every test here runs on SQLite and on PostgreSQL."""
    return engine_on_each_store


def test_blocklist_lifecycle(engine):
    bl = engine.blocklists.create_or_update("slurs", description="first")
    assert bl.model_dump(by_alias=True) == {"blocklistName": "slurs", "description": "first"}
    engine.blocklists.create_or_update("slurs", description="second")
    assert engine.blocklists.get("slurs").description == "second"
    engine.blocklists.create_or_update("another")
    assert [b.blocklist_name for b in engine.blocklists.list()] == ["another", "slurs"]
    engine.blocklists.delete("another")
    with pytest.raises(NotFoundError, match="no blocklist named 'another'"):
        engine.blocklists.get("another")
    with pytest.raises(NotFoundError):
        engine.blocklists.delete("another")


def test_items_add_update_list_get_remove(engine):
    engine.blocklists.create_or_update("codes")
    added = engine.blocklists.add_or_update_items(
        "codes", ["aurora", {"text": "nebula", "description": "old"}]
    )
    ids = [i.blocklist_item_id for i in added]
    assert len(set(ids)) == 2
    # Adding an existing term keeps its id and updates the description.
    again = engine.blocklists.add_or_update_items("codes", [{"text": "nebula", "description": "new"}])
    assert again[0].blocklist_item_id == ids[1]
    assert engine.blocklists.get_item("codes", ids[1]).description == "new"
    assert [i.text for i in engine.blocklists.list_items("codes")] == ["aurora", "nebula"]
    assert [i.text for i in engine.blocklists.list_items("codes", top=1, skip=1)] == ["nebula"]
    assert engine.blocklists.get_item("codes", ids[0]).model_dump(by_alias=True) == {
        "blocklistItemId": ids[0], "text": "aurora", "description": "", "isRegex": False
    }
    engine.blocklists.remove_items("codes", [ids[0]])
    assert [i.text for i in engine.blocklists.list_items("codes")] == ["nebula"]
    with pytest.raises(NotFoundError):
        engine.blocklists.get_item("codes", ids[0])


def test_deleting_a_list_deletes_its_items(engine):
    engine.blocklists.create_or_update("tmp")
    engine.blocklists.add_or_update_items("tmp", ["x1"])
    engine.blocklists.delete("tmp")
    engine.blocklists.create_or_update("tmp")
    assert engine.blocklists.list_items("tmp") == []


@pytest.mark.parametrize(
    "name,error",
    [
        ("", EmptyTextError),
        ("x" * (BLOCKLIST_LIMITS.name_length + 1), LimitExceededError),
        ("has space", InvalidInputError),
        (42, InvalidInputError),
    ],
)
def test_bad_list_names(engine, name, error):
    with pytest.raises(error):
        engine.blocklists.create_or_update(name)


def test_bad_items_write_nothing(engine):
    engine.blocklists.create_or_update("l")
    engine.blocklists.add_or_update_items("l", ["keep"])
    bad_batches = [
        (["ok", ""], EmptyTextError),
        (["ok", "x" * (BLOCKLIST_LIMITS.item_text_length + 1)], LimitExceededError),
        (["ok", "ok"], ConflictError),
        (["ok", {"text": "(", "isRegex": True}], InvalidInputError),
        (["ok", 3], InvalidInputError),
        (["ok", {"text": "z", "description": "d" * 1025}], LimitExceededError),
        (["ok", "\u200b"], EmptyTextError),
        ([], EmptyTextError),
        ("ok", InvalidInputError),
    ]
    for items, error in bad_batches:
        with pytest.raises(error):
            engine.blocklists.add_or_update_items("l", items)
    assert [i.text for i in engine.blocklists.list_items("l")] == ["keep"]
    with pytest.raises(NotFoundError, match="create it with"):
        engine.blocklists.add_or_update_items("nope", ["a"])


def test_remove_checks_every_id_before_removing_any(engine):
    engine.blocklists.create_or_update("l")
    a, b = engine.blocklists.add_or_update_items("l", ["a1", "b1"])
    with pytest.raises(NotFoundError, match="missing-id"):
        engine.blocklists.remove_items("l", [a.blocklist_item_id, "missing-id"])
    with pytest.raises(ConflictError, match="more than once"):
        engine.blocklists.remove_items("l", [a.blocklist_item_id, a.blocklist_item_id])
    assert len(engine.blocklists.list_items("l")) == 2


def test_item_limit_per_list(engine, monkeypatch):
    monkeypatch.setattr(BLOCKLIST_LIMITS, "items_per_list", 3)
    engine.blocklists.create_or_update("l")
    engine.blocklists.add_or_update_items("l", ["a", "b"])
    with pytest.raises(LimitExceededError, match="limit of 3"):
        engine.blocklists.add_or_update_items("l", ["c", "d"])
    # Updating existing terms does not count against the limit.
    engine.blocklists.add_or_update_items("l", ["a", "b", "c"])
    assert len(engine.blocklists.list_items("l")) == 3


def test_ten_thousand_items_in_one_transaction(engine):
    engine.blocklists.create_or_update("big")
    terms = [f"term{i}" for i in range(10_000)]
    engine.blocklists.add_or_update_items("big", terms)
    hits = engine.blocklists.match("say term9999 and term0 but not term10000x", ["big"])
    assert sorted(m.term.text for _, m in hits) == ["term0", "term9999"]


def test_changes_persist_and_reach_other_processes_matchers(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = LocalEngine(path)
    first.blocklists.create_or_update("l")
    first.blocklists.add_or_update_items("l", ["alpha"])
    assert len(first.blocklists.match("alpha beta", ["l"])) == 1  # matcher now cached
    second = LocalEngine(path)  # another connection, as another process would have
    second.blocklists.add_or_update_items("l", ["beta"])
    deadline = time.monotonic() + 2.0  # the staleness bound: the watcher polls every 0.1 s
    while len(first.blocklists.match("alpha beta", ["l"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(m.term.text for _, m in first.blocklists.match("alpha beta", ["l"])) == [
        "alpha", "beta"
    ]
    second.blocklists.delete("l")
    deadline = time.monotonic() + 2.0
    with pytest.raises(NotFoundError):
        while time.monotonic() < deadline:
            first.blocklists.match("alpha", ["l"])
            time.sleep(0.01)
    first.close()
    second.close()


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    path = tmp_path / "s.sqlite3"
    engine = LocalEngine(path)
    engine.blocklists.create_or_update("l")
    # Make the second insert fail inside the transaction, after the first succeeded.
    with engine.store.transaction() as conn:
        conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON blocklist_items "
            "WHEN NEW.text = 'second' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    with pytest.raises(StoreError, match="rolled back: disk on fire"):
        engine.blocklists.add_or_update_items("l", ["first", "second"])
    engine.close()
    reopened = LocalEngine(path)
    assert reopened.blocklists.list_items("l") == []
    reopened.close()
