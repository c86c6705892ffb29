"""Finding the text to check inside LangChain values, and putting checked text back.

Pure functions, no I/O. Several texts in one value (a dict's fields, a message's text
blocks) are checked as one text joined by blank lines; masking keeps lengths, so the
checked text is cut back into its pieces by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompt_values import ChatPromptValue, PromptValue, StringPromptValue

from guardrail import UnsupportedInputError

SEPARATOR = "\n\n"
ACCEPTED = (
    "str, dict, PromptValue, BaseMessage (AIMessage, AIMessageChunk, HumanMessage, ...), "
    "or a list of BaseMessage"
)


@dataclass
class Extracted:
    """The texts found in a value and how to rebuild the value with new texts."""

    texts: list[str]
    rebuild: Callable[[list[str]], Any]
    images: list[Any]

    @property
    def joined(self) -> str:
        return SEPARATOR.join(self.texts)

    def split(self, checked: str) -> list[str]:
        out, pos = [], 0
        for text in self.texts:
            out.append(checked[pos : pos + len(text)])
            pos += len(text) + len(SEPARATOR)
        return out


def _content(content: Any) -> tuple[list[str], Callable[[list[str]], Any], list[Any]]:
    """Texts of a message content: a str, or a list of str / content blocks."""
    if isinstance(content, str):
        return [content], lambda new: new[0], []
    if isinstance(content, list):
        slots: list[int] = []
        texts: list[str] = []
        images: list[Any] = []
        for i, part in enumerate(content):
            if isinstance(part, str):
                slots.append(i)
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                slots.append(i)
                texts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") in ("image", "image_url"):
                images.append(part)

        def rebuild(new: list[str]) -> list[Any]:
            parts = list(content)
            for i, text in zip(slots, new):
                parts[i] = text if isinstance(parts[i], str) else {**parts[i], "text": text}
            return parts

        return texts, rebuild, images
    raise UnsupportedInputError(f"message content of type {type(content).__name__} is not text")


def _message(msg: BaseMessage) -> Extracted:
    texts, rebuild, images = _content(msg.content)
    return Extracted(texts, lambda new: msg.model_copy(update={"content": rebuild(new)}), images)


def _messages(messages: Sequence[BaseMessage], all_messages: bool, role: type) -> Extracted:
    picked = [i for i, m in enumerate(messages) if isinstance(m, role)]
    if not all_messages:
        picked = picked[-1:]
    parts = [_message(messages[i]) for i in picked]
    texts = [t for p in parts for t in p.texts]

    def rebuild(new: list[str]) -> list[BaseMessage]:
        out = list(messages)
        pos = 0
        for i, part in zip(picked, parts):
            out[i] = part.rebuild(new[pos : pos + len(part.texts)])
            pos += len(part.texts)
        return out

    return Extracted(texts, rebuild, [img for p in parts for img in p.images])


def extract(value: Any, *, key: str | None = None, all_messages: bool = False, prompt: bool = True) -> Extracted:
    """The checkable text of ``value``. ``prompt`` picks user messages, else AI messages."""
    role = HumanMessage if prompt else AIMessage
    if isinstance(value, str):
        return Extracted([value], lambda new: new[0], [])
    if isinstance(value, BaseMessage):
        return _message(value)
    if isinstance(value, StringPromptValue):
        return Extracted([value.text], lambda new: StringPromptValue(text=new[0]), [])
    if isinstance(value, ChatPromptValue):
        inner = _messages(value.messages, all_messages, role)
        return Extracted(inner.texts, lambda new: ChatPromptValue(messages=inner.rebuild(new)), inner.images)
    if isinstance(value, PromptValue):
        return extract(value.to_messages(), all_messages=all_messages, prompt=prompt)
    if isinstance(value, list) and all(isinstance(m, BaseMessage) for m in value):
        if not value:
            raise UnsupportedInputError("the message list is empty")
        return _messages(value, all_messages, role)
    if isinstance(value, dict):
        if key is not None:
            if key not in value:
                raise UnsupportedInputError(
                    f"the dict has no key {key!r} (keys: {', '.join(map(str, value))}); "
                    "set input_key/output_key to the field that holds the text"
                )
            inner = extract(value[key], all_messages=all_messages, prompt=prompt)
            return Extracted(inner.texts, lambda new: {**value, key: inner.rebuild(new)}, inner.images)
        fields = [k for k, v in value.items() if _checkable(v)]
        if not fields:
            raise UnsupportedInputError(
                f"the dict has no text to check (keys: {', '.join(map(str, value))}); "
                "set input_key/output_key"
            )
        parts = [extract(value[k], all_messages=all_messages, prompt=prompt) for k in fields]

        def rebuild(new: list[str]) -> dict[str, Any]:
            out = dict(value)
            pos = 0
            for k, part in zip(fields, parts):
                out[k] = part.rebuild(new[pos : pos + len(part.texts)])
                pos += len(part.texts)
            return out

        return Extracted([t for p in parts for t in p.texts], rebuild, [i for p in parts for i in p.images])
    raise UnsupportedInputError(f"cannot check a {type(value).__name__}; guardrail accepts {ACCEPTED}")


def is_documents(value: Any) -> bool:
    """A retriever's output: a non-empty list of LangChain Documents."""
    return isinstance(value, list) and bool(value) and all(isinstance(d, Document) for d in value)


