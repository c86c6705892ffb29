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
"""

from __future__ import annotations

from typing import Any

try:
    from langchain.agents.middleware import AgentMiddleware, hook_config
except ImportError as exc:  # pragma: no cover
    raise ImportError(
        "GuardrailMiddleware needs langchain >= 1.0: pip install 'guardrail[agents]'"
    ) from exc
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from guardrail import Direction, Guard, Verdict

from ._content import extract

__all__ = ["GuardrailMiddleware"]


class GuardrailMiddleware(AgentMiddleware):  # type: ignore[type-arg]
    """Checks the last user message before the model and the model's reply after it."""

    def __init__(self, guard: Guard, *, check_input: bool = True, check_output: bool = True) -> None:
        super().__init__()
        self.guard = guard
        self.check_input = check_input
        self.check_output = check_output

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
