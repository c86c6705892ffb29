"""LangChain v1 agent middleware: guard the user's turn and the model's reply.

``pip install 'guardrail[agents]'`` (langchain >= 1.0)::

    agent = create_agent(model, tools, middleware=[GuardrailMiddleware(guard)])

``before_model`` checks the newest user message (only when it is the newest message, so
tool round-trips are not re-checked); ``after_model`` checks the model's reply. A block
ends the run (``jump_to: end``) with the policy's refusal as the last AI message; a
redaction rewrites the message in place (same id), keeping its other fields.

**What it guards, and what not.** The middleware guards ``invoke`` and the state
(``stream_mode="values"``) only. Hooks run after the model node, so a *token* stream
(``stream_mode="messages"``) and the model node's own ``"updates"`` entry have already
carried the raw reply. To stream an agent, guard the model itself, so the messages are
filtered at the source::

    agent = create_agent(GuardedChatModel(model=model, guard=guard), tools,
                         middleware=[GuardrailMiddleware(guard, check_output=False)])

**Tool results.** When the prompt policy shields documents (``prompt_shield = true``),
every tool result is checked as a document before the model reads it (``wrap_tool_call``):
a result carrying instructions aimed at the assistant is replaced by a short notice
(``ToolMessage`` with ``status="error"``, same ``tool_call_id``), or raises with
``on_poisoned_tool="raise"``. Results returned as a ``Command`` are not inspected.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Literal

try:
    from langchain.agents.middleware import AgentMiddleware, hook_config
except ImportError as exc:  # pragma: no cover
    raise ImportError(
        "GuardrailMiddleware needs langchain >= 1.0: pip install 'guardrail[agents]'"
    ) from exc
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from guardrail import ContentBlockedError, Direction, Guard, Verdict

from ._content import extract

__all__ = ["GuardrailMiddleware"]


class GuardrailMiddleware(AgentMiddleware):  # type: ignore[type-arg]
    """Checks the last user message before the model and the model's reply after it."""

    WITHHELD = ("[guardrail] This tool result was withheld: it contained instructions addressed to the "
                "assistant (a possible prompt injection).")

    def __init__(self, guard: Guard, *, check_input: bool = True, check_output: bool = True,
                 check_tools: bool | None = None, on_poisoned_tool: Literal["replace", "raise"] = "replace") -> None:
        super().__init__()
        self.guard = guard
        self.check_input = check_input
        self.check_output = check_output
        shield = guard.policy.prompt.prompt_shield
        shields_documents = shield is not None and shield.documents
        if check_tools and not shields_documents:
            from guardrail import ConfigurationError

            raise ConfigurationError("check_tools=True needs a prompt policy that shields documents; add "
                                     "prompt_shield = true (or {documents = true}) to it")
        self.check_tools = shields_documents if check_tools is None else check_tools
        if on_poisoned_tool not in ("replace", "raise"):
            raise ValueError("on_poisoned_tool must be 'replace' or 'raise'")
        self.on_poisoned_tool = on_poisoned_tool

    # -- pure parts ----------------------------------------------------------------------

    def _target(self, state: Any, direction: Direction) -> BaseMessage | None:
        messages = state.get("messages") or []
        if not messages:
            return None
        last = messages[-1]
        wanted = HumanMessage if direction is Direction.PROMPT else AIMessage
        return last if isinstance(last, wanted) else None

    @staticmethod
    def _update(message: BaseMessage, verdict: Verdict, found: Any) -> dict[str, Any] | None:
        if verdict.blocked:
            refusal = AIMessage(content=verdict.text, response_metadata={"guardrail": "blocked"})
            if isinstance(message, AIMessage):  # replace the reply (and drop its tool calls)
                refusal.id = message.id
            return {"messages": [refusal], "jump_to": "end"}
        if verdict.redacted:
            return {"messages": [found.rebuild(found.split(verdict.text))]}
        return None

    # -- hooks ---------------------------------------------------------------------------

    async def _acheck(self, state: Any, direction: Direction) -> dict[str, Any] | None:
        message = self._target(state, direction)
        if message is None:
            return None
        found = extract(message, prompt=direction is Direction.PROMPT)
        if not found.texts or not found.joined.strip():
            return None
        verdict = await self.guard.check(found.joined, direction)
        return self._update(message, verdict, found)

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        if not self.check_input:
            return None
        return self.guard.run_sync(self._acheck(state, Direction.PROMPT))

    @hook_config(can_jump_to=["end"])
    async def abefore_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return await self._acheck(state, Direction.PROMPT) if self.check_input else None

    @hook_config(can_jump_to=["end"])
    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        if not self.check_output:
            return None
        return self.guard.run_sync(self._acheck(state, Direction.COMPLETION))

    @hook_config(can_jump_to=["end"])
    async def aafter_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return await self._acheck(state, Direction.COMPLETION) if self.check_output else None

    # -- tool results ----------------------------------------------------------------------

    async def _acheck_tool(self, result: Any) -> Any:
        if not self.check_tools or not isinstance(result, ToolMessage):
            return result
        found = extract(result)
        if not found.joined.strip():
            return result
        verdict = await self.guard.check("", Direction.PROMPT, documents=[found.joined])
        if not verdict.blocked:
            return result
        if self.on_poisoned_tool == "raise":
            raise ContentBlockedError(verdict)
        return result.model_copy(update={"content": self.WITHHELD, "status": "error", "artifact": None,
                                         "response_metadata": {**result.response_metadata, "guardrail": "withheld"}})

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        return self.guard.run_sync(self._acheck_tool(handler(request)))

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        return await self._acheck_tool(await handler(request))
