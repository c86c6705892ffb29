"""``@guarded``: guardrail around plain chat handlers, without any framework.

Works on ``async def handler(...) -> str | message``, on async generators that stream
text, and on plain sync functions and generators::

    @guarded(guard)
    async def chat(prompt: str) -> str:
        return await call_my_model(prompt)

    @guarded(guard, prompt_arg="message")
    async def stream(user_id: str, message: str):
        async for token in my_model.stream(message):
            yield token

The prompt is the argument named by ``prompt_arg`` (a name or a position); by default
the parameter named ``prompt``, ``message``, ``messages``, ``input``, ``query``, ``text``
or ``content``, or the only parameter. Two such names, or several parameters and none of
them named so, is refused when the handler is decorated (``prompt_arg=`` decides). It may be a str, an object or dict with ``content``,
or a list of chat messages (``{"role": "user", "content": ...}``; the last user message
is checked). A blocked prompt never reaches the handler.

``documents_arg`` names a parameter holding documents the model will read (retrieved
passages, tool results): a list of str, of objects with ``page_content`` or ``content``
(LangChain ``Document``), or of dicts with ``page_content``/``content``/``text``. They are
shielded with the prompt when the policy's ``prompt_shield`` asks; an attack in one blocks
the call, so no document reaches the handler unchecked.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, AsyncIterator, Callable, Iterator, Literal, TypeVar

from guardrail import ConfigurationError, ContentBlockedError, Direction, Guard, UnsupportedInputError, Verdict

__all__ = ["guarded"]

F = TypeVar("F", bound=Callable[..., Any])
OnBlock = Literal["refuse", "raise"]


def _is_async_callable(fn: Any) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


# -- text in and out of values ------------------------------------------------------------


def _text_of(value: Any) -> tuple[str, Callable[[str], Any]] | None:
    """The text in ``value`` and a function putting new text back, or None."""
    if isinstance(value, str):
        return value, lambda new: new
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"], lambda new: {**value, "content": new}
    if isinstance(value, list) and value and all(isinstance(m, dict) and "content" in m for m in value):
        users = [i for i, m in enumerate(value) if m.get("role") in ("user", "human")]
        if not users or not isinstance(value[users[-1]]["content"], str):
            return None
        i = users[-1]

        def put(new: str) -> list[Any]:
            out = list(value)
            out[i] = {**value[i], "content": new}
            return out

        return value[i]["content"], put
    content = getattr(value, "content", None)
    if isinstance(content, str):
        if hasattr(value, "model_copy"):
            return content, lambda new: value.model_copy(update={"content": new})
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return content, lambda new: dataclasses.replace(value, content=new)
    return None


PROMPT_NAMES = ("prompt", "message", "messages", "input", "query", "text", "content")


def document_texts(value: Any, where: str = "documents") -> list[str]:
    """The texts of a documents argument: str, LangChain Documents, dicts, or messages."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise UnsupportedInputError(f"{where} must be a list of documents, got {type(value).__name__}")
    out = []
    for i, doc in enumerate(value):
        if isinstance(doc, str):
            out.append(doc)
            continue
        if isinstance(doc, dict):
            text = next((doc[k] for k in ("page_content", "content", "text") if isinstance(doc.get(k), str)), None)
        else:
            text = next((getattr(doc, k) for k in ("page_content", "content")
                         if isinstance(getattr(doc, k, None), str)), None)
        if text is None:
            raise UnsupportedInputError(f"{where}[{i}] is a {type(doc).__name__} without text; give str, "
                                        "objects with page_content/content, or dicts with one of them")
        out.append(text)
    return out


