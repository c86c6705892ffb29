import asyncio
import logging

import httpx
import pytest

from guardrail import (
    BackendError,
    BackendTimeoutError,
    ConfigurationError,
    Guard,
    InvalidInputError,
)
from guardrail.backends.azure import AzureBackend, RetryPolicy

from .conftest import ENDPOINT, KEY, ok, sent

HARM = {"categoriesAnalysis": [{"category": "Violence", "severity": 6}] + [
    {"category": c, "severity": 0} for c in ("Hate", "SelfHarm", "Sexual")]}


async def test_retries_429_honouring_retry_after(router, backend):
    route = router.post("/text:analyze").mock(side_effect=[
        ok({"error": {"code": "TooManyRequests", "message": "slow down"}}, 429, {"Retry-After": "0.2"}),
        ok(HARM),
    ])
    loop = asyncio.get_running_loop()
    started = loop.time()
    found = await backend.analyze_text("x")
    assert loop.time() - started >= 0.2  # waited as told, not the tiny backoff
    assert len(route.calls) == 2 and found[0].severity == 6


async def test_retries_5xx_and_connection_errors_then_gives_up(router, backend):
    route = router.post("/text:analyze").mock(side_effect=[
        ok(status=503), httpx.ConnectError("refused"), ok(status=500), ok(HARM)])
    assert (await backend.analyze_text("x"))[0].severity == 6
    assert len(route.calls) == 4
    route.mock(return_value=ok({"error": {"code": "ServiceUnavailable", "message": "down"}}, 503))
    with pytest.raises(BackendError) as info:
        await backend.analyze_text("x")
    assert info.value.status_code == 503 and info.value.code == "ServiceUnavailable"


async def test_retries_timeouts(router, backend):
    route = router.post("/text:analyze").mock(side_effect=[httpx.ReadTimeout("slow"), ok(HARM)])
    assert (await backend.analyze_text("x"))[0].severity == 6
    assert len(route.calls) == 2
    route.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(BackendTimeoutError):
        await backend.analyze_text("x")


async def test_no_retry_on_400(router, backend):
    route = router.post("/text:analyze").mock(return_value=ok(
        {"error": {"code": "InvalidRequestBody", "message": "text is too long"}}, 400))
    with pytest.raises(InvalidInputError) as info:
        await backend.analyze_text("x")
    assert len(route.calls) == 1
    assert info.value.code == "InvalidRequestBody" and "text is too long" in str(info.value)


async def test_guard_fails_closed_and_open_when_service_is_down(router):
    router.post("/text:analyze").mock(return_value=ok(status=500))
    backend = AzureBackend(ENDPOINT, key=KEY, retry=RetryPolicy(max_retries=1, backoff=0.001))
    closed = await Guard({"blocklists": ["b"]}, backend=backend).check_prompt("hello")
    assert closed.blocked and "fail mode closed" in closed.reason and "500" in closed.reason
    opened = await Guard({"blocklists": ["b"], "fail_mode": "open"}, backend=backend).check_prompt("hello")
    assert opened.allowed and opened.flagged
    await backend.aclose()


async def test_guard_times_out_on_a_slow_service(router):
    async def slow(request):
        await asyncio.sleep(5)
        return ok(HARM)

    router.post("/text:analyze").mock(side_effect=slow)
    backend = AzureBackend(ENDPOINT, key=KEY)
    v = await Guard({"timeout": 0.1}, backend=backend).check_prompt("hello")
    assert v.blocked and "timed out after 0.1s" in v.reason
    await backend.aclose()


async def test_guard_uses_one_call_for_harm_and_blocklists(router):
    route = router.post("/text:analyze").mock(return_value=ok({
        "categoriesAnalysis": [{"category": "Hate", "severity": 1}, {"category": "Violence", "severity": 7}],
        "blocklistsMatch": [{"blocklistName": "b", "blocklistItemId": "1", "blocklistItemText": "darn"}]}))
    backend = AzureBackend(ENDPOINT, key=KEY)
    guard = Guard({"blocklists": [{"name": "b", "action": "redact"}], "harm": {"Hate": 2}}, backend=backend)
    v = await guard.check_completion("oh darn")
    assert len(route.calls) == 1
    import json

    assert json.loads(sent(route).content) == {
        "text": "oh darn", "categories": ["Hate"], "blocklistNames": ["b"], "outputType": "EightSeverityLevels"}
    assert v.redacted and v.text == "oh ****"
    await backend.aclose()


