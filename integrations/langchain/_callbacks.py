"""Callbacks for the runs a guard wraps: tracing yes, token streams no.

A wrapped model's own callbacks would hand its raw tokens and output to whatever consumes
the stream — ``astream_events``/``astream_log`` and LangGraph's ``stream_mode="messages"``
all listen through callback handlers. The inner run therefore gets the parent's callbacks
minus every handler that streams (LangChain marks them with ``_StreamingCallbackHandler``)
and minus plain handlers that read tokens; tracers (LangSmith and the like) stay, so the
inner run is still traced. The consumer sees the guard's own, checked, events instead.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.tracers.base import AsyncBaseTracer, BaseTracer

try:  # the marker LangChain puts on astream_events, astream_log and LangGraph's handlers
    from langchain_core.tracers._streaming import _StreamingCallbackHandler as _STREAMING
except ImportError:  # pragma: no cover - older langchain-core
    _STREAMING = None

__all__ = ["mute_upstream_events", "quiet_child", "reaches_consumer"]

_NO_TOKEN_HOOK = {BaseCallbackHandler.on_llm_new_token, AsyncCallbackHandler.on_llm_new_token}


def reaches_consumer(handler: Any) -> bool:
    """Whether ``handler`` could pass a wrapped model's raw tokens or output on."""
    if _STREAMING is not None and _STREAMING in type(handler).__mro__:
        return True
    if isinstance(handler, (BaseTracer, AsyncBaseTracer)):
        return False  # records runs for tracing; does not deliver text to a user
    return getattr(type(handler), "on_llm_new_token", None) not in _NO_TOKEN_HOOK


def quiet_child(run_manager: Any, manager_class: Any = None) -> Any:
    """A child callback manager of ``run_manager`` without handlers that reach the consumer.

    Without a run manager the wrapped call would inherit the caller's callbacks from
    LangChain's context; those are filtered the same way (never ``None``, which inherits).
    """
    if run_manager is None:
        return _quiet_context()
    if manager_class is None:
        child = run_manager.get_child()
        child.handlers = [h for h in child.handlers if not reaches_consumer(h)]
        child.inheritable_handlers = [h for h in child.inheritable_handlers if not reaches_consumer(h)]
        return child
    manager = manager_class(handlers=[], parent_run_id=run_manager.run_id)
    manager.set_handlers([h for h in run_manager.inheritable_handlers if not reaches_consumer(h)])
    manager.add_tags(run_manager.inheritable_tags)
    manager.add_metadata(run_manager.inheritable_metadata)
    return manager


def _quiet_context() -> Any:
    from langchain_core.runnables.config import var_child_runnable_config

    inherited = (var_child_runnable_config.get() or {}).get("callbacks")
    if inherited is None:
        return []
    if isinstance(inherited, list):
        return [h for h in inherited if not reaches_consumer(h)]
    manager = inherited.copy()
    manager.handlers = [h for h in manager.handlers if not reaches_consumer(h)]
    manager.inheritable_handlers = [h for h in manager.inheritable_handlers if not reaches_consumer(h)]
    return manager


_STREAM_EVENTS = ("on_chat_model_stream", "on_llm_stream", "on_parser_stream", "on_chain_stream",
                  "on_prompt_stream", "on_tool_stream", "on_retriever_stream")
_END_EVENTS = ("on_chat_model_end", "on_llm_end", "on_parser_end", "on_chain_end", "on_tool_end")


GUARD_TAG = "guardrail:guard"


def mute_upstream_events(config: Any) -> Any:
    """For ``guard_output`` inside a pipe: the model before it is not wrapped, so its
    ``astream_events`` events would carry raw tokens. The event stream's handler is told to
    drop the stream events, and the outputs of end events, of every other run under the same
    parent (the pipe); the guard's own runs (tagged ``guardrail:guard``) and the pipe's own
    events (its output is downstream of the guard) pass. Tracers are not touched. Returns
    ``config`` with the tag added.
    """
    from langchain_core.runnables.config import ensure_config
    from langchain_core.tracers.event_stream import _AstreamEventsCallbackHandler

    config = ensure_config(config)
    manager = config.get("callbacks")
    parent = getattr(manager, "parent_run_id", None)
    handlers = (*getattr(manager, "handlers", ()), *getattr(manager, "inheritable_handlers", ())) \
        if manager is not None and not isinstance(manager, list) else tuple(manager or ())
    for handler in {id(h): h for h in handlers}.values():
        if parent is None or not isinstance(handler, _AstreamEventsCallbackHandler):
            continue
        muted = getattr(handler, "_guardrail_muted", None)
        if muted is None:
            muted = handler._guardrail_muted = set()
            send = handler._send

            def filtered(event: Any, event_type: str, send: Any = send, muted: set = muted) -> None:
                name = event.get("event", "")
                if GUARD_TAG not in (event.get("tags") or ()) and muted & set(event.get("parent_ids") or ()):
                    if name in _STREAM_EVENTS:
                        return
                    if name in _END_EVENTS:
                        event = {**event, "data": {k: v for k, v in event.get("data", {}).items() if k != "output"}}
                send(event, event_type)

            handler._send = filtered
        muted.add(str(parent))
    return {**config, "tags": [*(config.get("tags") or []), GUARD_TAG]}