def resolve_prompt_arg(fn: Callable[..., Any], prompt_arg: str | int | None) -> str | int | None:
    """Which parameter holds the prompt, decided once at decoration time."""
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in ("self", "cls")]
    names = [p.name for p in params]
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    where = getattr(fn, "__qualname__", repr(fn))
    if isinstance(prompt_arg, bool) or (prompt_arg is not None and not isinstance(prompt_arg, (str, int))):
        raise ConfigurationError(f"prompt_arg must be a parameter name or position, got {prompt_arg!r}")
    if isinstance(prompt_arg, str):
        if prompt_arg not in names and not takes_kwargs:
            raise ConfigurationError(f"{where} has no parameter {prompt_arg!r} (has: {', '.join(names) or 'none'})")
        return prompt_arg
    if isinstance(prompt_arg, int):
        return prompt_arg
    named = [n for n in names if n in PROMPT_NAMES]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ConfigurationError(
            f"{where}: {' and '.join(repr(n) for n in named)} could each be the prompt; "
            f"say which with @guarded(guard, prompt_arg={named[0]!r})"
        )
    if len(names) == 1:
        return names[0]
    if not names:
        return None  # *args only: the first text argument at call time
    raise ConfigurationError(
        f"{where}: cannot tell which of {', '.join(names)} is the prompt; "
        f"name it prompt (or message, input, ...) or pass prompt_arg='{names[-1]}'"
    )


def _locate(sig: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any], prompt_arg: str | int | None) -> tuple[inspect.BoundArguments, str]:
    bound = sig.bind(*args, **kwargs)
    names = list(bound.arguments)
    if isinstance(prompt_arg, int):
        if prompt_arg >= len(names):
            raise UnsupportedInputError(f"prompt_arg={prompt_arg} but the call has {len(names)} arguments")
        return bound, names[prompt_arg]
    if isinstance(prompt_arg, str):
        if prompt_arg not in bound.arguments:
            if prompt_arg in sig.parameters:  # declared, left to its default
                raise UnsupportedInputError(f"the prompt argument {prompt_arg!r} was not passed")
            raise UnsupportedInputError(f"the call has no argument {prompt_arg!r} (has: {', '.join(names)})")
        return bound, prompt_arg
    for name in names:
        if _text_of(bound.arguments[name]) is not None:
            return bound, name
    raise UnsupportedInputError(
        "found no prompt among the arguments; pass prompt_arg= to name it "
        "(accepted: str, an object or dict with 'content', or a list of role/content messages)"
    )


class _Guarded:
    def __init__(self, guard: Guard, fn: Callable[..., Any], prompt_arg: str | int | None,
                 on_block: OnBlock, check_input: bool, check_output: bool, stream_options: dict[str, Any],
                 documents_arg: str | None = None) -> None:
        if on_block not in ("refuse", "raise"):
            raise ConfigurationError("on_block must be 'refuse' or 'raise'")
        self.guard, self.fn = guard, fn
        self.sig = inspect.signature(fn)
        if documents_arg is not None:
            takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in self.sig.parameters.values())
            if not isinstance(documents_arg, str) or (documents_arg not in self.sig.parameters and not takes_kwargs):
                raise ConfigurationError(f"{getattr(fn, '__qualname__', fn)!r} has no parameter {documents_arg!r} "
                                         "for documents_arg=")
            shield = guard.policy.prompt.prompt_shield
            if shield is None or not shield.documents:
                raise ConfigurationError("documents_arg= is set but the prompt policy does not shield documents; "
                                         "add prompt_shield = true (or {documents = true}) to it")
        self.documents_arg = documents_arg
        self.prompt_arg = resolve_prompt_arg(fn, prompt_arg) if check_input else prompt_arg
        self.on_block = on_block
        self.check_input, self.check_output = check_input, check_output
        self.stream_options = stream_options

    def _refuse(self, verdict: Verdict) -> str:
        if self.on_block == "raise":
            raise ContentBlockedError(verdict)
        return verdict.text

    async def prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]] | Verdict:
        """The call's arguments with the prompt checked, or the blocking verdict."""
        if not self.check_input:
            return args, kwargs
        bound, name = _locate(self.sig, args, kwargs, self.prompt_arg)
        found = _text_of(bound.arguments[name])
        if found is None:
            raise UnsupportedInputError(
                f"argument {name!r} is a {type(bound.arguments[name]).__name__}; expected str, "
                "an object or dict with 'content', or a list of role/content messages"
            )
        text, put = found
        docs = document_texts(bound.arguments.get(self.documents_arg), self.documents_arg or "documents") \
            if self.documents_arg else []
        verdict = await self.guard.check(text, Direction.PROMPT, documents=docs or None)
        if verdict.blocked:
            return verdict
        if verdict.redacted:
            bound.arguments[name] = put(verdict.text)
        return bound.args, bound.kwargs

    async def finish(self, result: Any) -> Any:
        if not self.check_output:
            return result
        found = _text_of(result)
        if found is None:
            raise UnsupportedInputError(
                f"the handler returned a {type(result).__name__}; guarded handlers return str "
                "or an object or dict with 'content'"
            )
        text, put = found
        if not text:
            return result
        verdict = await self.guard.check(text, Direction.COMPLETION)
        if verdict.blocked:
            return put(self._refuse(verdict))
        return put(verdict.text) if verdict.redacted else result

    def chunk_text(self, chunk: Any) -> str:
        found = _text_of(chunk)
        if found is None:
            raise UnsupportedInputError(f"a streaming handler yielded a {type(chunk).__name__}; yield str chunks")
        return found[0]


