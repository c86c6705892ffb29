"""Streaming with redaction: a term split across chunks is never delivered. Offline.

    python examples/streaming_redaction.py
"""

import asyncio

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from guardrail import Guard, LocalEngine
from guardrail.integrations.langchain import GuardedRunnable

REPLY = (
    "Here is the plan. Project Aurora ships in May, and the staging box is build-srv-07. "
    "Then we celebrate. Then the password is hunter2, which must never be shown."
)


async def main() -> None:
    engine = LocalEngine(":memory:")
    engine.blocklists.create_or_update("internal")
    engine.blocklists.add_or_update_items("internal", ["Project Aurora", "build-srv-07"])
    engine.blocklists.create_or_update("secrets")
    engine.blocklists.add_or_update_items("secrets", ["hunter2"])
    guard = Guard(
        {"harm": {}, "completion": {"blocklists": [{"name": "internal", "action": "redact"}, "secrets"]}},
        backend=engine,
    )
    # FakeListChatModel streams one character per chunk: every term is split across chunks.
    chain = GuardedRunnable(FakeListChatModel(responses=[REPLY]), guard, on_block="refuse")
    chunks = [str(chunk.content) async for chunk in chain.astream("what's the plan?")]
    print(f"delivered {len(chunks)} chunks, word by word as they become safe:")
    print(repr("".join(chunks)))
    await guard.aclose()


if __name__ == "__main__":
    asyncio.run(main())