async def test_key_never_leaks(router, caplog):
    router.post("/text:analyze").mock(return_value=ok({"error": {"code": "401", "message": "Access denied"}}, 401))
    backend = AzureBackend(ENDPOINT, key=KEY, retry=RetryPolicy(max_retries=0))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(BackendError) as info:
            await backend.analyze_text("x")
        v = await Guard(backend=backend).check_prompt("x")
    everything = " ".join([repr(backend), repr(backend.transport), str(info.value), repr(info.value),
                           caplog.text, v.model_dump_json(), repr(vars(backend))])
    assert KEY not in everything
    await backend.aclose()


async def test_entra_token_provider_sync_and_async(router):
    route = router.post("/text:analyze").mock(return_value=ok(HARM))
    b1 = AzureBackend(ENDPOINT, token_provider=lambda: "tok-1")
    await b1.analyze_text("x")
    assert sent(route).headers["Authorization"] == "Bearer tok-1"
    assert "Ocp-Apim-Subscription-Key" not in sent(route).headers

    async def provider():
        return "tok-2"

    b2 = AzureBackend(ENDPOINT, token_provider=provider)
    await b2.analyze_text("x")
    assert sent(route).headers["Authorization"] == "Bearer tok-2"

    class Credential:
        def get_token(self, scope):
            assert scope == "https://cognitiveservices.azure.com/.default"
            return type("T", (), {"token": "tok-3"})()

    b3 = AzureBackend.from_credential(Credential(), ENDPOINT)
    await b3.analyze_text("x")
    assert sent(route).headers["Authorization"] == "Bearer tok-3"
    for b in (b1, b2, b3):
        await b.aclose()


def test_configuration_from_environment_and_errors(monkeypatch):
    with pytest.raises(ConfigurationError, match="AZURE_CONTENT_SAFETY_ENDPOINT"):
        AzureBackend()
    monkeypatch.setenv("AZURE_CONTENT_SAFETY_ENDPOINT", ENDPOINT + "/")
    with pytest.raises(ConfigurationError, match="AZURE_CONTENT_SAFETY_KEY"):
        AzureBackend()
    monkeypatch.setenv("AZURE_CONTENT_SAFETY_KEY", KEY)
    assert AzureBackend().endpoint == ENDPOINT
    with pytest.raises(ConfigurationError, match="https://"):
        AzureBackend("ftp://nope", key=KEY)
    with pytest.raises(ConfigurationError, match="not both"):
        AzureBackend(ENDPOINT, key=KEY, token_provider=lambda: "t")


async def test_bound_on_requests_in_flight(router):
    in_flight = 0
    peak = 0

    async def answer(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return ok(HARM)

    router.post("/text:analyze").mock(side_effect=answer)
    backend = AzureBackend(ENDPOINT, key=KEY, max_in_flight=5)
    await asyncio.gather(*(backend.analyze_text("x") for _ in range(40)))
    assert peak == 5
    await backend.aclose()


async def test_blocklist_only_policy_reports_no_harm_findings(router):
    router.post("/text:analyze").mock(return_value=ok({
        "categoriesAnalysis": [{"category": "Violence", "severity": 6}],
        "blocklistsMatch": [{"blocklistName": "b", "blocklistItemId": "1", "blocklistItemText": "darn"}]}))
    backend = AzureBackend(ENDPOINT, key=KEY)
    v = await Guard({"harm": {}, "blocklists": ["b"]}, backend=backend).check_prompt("oh darn")
    assert v.blocked and [f.kind.value for f in v.findings] == ["blocklist"]
    await backend.aclose()
