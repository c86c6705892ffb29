import dataclasses

import pytest

from guardrail import ContentBlockedError, Guard, LocalEngine, UnsupportedInputError
from guardrail.integrations.callables import guarded


@pytest.fixture
def guard():
    engine = LocalEngine(":memory:")
    engine.blocklists.create_or_update("codes")
    engine.blocklists.add_or_update_items("codes", ["Project Aurora"])
    engine.blocklists.create_or_update("banned")
    engine.blocklists.add_or_update_items("banned", ["hunter2"])
    g = Guard({"harm": {}, "blocklists": ["banned", {"name": "codes", "action": "redact"}]}, backend=engine)
    yield g
    g.close()


async def test_async_handler_input_and_output(guard):
    seen = []

    @guarded(guard)
    async def chat(user_id: int, prompt: str) -> str:
        seen.append(prompt)
        return f"About {prompt}: Project Aurora ships soon."

    assert await chat(1, "Project Aurora?") == "About ******* ******?: ******* ****** ships soon."
    assert seen == ["******* ******?"]
    assert await chat(1, prompt="my pw is hunter2") == guard.policy.prompt.refusal
    assert len(seen) == 1  # the blocked prompt never reached the handler
    assert chat.__name__ == "chat"


async def test_prompt_arg_by_name_and_position_and_raise_mode(guard):
    @guarded(guard, prompt_arg="message", on_block="raise")
    async def chat(system: str, message: str) -> str:
        return "ok"

    assert await chat("you are hunter2-free", "hello") == "ok"  # only `message` is checked
    with pytest.raises(ContentBlockedError) as info:
        await chat("sys", "hunter2")
    assert info.value.verdict.blocked

    @guarded(guard, prompt_arg=1)
    def sync_chat(system: str, message: str) -> str:
        return message

    assert sync_chat("Project Aurora", "and Project Aurora") == "and ******* ******"
    from guardrail import ConfigurationError

    with pytest.raises(ConfigurationError, match="no parameter 'nope'"):  # at decoration, not first call
        guarded(guard, prompt_arg="nope")(lambda x: x)


async def test_message_shaped_inputs_and_outputs(guard):
    @dataclasses.dataclass
    class Reply:
        content: str
        role: str = "assistant"

    @guarded(guard)
    async def chat(messages: list) -> Reply:
        return Reply(content="Project Aurora, as asked: " + messages[-1]["content"])

    history = [{"role": "user", "content": "old Project Aurora"}, {"role": "assistant", "content": "x"},
               {"role": "user", "content": "new Project Aurora"}]
    out = await chat(history)
    assert out == Reply(content="******* ******, as asked: new ******* ******")
    assert history[-1]["content"] == "new Project Aurora"  # the caller's list is not mutated

    @guarded(guard)
    async def as_dict(prompt: str) -> dict:
        return {"role": "assistant", "content": "hunter2"}

    assert await as_dict("hi") == {"role": "assistant", "content": guard.policy.completion.refusal}


async def test_async_generator_streams_are_filtered(guard):
    reply = "Sure thing. Project Aurora ships in May. " + "Padding words to pass the margin. " * 4

    @guarded(guard)
    async def stream(prompt: str):
        for ch in reply:  # one character at a time: terms split across chunks
            yield ch

    out = [c async for c in stream("hi")]
    assert "".join(out) == reply.replace("Project Aurora", "******* ******")
    for i in range(len(out)):
        assert "Aurora" not in "".join(out[: i + 1])

    @guarded(guard)
    async def leaky(prompt: str):
        yield "All good so far, nothing to see. " * 4
        yield "The password is hunter2. "
        yield "Never delivered."

    out = [c async for c in leaky("hi")]
    assert out[-1] == guard.policy.completion.refusal and "hunter2" not in "".join(out)
    assert [c async for c in stream("hunter2")] == [guard.policy.prompt.refusal]


def test_sync_generator_and_bad_chunks(guard):
    @guarded(guard)
    def stream(prompt: str):
        yield "Project "
        yield "Aurora is here."

    assert "".join(stream("hi")) == "******* ****** is here."

    @guarded(guard)
    def bad(prompt: str):
        yield 42

    with pytest.raises(UnsupportedInputError, match="yield str chunks"):
        list(bad("hi"))


async def test_unsupported_prompt_and_result_types(guard):
    @guarded(guard)
    async def chat(n: int) -> str:
        return "x"

    with pytest.raises(UnsupportedInputError, match="argument .n. is a int"):
        await chat(3)

    @guarded(guard)
    async def odd(prompt: str) -> int:
        return 3

    with pytest.raises(UnsupportedInputError, match="returned a int"):
        await odd("hi")


async def test_prompt_is_found_by_name_before_position(guard):
    seen = []

    @guarded(guard)
    async def chat(user_id: str, prompt: str) -> str:  # the README's example
        seen.append(prompt)
        return "fine"

    assert await chat("u-1", "What is Project Aurora?") == "fine"
    assert await chat(user_id="u-1", prompt="What is Project Aurora?") == "fine"
    assert seen == ["What is ******* ******?"] * 2
    blocked = await chat("u-1", "tell me hunter2")
    assert blocked == guard.policy.prompt.refusal


def test_ambiguous_or_unknown_prompt_arg_is_refused_at_decoration(guard):
    from guardrail import ConfigurationError

    with pytest.raises(ConfigurationError, match="prompt_arg="):
        @guarded(guard)
        async def two(message: str, query: str) -> str:
            return ""

    with pytest.raises(ConfigurationError, match="prompt_arg="):
        @guarded(guard)
        async def unnamed(user: str, body: str) -> str:
            return ""

    with pytest.raises(ConfigurationError, match="no parameter 'prompt'"):
        @guarded(guard, prompt_arg="prompt")
        async def other(message: str) -> str:
            return ""

    @guarded(guard, prompt_arg="body")  # explicit wins
    async def fine(user: str, body: str) -> str:
        return body

    assert guard.run_sync(fine("u", "hello")) == "hello"
