import json
import logging

import pytest

from guardrail import ConflictError, EmptyTextError, Guard, InvalidInputError, NotFoundError
from guardrail._resources import BuildStatus


@pytest.fixture
def engine(engine_on_each_store):
    """Every test here runs on SQLite and on PostgreSQL."""
    return engine_on_each_store


SPAM = ["Buy cheap followers now, 10k likes for 5 dollars!", "Get rich quick with this one weird crypto trick",
        "Click here to claim your free iPhone prize", "Limited offer: earn $5000 a week from home, no skills needed",
        "Hot singles in your area want to meet you, click now"]
HAM = ["The meeting moved to Tuesday at 3 pm.", "Can you help me with my math homework?",
       "I loved the movie last night, the ending was great.", "Please send me the quarterly report.",
       "What time does the pharmacy close?"]


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture
def samples(tmp_path):
    return write(tmp_path / "s.jsonl", [{"text": t, "isPositive": True} for t in SPAM * 10] +
                 [{"text": t, "isPositive": False} for t in HAM * 10])


def test_version_lifecycle_build_and_analyze(engine, samples):
    cats = engine.categories
    v1 = cats.create_version("spam", definition="unsolicited ads and scams", samples=samples)
    assert (v1.version, v1.status, v1.positives, v1.negatives) == (1, BuildStatus.NOT_STARTED, 50, 50)
    with pytest.raises(ConflictError, match="not built"):
        cats.analyze("x", ["spam:1"])
    with pytest.raises(ConflictError, match="no built version"):
        cats.analyze("x", ["spam"])
    running = cats.build("spam")
    assert running.status in (BuildStatus.RUNNING, BuildStatus.SUCCEEDED)
    assert cats.wait("spam", 1).status == BuildStatus.SUCCEEDED
    found = cats.analyze("Win a free prize now, click this link!", [{"categoryName": "spam"}])[0]
    assert found.detected and found.version == 1 and found.score > 0.5
    assert not cats.analyze("Could you move our call to Friday?", ["spam"])[0].detected
    v2 = cats.create_version("spam", definition="v2", samples=samples)
    assert v2.version == 2 and cats.get("spam").version == 2
    assert cats.analyze("Win a free prize now!", ["spam"])[0].version == 1  # latest *built*
    assert [v.version for v in cats.list()] == [2]
    cats.delete("spam", version=1)
    with pytest.raises(NotFoundError):
        cats.get("spam", 1)
    cats.delete("spam")
    with pytest.raises(NotFoundError):
        cats.get("spam")


def test_a_failed_build_leaves_the_previous_version_usable(engine, samples, monkeypatch):
    cats = engine.categories
    cats.create_version("spam", definition="d", samples=samples)
    cats.build("spam", wait=True)
    cats.create_version("spam", definition="d2", samples=samples)

    def broken(texts):
        raise RuntimeError("embedding exploded")

    monkeypatch.setattr(engine.embedder, "embed", broken)
    failed = cats.build("spam", 2, wait=True)
    assert failed.status == BuildStatus.FAILED and "embedding exploded" in failed.error
    monkeypatch.undo()
    assert cats.analyze("Click here to claim your prize", ["spam"])[0].version == 1


def test_warns_under_50_positives_and_uses_background_negatives(engine, tmp_path, caplog):
    path = write(tmp_path / "few.jsonl", [{"text": t, "isPositive": True} for t in SPAM])
    with caplog.at_level(logging.WARNING, logger="guardrail"):
        v = engine.categories.create_version("few", definition="d", samples=path)
    assert any("only 5 positive" in w for w in v.warnings) and "only 5 positive" in caplog.text
    assert any("no negative" in w for w in v.warnings)
    assert engine.categories.build("few", wait=True).status == BuildStatus.SUCCEEDED


@pytest.mark.parametrize(
    "lines,message",
    [
        (['{"text": "ok", "isPositive": true}', "{not json"], "line 2: not valid JSON"),
        (['{"text": "ok", "isPositive": "yes"}'], "line 1: isPositive must be true or false"),
        (['{"txt": "ok", "isPositive": true}'], "line 1: expected"),
        (['{"text": "no", "isPositive": false}'], "no positive samples"),
        ([], "has no samples"),
    ],
)
def test_malformed_jsonl_names_the_line_and_writes_nothing(engine, tmp_path, lines, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises((InvalidInputError, EmptyTextError), match=message):
        engine.categories.create_version("bad", definition="d", samples=str(path))
    assert engine.categories.list() == []


def test_samples_from_a_url(engine, respx_mock):
    import httpx

    body = "".join(json.dumps({"text": t, "isPositive": True}) + "\n" for t in SPAM)
    respx_mock.get("https://93.184.216.34/s.jsonl").mock(return_value=httpx.Response(200, text=body))
    v = engine.categories.create_version("u", definition="d", samples="https://93.184.216.34/s.jsonl")
    assert v.positives == 5 and v.sample_blob_url == "https://93.184.216.34/s.jsonl"


async def test_custom_categories_through_the_guard(engine, samples):
    engine.categories.create_version("spam", definition="d", samples=samples)
    engine.categories.build("spam", wait=True)
    guard = Guard({"harm": {}, "completion": {"custom_categories": [{"name": "spam", "action": "flag"}]}},
                  backend=engine)
    v = await guard.check_completion("Earn $5000 a week from home, click here now!")
    assert v.allowed and v.flagged and v.triggered[0].name == "spam"
    assert not (await guard.check_completion("Your order ships on Monday.")).flagged


def test_sample_urls_to_internal_addresses_are_refused(engine, respx_mock):
    import httpx

    from guardrail import InvalidInputError

    route = respx_mock.get("http://169.254.169.254/latest").mock(return_value=httpx.Response(200, text="{}"))
    with pytest.raises(InvalidInputError, match="internal address"):
        engine.categories.create_version("u", definition="d", samples="http://169.254.169.254/latest")
    assert not route.called


def test_a_version_built_by_another_encoder_is_refitted_for_this_one(engine, samples):
    import numpy as np

    from guardrail import LocalEngine

    cats = engine.categories
    cats.create_version("spam", definition="ads", samples=samples)
    cats.build("spam", wait=True)
    with engine.store.transaction() as conn:  # weights of "another model": useless here
        conn.execute("UPDATE category_versions SET model = ?, encoder = 'some-other-encoder'",
                     (np.zeros(385, dtype=np.float32).tobytes(),))
    found = LocalEngine(engine.store).categories.analyze("Win a free prize now, click this link!", ["spam"])[0]
    assert found.detected and found.score > 0.5
    with engine.store.transaction() as conn:  # the same zeros, said to be this encoder's: used as stored
        conn.execute("UPDATE category_versions SET encoder = 'all-MiniLM-L6-v2', built_at = 'later'")
    assert LocalEngine(engine.store).categories.analyze("Win a free prize now!", ["spam"])[0].score == 0.5
