"""A small chat web app (Starlette) whose handler is guarded with @guarded. Offline.

    python examples/chat_web_app.py          # sends a few requests in-process and prints them
    python examples/chat_web_app.py --serve  # serves on 127.0.0.1:8000 (needs uvicorn)
"""

import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from guardrail import Guard, LocalEngine
from guardrail.integrations.callables import guarded

engine = LocalEngine(":memory:")
engine.blocklists.create_or_update("secrets")
engine.blocklists.add_or_update_items("secrets", [{"text": r"sk-live-[a-z0-9]{8,}", "isRegex": True}])
engine.blocklists.create_or_update("pii")
engine.blocklists.add_or_update_items("pii", ["555-0100"])
guard = Guard(
    {"harm": {}, "blocklists": ["secrets", {"name": "pii", "action": "redact"}]}, backend=engine
)


async def fake_model(prompt: str) -> str:
    if "key" in prompt:
        return "The key is sk-live-abcdef123456."
    return f"You said: {prompt!r}. Call us at 555-0100."


@guarded(guard, prompt_arg="prompt")
async def answer(user: str, prompt: str) -> str:
    return await fake_model(prompt)


@guarded(guard, prompt_arg="prompt")
async def answer_stream(prompt: str):
    reply = await fake_model(prompt)
    for word in reply.split(" "):
        yield word + " "


async def chat(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"reply": await answer(body.get("user", "anon"), body["prompt"])})


async def chat_stream(request: Request) -> StreamingResponse:
    body = await request.json()
    return StreamingResponse(answer_stream(body["prompt"]), media_type="text/plain")


app = Starlette(routes=[Route("/chat", chat, methods=["POST"]), Route("/chat/stream", chat_stream, methods=["POST"])])


def demo() -> None:
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        for prompt in ["hello there", "what is the API key?", "my number is 555-0100"]:
            r = client.post("/chat", json={"prompt": prompt})
            print(f"POST /chat {prompt!r} -> {r.json()['reply']!r}")
        r = client.post("/chat/stream", json={"prompt": "stream please"})
        print(f"POST /chat/stream -> {r.text!r}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=8000)
    else:
        demo()