def documents_in(value: Any) -> list[str]:
    """Texts the model will read as material, not as the user's words: Documents (a
    retriever's output, or a list of them in a dict field) and ToolMessage contents."""
    if is_documents(value):
        return [d.page_content for d in value]
    if isinstance(value, ToolMessage):
        return ["\n\n".join(_content(value.content)[0])]
    if isinstance(value, ChatPromptValue):
        return documents_in(value.messages)
    if isinstance(value, list) and value and all(isinstance(m, BaseMessage) for m in value):
        return [t for m in value if isinstance(m, ToolMessage) for t in documents_in(m)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in documents_in(v)]
    return []


def _checkable(v: Any) -> bool:
    return isinstance(v, (str, BaseMessage, PromptValue)) or (
        isinstance(v, list) and bool(v) and all(isinstance(m, BaseMessage) for m in v)
    )


def chunk_text(chunk: Any) -> str | None:
    """The text of a streamed chunk, or None when it is not a text chunk."""
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, AIMessageChunk):
        if isinstance(chunk.content, str):
            return chunk.content
        texts, _, _ = _content(chunk.content)
        return "".join(texts)
    return None


def carries_data(chunk: Any) -> bool:
    """A chunk with no text that still carries tool calls or usage, to pass through."""
    return isinstance(chunk, AIMessageChunk) and bool(
        chunk.tool_call_chunks or chunk.usage_metadata or chunk.response_metadata
    )


def with_text(template: Any, text: str) -> Any:
    """A chunk like ``template`` carrying ``text`` (for AIMessageChunk: same id, no tool calls)."""
    if isinstance(template, AIMessageChunk):
        return AIMessageChunk(content=text, id=template.id)
    return text


def refusal_like(template: Any, refusal: str, key: str | None = None) -> Any:
    """The refusal in the shape of ``template``: a str, an AIMessage, or a dict field."""
    if isinstance(template, str):
        return refusal
    if isinstance(template, AIMessageChunk):
        return AIMessageChunk(content=refusal, id=template.id)
    if isinstance(template, dict) and key is not None:
        return {**template, key: refusal}
    return AIMessage(content=refusal)


def image_of(part: dict[str, Any]) -> str | None:
    """The image of a content block as base64 or an http(s) URL, or None if unknown.

    Handles OpenAI-style ``{"type": "image_url", "image_url": {"url": ...}}`` (data URLs
    included) and LangChain's standard ``{"type": "image", "base64"|"data"|"url": ...}``.
    """
    if part.get("type") == "image_url":
        ref = part.get("image_url")
        url = ref.get("url") if isinstance(ref, dict) else ref
    else:
        url = part.get("base64") or part.get("data") or part.get("url")
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("data:"):
        return url.split(",", 1)[-1]
    return url
