"""GuardedRunnable, guard_input and guard_output: guardrail as LangChain runnables."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Literal, Optional

from langchain_core.callbacks import AsyncCallbackManagerForChainRun, CallbackManagerForChainRun
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import patch_config
from pydantic import ConfigDict, Field

from guardrail import ContentBlockedError, Direction, Guard, StreamFilter, Verdict

from ._callbacks import mute_upstream_events, quiet_child
from ._content import carries_data, chunk_text, documents_in, extract, image_of, is_documents, refusal_like, with_text

OnBlock = Literal["raise", "refuse"]


class _Blocked:
    """An input the policy refused; carries what to return instead."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict


class _GuardBase(RunnableSerializable[Any, Any]):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    guard: Any = Field(exclude=True)
    """The :class:`guardrail.Guard` whose policy applies."""
    on_block: OnBlock = "raise"
    """``raise`` a :class:`ContentBlockedError` carrying the verdict, or ``refuse``: return
    the policy's refusal (an ``AIMessage``, or a str where the output is a str)."""
    input_key: Optional[str] = None
    """For dict inputs: the field holding the prompt (default: every text field)."""
    output_key: Optional[str] = None
    """For dict outputs: the field holding the completion (default: every text field)."""
    all_messages: bool = False
    """Check every user message of a message list, not only the last one."""
    stream_options: dict[str, Any] = Field(default_factory=dict)
    """Options for the :class:`StreamFilter` (``max_hold``, ``margin``, ``context``)."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return False

    # -- the Runnable entry points; subclasses provide _invoke/_ainvoke/_transform/_atransform

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self.transform(iter([input]), config, **kwargs)

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self._transform_stream_with_config(input, self._transform, config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        async def once() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(once(), config, **kwargs):
            yield chunk

    async def atransform(self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        async for chunk in self._atransform_stream_with_config(input, self._atransform, config, **kwargs):
            yield chunk

    # -- checks shared by every path ---------------------------------------------------

    async def _acheck(self, value: Any, direction: Direction) -> Any:
        """The value with checked text, or _Blocked."""
        prompt = direction is Direction.PROMPT
        guard: Guard = self.guard
        shield = guard.policy_for(direction).prompt_shield
        reads_documents = prompt and shield is not None and shield.documents
        if reads_documents and is_documents(value):  # a retriever's output: drop the poisoned ones
            verdict = await guard.check("", direction, documents=[d.page_content for d in value])
            poisoned = {f.document for f in verdict.triggered if f.document is not None} if verdict.blocked else set()
            if verdict.blocked and not poisoned:
                return _Blocked(verdict)  # the check itself failed (fail mode closed)
            return [d for i, d in enumerate(value) if i not in poisoned]
        documents = documents_in(value) if reads_documents else []
        found = extract(
            value,
            key=self.input_key if prompt else self.output_key,
            all_messages=self.all_messages,
            prompt=prompt,
        )
        if found.images and guard.checks_images(direction):
            for part in found.images:
                image = image_of(part)
                if image is None:
                    continue
                image_verdict = await guard.check_image(image, direction)
                if image_verdict.blocked:
                    return _Blocked(image_verdict)
        if (not found.texts or not found.joined.strip()) and not documents:
            return value  # nothing to check (e.g. a tool-call-only message)
        verdict = await guard.check(found.joined if found.joined.strip() else "", direction,
                                    documents=documents or None)
        if verdict.blocked:
            return _Blocked(verdict)
        if verdict.redacted:
            return found.rebuild(found.split(verdict.text))
        return value

    def _blocked_output(self, blocked: _Blocked, template: Any) -> Any:
        if self.on_block == "raise":
            raise ContentBlockedError(blocked.verdict)
        key = self.output_key if isinstance(template, dict) else None
        return refusal_like(template, blocked.verdict.text, key)

    def _check_sync(self, value: Any, direction: Direction) -> Any:
        return self.guard.run_sync(self._acheck(value, direction))

    def _new_filter(self) -> StreamFilter:
        return self.guard.stream_filter(Direction.COMPLETION, **self.stream_options)

    def _stream_blocked(self, f: StreamFilter) -> None:
        if self.on_block == "raise":
            assert f.blocked_verdict is not None
            raise ContentBlockedError(f.blocked_verdict)


def _gather(inputs: Iterator[Any]) -> Any:
    final = None
    for chunk in inputs:
        final = chunk if final is None else final + chunk
    return final


async def _agather(inputs: AsyncIterator[Any]) -> Any:
    final = None
    async for chunk in inputs:
        final = chunk if final is None else final + chunk
    return final


class GuardedRunnable(_GuardBase):
    """Wraps any Runnable: checks its input before it runs and its output after.

    Usage::

        chain = GuardedRunnable(prompt | llm | StrOutputParser(), guard, on_block="refuse")
        chain.invoke({"question": "..."})
        async for chunk in chain.astream({"question": "..."}):
            ...  # only text the policy passed; a block ends the stream with the refusal

    Supports invoke, ainvoke, batch, abatch, stream, astream and astream_events, and
    passes config (callbacks, tags, run names) through to the wrapped runnable. A
    blocked input never reaches the wrapped runnable; its own exceptions pass through.
    The wrapped runnable runs without the handlers that feed event streams
    (``astream_events``, ``astream_log``, LangGraph's message stream), so they see only
    this runnable's checked output, never the raw tokens; tracers still record it.
    """

    bound: Runnable[Any, Any]
    check_input: bool = True
    check_output: bool = True

    def __init__(self, bound: Runnable[Any, Any], guard: Guard, **kwargs: Any) -> None:
        super().__init__(bound=bound, guard=guard, **kwargs)

    def _output_template(self) -> Any:
        """What a refusal should look like when the wrapped runnable never ran."""
        try:
            returns_str = self.bound.OutputType is str
        except Exception:  # some runnables cannot tell their output type
            returns_str = False
        return "" if returns_str else AIMessage(content="")

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        return super().get_name(suffix, name=name or f"Guarded{self.bound.get_name()}")

    # invoke ----------------------------------------------------------------------------

    def _invoke(self, input: Any, run_manager: CallbackManagerForChainRun, config: RunnableConfig, **kwargs: Any) -> Any:
        if self.check_input:
            input = self._check_sync(input, Direction.PROMPT)
            if isinstance(input, _Blocked):
                return self._blocked_output(input, self._output_template())
        output = self.bound.invoke(input, patch_config(config, callbacks=quiet_child(run_manager)), **kwargs)
        if not self.check_output:
            return output
        checked = self._check_sync(output, Direction.COMPLETION)
        return self._blocked_output(checked, output) if isinstance(checked, _Blocked) else checked

    async def _ainvoke(self, input: Any, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig, **kwargs: Any) -> Any:
        if self.check_input:
            input = await self._acheck(input, Direction.PROMPT)
            if isinstance(input, _Blocked):
                return self._blocked_output(input, self._output_template())
        output = await self.bound.ainvoke(input, patch_config(config, callbacks=quiet_child(run_manager)), **kwargs)
        if not self.check_output:
            return output
        checked = await self._acheck(output, Direction.COMPLETION)
        return self._blocked_output(checked, output) if isinstance(checked, _Blocked) else checked

    # streams ---------------------------------------------------------------------------

    def _transform(self, inputs: Iterator[Any], run_manager: CallbackManagerForChainRun, config: RunnableConfig) -> Iterator[Any]:
        value = _gather(inputs)
        if self.check_input:
            value = self._check_sync(value, Direction.PROMPT)
            if isinstance(value, _Blocked):
                yield self._blocked_output(value, self._output_template())
                return
        upstream = self.bound.stream(value, patch_config(config, callbacks=quiet_child(run_manager)))
        if not self.check_output:
            yield from upstream
            return
        yield from _filter_sync(self, upstream)

    async def _atransform(self, inputs: AsyncIterator[Any], run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig) -> AsyncIterator[Any]:
        value = await _agather(inputs)
        if self.check_input:
            value = await self._acheck(value, Direction.PROMPT)
            if isinstance(value, _Blocked):
                yield self._blocked_output(value, self._output_template())
                return
        upstream = self.bound.astream(value, patch_config(config, callbacks=quiet_child(run_manager)))
        if not self.check_output:
            async for chunk in upstream:
                yield chunk
            return
        async for chunk in _filter_async(self, upstream):
            yield chunk


def _filter_sync(step: _GuardBase, upstream: Iterator[Any]) -> Iterator[Any]:
    """Pass text chunks through a StreamFilter; buffer and check other chunk types whole."""
    f = step._new_filter()
    run = step.guard.run_sync
    template: Any = None
    others: Any = None
    try:
        for chunk in upstream:
            text = chunk_text(chunk)
            if text is None:
                others = chunk if others is None else others + chunk
                continue
            if not text and carries_data(chunk):
                yield chunk  # tool-call chunks, usage: no text to hold back
                continue
            template = chunk
            released = run(f.push(text))
            if f.blocked:
                step._stream_blocked(f)
                yield with_text(chunk, released)
                return
            if released:
                yield with_text(chunk, released)
        if template is not None:
            rest = run(f.close())
            if f.blocked:
                step._stream_blocked(f)
            if rest:
                yield with_text(template, rest)
        if others is not None:
            checked = run(step._acheck(others, Direction.COMPLETION))
            yield step._blocked_output(checked, others) if isinstance(checked, _Blocked) else checked
    finally:
        close = getattr(upstream, "close", None)
        if close is not None:
            close()  # a block stops the wrapped stream


async def _filter_async(step: _GuardBase, upstream: AsyncIterator[Any]) -> AsyncIterator[Any]:
    f = step._new_filter()
    template: Any = None
    others: Any = None
    try:
        async for chunk in upstream:
            text = chunk_text(chunk)
            if text is None:
                others = chunk if others is None else others + chunk
                continue
            if not text and carries_data(chunk):
                yield chunk  # tool-call chunks, usage: no text to hold back
                continue
            template = chunk
            released = await f.push(text)
            if f.blocked:
                step._stream_blocked(f)
                yield with_text(chunk, released)
                return
            if released:
                yield with_text(chunk, released)
        if template is not None:
            rest = await f.close()
            if f.blocked:
                step._stream_blocked(f)
            if rest:
                yield with_text(template, rest)
        if others is not None:
            checked = await step._acheck(others, Direction.COMPLETION)
            yield step._blocked_output(checked, others) if isinstance(checked, _Blocked) else checked
    finally:
        aclose = getattr(upstream, "aclose", None)
        if aclose is not None:
            await aclose()


class _GuardStep(_GuardBase):
    """One direction as a pipeable step: ``guard_input(g) | llm | guard_output(g)``."""

    direction: Direction

    def _invoke(self, input: Any) -> Any:
        checked = self._check_sync(input, self.direction)
        return self._blocked_output(checked, input) if isinstance(checked, _Blocked) else checked

    async def _ainvoke(self, input: Any) -> Any:
        checked = await self._acheck(input, self.direction)
        return self._blocked_output(checked, input) if isinstance(checked, _Blocked) else checked

    def _transform(self, inputs: Iterator[Any]) -> Iterator[Any]:
        if self.direction is Direction.PROMPT:
            yield self._invoke(_gather(inputs))
        else:
            yield from _filter_sync(self, inputs)

    async def _atransform(self, inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if self.direction is Direction.PROMPT:
            yield await self._ainvoke(await _agather(inputs))
        else:
            async for chunk in _filter_async(self, inputs):
                yield chunk

    async def atransform(self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        if self.direction is Direction.COMPLETION:
            # Before LangChain pulls the first chunk from the model upstream (it does so
            # before this step's run starts): that chunk's event would be raw.
            config = mute_upstream_events(config)
        async for chunk in super().atransform(input, config, **kwargs):
            yield chunk


def guard_input(guard: Guard, *, key: str | None = None, all_messages: bool = False) -> Runnable[Any, Any]:
    """A step that checks (and redacts) the prompt; a block raises ContentBlockedError.

    In a pipe nothing can stand in for a refused prompt, so this step always raises;
    use :class:`GuardedRunnable` (``on_block="refuse"``) to answer with the refusal.
    """
    return _GuardStep(guard=guard, direction=Direction.PROMPT, input_key=key, all_messages=all_messages,
                      name="guard_input")


def guard_output(guard: Guard, *, key: str | None = None, on_block: OnBlock = "raise", **stream_options: Any) -> Runnable[Any, Any]:
    """A step that checks the completion; streams pass through a StreamFilter."""
    return _GuardStep(guard=guard, direction=Direction.COMPLETION, output_key=key, on_block=on_block,
                      stream_options=stream_options, name="guard_output")
