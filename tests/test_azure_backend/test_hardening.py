"""An Azure answer that does not contain what was asked for is an error, so the fail
mode's verdict, never "allowed, no findings"."""

import httpx
import pytest

from guardrail import BackendError, Guard, InvalidInputError

from .conftest import ok

FULL = {"categoriesAnalysis": [{"category": c, "severity": 0} for c in ("Hate", "SelfHarm", "Sexual", "Violence")],
        "blocklistsMatch": []}


@pytest.mark.parametrize("answer", [
    ok({}), ok([]), ok(None), httpx.Response(200, content=b""), httpx.Response(204),
    httpx.Response(302, headers={"location": "https://elsewhere.example/"}),
    httpx.Response(301, headers={"location": "https://unit-test.cognitiveservices.azure.com/x"}),
    httpx.Response(200, content=b"{not json"),
    ok({"categoriesAnalysis": [{"category": "Violence", "severity": 0}]}),  # categories missing
    ok({"categoriesAnalysis": [{"category": "Viol", "severity": 0}]}),
    ok({"categoriesAnalysis": "nope"}),
    ok({**FULL, "categoriesAnalysis": [{"category": "Hate", "severity": 9}] + FULL["categoriesAnalysis"][1:]}),
    ok({**FULL, "categoriesAnalysis": [{"category": "Hate", "severity": -1}] + FULL["categoriesAnalysis"][1:]}),
    ok({**FULL, "categoriesAnalysis": [{"category": "Hate", "severity": "2"}] + FULL["categoriesAnalysis"][1:]}),
])
async def test_answers_without_the_analysis_fail_closed(router, backend, answer):
    router.post("/text:analyze").mock(return_value=answer)
    with pytest.raises(BackendError):
        await backend.analyze_text("x")
    guard = Guard({"blocklists": ["codes"]}, backend=backend)
    verdict = await guard.check_prompt("a perfectly harmless question")
    assert verdict.blocked and verdict.errors  # closed by default
    open_guard = Guard({"blocklists": ["codes"], "fail_mode": "open"}, backend=backend)
    verdict = await open_guard.check_prompt("a perfectly harmless question")
    assert verdict.allowed and verdict.flagged and verdict.errors


async def test_a_full_answer_is_still_allowed(router, backend):
    router.post("/text:analyze").mock(return_value=ok(FULL))
    verdict = await Guard({"blocklists": ["codes"]}, backend=backend).check_prompt("hello")
    assert verdict.allowed and not verdict.errors


async def test_unparseable_retry_after_falls_back_to_backoff(router, backend):
    route = router.post("/text:analyze").mock(side_effect=[
        ok(status=429, headers={"Retry-After": "soon, maybe"}), ok(FULL)])
    assert await backend.analyze_text("x") is not None
    assert len(route.calls) == 2


async def test_oversized_answers_are_refused(router, backend):
    router.post("/text:analyze").mock(return_value=httpx.Response(200, content=b" " * (17 * 1024 * 1024)))
    with pytest.raises(BackendError, match="more than"):
        await backend.analyze_text("x")


@pytest.mark.parametrize("name", ["../blocklists/victim", "..", "a/b", "a\nb", "abc\n", "x\x00", "a b"])
async def test_names_cannot_escape_their_url_path(router, backend, name):
    victim = router.delete("/text/blocklists/victim").mock(return_value=ok(status=204))
    with pytest.raises(InvalidInputError):
        await backend.text_incidents.delete(name)
    with pytest.raises(InvalidInputError):
        await backend.blocklists.delete(name)
    with pytest.raises(InvalidInputError):
        await backend.blocklists.get_item("codes", name)
    assert not victim.called
