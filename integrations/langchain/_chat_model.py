"""GuardedChatModel: a chat model that guards another chat model."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional

from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, model_validator

from guardrail import ContentBlockedError, Direction, Guard

from ._callbacks import quiet_child
from ._content import chunk_text, documents_in, extract


class GuardedChatModel(BaseChatModel):
    """A chat model that checks the last user message before ``model`` sees it and the
    reply before the caller does. Streams pass through a :class:`guardrail.StreamFilter`.

    Usage::

        llm = GuardedChatModel(model=ChatOpenAI(), guard=Guard("policy.toml"))
        llm.invoke("hello")  # a blocked prompt gets the policy's refusal as the reply
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: BaseChatModel
    """The chat model to guard."""
    guard: Any = Field(default=None, exclude=True)
    """The :class:`guardrail.Guard`; a default Guard (local engine) when omitted."""
    on_block: str = "refuse"
    """``refuse``: answer with the policy's refusal; ``raise``: raise ContentBlockedError."""
    all_messages: bool = False
    stream_options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _defaults(self) -> GuardedChatModel:
        if self.guard is None:
            self.guard = Guard()
        if self.on_block not in ("refuse", "raise"):
            raise ValueError("on_block must be 'refuse' or 'raise'")
        return self

    @property
    def _llm_type(self) -> str:
        return f"guarded-{self.model._llm_type}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model._identifying_params, "on_block": self.on_block}

    def _get_ls_params(self, stop: Optional[list[str]] = None, **kwargs: Any) -> Any:
        params = self.model._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = f"guarded-{params.get('ls_provider', 'unknown')}"
        params.setdefault("ls_model_name", self.model._llm_type)
        return params

    # -- helpers -------------------------------------------------------------------------

    async def _check_prompt(self, messages: list[BaseMessage]) -> list[BaseMessage] | AIMessage:
        found = extract(messages, all_messages=self.all_messages, prompt=True)
        shield = self.guard.policy.prompt.prompt_shield
        documents: list[str] = []
        if shield is not None and shield.documents:
            # The newest tool results (after the last AI turn) are what this call reads fresh.
            last_ai = max((i for i, m in enumerate(messages) if isinstance(m, AIMessage)), default=-1)
            documents = documents_in(list(messages[last_ai + 1:]))
        if (not found.texts or not found.joined.strip()) and not documents:
            return messages
        verdict = await self.guard.check(found.joined if found.joined.strip() else "", Direction.PROMPT,
                                         documents=documents or None)
        if verdict.blocked:
            if self.on_block == "raise":
                raise ContentBlockedError(verdict)
            return AIMessage(content=verdict.text, response_metadata={"guardrail": "blocked"})
        return found.rebuild(found.split(verdict.text)) if verdict.redacted else messages

    async def _check_reply(self, message: BaseMessage) -> BaseMessage:
        found = extract(message, prompt=False)
        if not found.texts or not found.joined.strip():
            return message
        verdict = await self.guard.check(found.joined, Direction.COMPLETION)
        if verdict.blocked:
            if self.on_block == "raise":
                raise ContentBlockedError(verdict)
            return AIMessage(content=verdict.text, id=message.id, response_metadata={"guardrail": "blocked"})
        return found.rebuild(found.split(verdict.text)) if verdict.redacted else message

    @staticmethod
    def _result(message: BaseMessage) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=message)])

    # -- generate ------------------------------------------------------------------------

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        checked = self.guard.run_sync(self._check_prompt(messages))
        if isinstance(checked, AIMessage):
            return self._result(checked)
        callbacks = _child(run_manager, CallbackManager)
        reply = self.model.invoke(checked, stop=stop, config={"callbacks": callbacks}, **kwargs)
        return self._result(self.guard.run_sync(self._check_reply(reply)))

    async def _agenerate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                         run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        checked = await self._check_prompt(messages)
        if isinstance(checked, AIMessage):
            return self._result(checked)
        callbacks = _child(run_manager, AsyncCallbackManager)
        reply = await self.model.ainvoke(checked, stop=stop, config={"callbacks": callbacks}, **kwargs)
        return self._result(await self._check_reply(reply))

    # -- stream --------------------------------------------------------------------------

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        run = self.guard.run_sync
        checked = run(self._check_prompt(messages))
        if isinstance(checked, AIMessage):
            yield self._chunk(str(checked.content), run_manager)
            return
        f = self.guard.stream_filter(Direction.COMPLETION, **self.stream_options)
        upstream = self.model.stream(
            checked, stop=stop, config={"callbacks": _child(run_manager, CallbackManager)}, **kwargs
        )
        try:
            for chunk in upstream:
                text = chunk_text(chunk)
                if text is None:
                    continue
                released = run(f.push(text))
                if f.blocked and self.on_block == "raise":
                    raise ContentBlockedError(f.blocked_verdict)  # type: ignore[arg-type]
                if released:
                    yield self._chunk(released, run_manager)
                if f.blocked:
                    return
            rest = run(f.close())
            if f.blocked and self.on_block == "raise":
                raise ContentBlockedError(f.blocked_verdict)  # type: ignore[arg-type]
            if rest:
                yield self._chunk(rest, run_manager)
        finally:
            upstream.close()

    async def _astream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                       run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        checked = await self._check_prompt(messages)
        if isinstance(checked, AIMessage):
            yield await self._achunk(str(checked.content), run_manager)
            return
        f = self.guard.stream_filter(Direction.COMPLETION, **self.stream_options)
        upstream = self.model.astream(
            checked, stop=stop, config={"callbacks": _child(run_manager, AsyncCallbackManager)}, **kwargs
        )
        try:
            async for chunk in upstream:
                text = chunk_text(chunk)
                if text is None:
                    continue
                released = await f.push(text)
                if f.blocked and self.on_block == "raise":
                    raise ContentBlockedError(f.blocked_verdict)  # type: ignore[arg-type]
                if released:
                    yield await self._achunk(released, run_manager)
                if f.blocked:
                    return
            rest = await f.close()
            if f.blocked and self.on_block == "raise":
                raise ContentBlockedError(f.blocked_verdict)  # type: ignore[arg-type]
            if rest:
                yield await self._achunk(rest, run_manager)
        finally:
            await upstream.aclose()

    @staticmethod
    def _chunk(text: str, run_manager: Optional[CallbackManagerForLLMRun]) -> ChatGenerationChunk:
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager:
            run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk

    @staticmethod
    async def _achunk(text: str, run_manager: Optional[AsyncCallbackManagerForLLMRun]) -> ChatGenerationChunk:
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager:
            await run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk


def _child(run_manager: Any, manager_class: Any) -> Any:
    """Callbacks for the wrapped model's run, nested under this model's run, without the
    handlers that would pass its raw tokens to a stream's consumer (tracers stay)."""
    return quiet_child(run_manager, manager_class)