def guarded(
    guard: Guard,
    *,
    prompt_arg: str | int | None = None,
    on_block: OnBlock = "refuse",
    check_input: bool = True,
    check_output: bool = True,
    documents_arg: str | None = None,
    **stream_options: Any,
) -> Callable[[F], F]:
    """Decorate a chat handler so its prompt and its reply (or stream) are guarded.

    ``on_block="refuse"`` returns (or streams) the policy's refusal; ``"raise"`` raises
    :class:`guardrail.ContentBlockedError`. ``stream_options`` go to the StreamFilter.
    """

    def decorate(fn: F) -> F:
        g = _Guarded(guard, fn, prompt_arg, on_block, check_input, check_output, stream_options, documents_arg)

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*args: Any, **kwargs: Any) -> AsyncIterator[str]:
                prepared = await g.prepare(args, kwargs)
                if isinstance(prepared, Verdict):
                    yield g._refuse(prepared)
                    return
                stream = fn(*prepared[0], **prepared[1])
                if not check_output:
                    async for chunk in stream:
                        yield chunk
                    return
                f = guard.stream_filter(Direction.COMPLETION, **stream_options)
                try:
                    async for chunk in stream:
                        released = await f.push(g.chunk_text(chunk))
                        if f.blocked:
                            g._refuse(f.blocked_verdict)  # raises in "raise" mode
                        if released:
                            yield released
                        if f.blocked:
                            return
                    rest = await f.close()
                    if f.blocked:
                        g._refuse(f.blocked_verdict)
                    if rest:
                        yield rest
                finally:
                    await stream.aclose()

            return agen  # type: ignore[return-value]

        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Iterator[str]:
                run = guard.run_sync
                prepared = run(g.prepare(args, kwargs))
                if isinstance(prepared, Verdict):
                    yield g._refuse(prepared)
                    return
                stream = fn(*prepared[0], **prepared[1])
                if not check_output:
                    yield from stream
                    return
                f = guard.stream_filter(Direction.COMPLETION, **stream_options)
                try:
                    for chunk in stream:
                        released = run(f.push(g.chunk_text(chunk)))
                        if f.blocked:
                            g._refuse(f.blocked_verdict)
                        if released:
                            yield released
                        if f.blocked:
                            return
                    rest = run(f.close())
                    if f.blocked:
                        g._refuse(f.blocked_verdict)
                    if rest:
                        yield rest
                finally:
                    stream.close()

            return gen  # type: ignore[return-value]

        if _is_async_callable(fn):

            @functools.wraps(fn)
            async def acall(*args: Any, **kwargs: Any) -> Any:
                prepared = await g.prepare(args, kwargs)
                if isinstance(prepared, Verdict):
                    return g._refuse(prepared)
                return await g.finish(await fn(*prepared[0], **prepared[1]))

            return acall  # type: ignore[return-value]

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            prepared = guard.run_sync(g.prepare(args, kwargs))
            if isinstance(prepared, Verdict):
                return g._refuse(prepared)
            return guard.run_sync(g.finish(fn(*prepared[0], **prepared[1])))

        return call  # type: ignore[return-value]

    return decorate
