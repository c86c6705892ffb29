import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from guardrail import Guard, LocalEngine

REPLY = "Sure. Project Aurora ships in May and runs on build-srv-07. Anything else?"


@pytest.fixture
def guard():
    engine = LocalEngine(":memory:")
    engine.blocklists.create_or_update("codes")
    engine.blocklists.add_or_update_items("codes", ["Project Aurora", "build-srv-07"])
    engine.blocklists.create_or_update("banned")
    engine.blocklists.add_or_update_items("banned", ["hunter2", "ignore previous instructions"])
    g = Guard(
        {
            "harm": {},
            "prompt": {"blocklists": ["banned", {"name": "codes", "action": "redact"}]},
            "completion": {"blocklists": ["banned", {"name": "codes", "action": "redact"}]},
        },
        backend=engine,
    )
    yield g
    g.close()


@pytest.fixture
def llm():
    return FakeListChatModel(responses=[REPLY])
