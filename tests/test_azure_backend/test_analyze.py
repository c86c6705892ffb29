import pytest

from guardrail import BackendError, FindingKind, HarmCategory, InvalidInputError, OutputType
from guardrail.backends._base import CategoryRef
from guardrail.backends.azure import ApiVersions, AzureBackend

from .conftest import ENDPOINT, KEY, body, ok, sent

GA_RESPONSE = {
    "blocklistsMatch": [
        {"blocklistName": "codes", "blocklistItemId": "id-1", "blocklistItemText": "project aurora"}
    ],
    "categoriesAnalysis": [
        {"category": "Hate", "severity": 0},
        {"category": "SelfHarm", "severity": 0},
        {"category": "Sexual", "severity": 2},
        {"category": "Violence", "severity": 5},
    ],
}


async def test_ga_analyze_request_and_response(router, backend):
    route = router.post("/text:analyze").mock(return_value=ok(GA_RESPONSE))
    text = "Tell me about Project Aurora. PROJECT AURORA!"
    found = await backend.analyze_text(
        text, output_type=OutputType.EIGHT_SEVERITY_LEVELS, blocklists=["codes"],
        halt_on_blocklist_hit=False,
    )
    req = sent(route)
    assert req.method == "POST"
    assert req.url.path == "/contentsafety/text:analyze"
    assert req.url.params["api-version"] == "2024-09-01"
    assert req.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert req.headers["Content-Type"] == "application/json"
    assert body(route) == {
        "text": text,
        "categories": ["Hate", "SelfHarm", "Sexual", "Violence"],
        "blocklistNames": ["codes"],
        "haltOnBlocklistHit": False,
        "outputType": "EightSeverityLevels",
    }
    harm = {f.name: f.severity for f in found if f.kind is FindingKind.HARM}
    assert harm == {"Hate": 0, "SelfHarm": 0, "Sexual": 2, "Violence": 5}
    # GA matches carry no offsets: spans are found from the item text, in the original text.
    spans = [(f.span.start, f.span.end) for f in found if f.kind is FindingKind.BLOCKLIST]
    assert [text[s:e] for s, e in spans] == ["Project Aurora", "PROJECT AURORA"]
    assert all(f.item_id == "id-1" for f in found if f.kind is FindingKind.BLOCKLIST)


async def test_legacy_2023_04_30_preview_shape(router):
    backend = AzureBackend(ENDPOINT, key=KEY, api_versions=ApiVersions(analyze_text="2023-04-30-preview"))
    route = router.post("/text:analyze").mock(
        return_value=ok(
            {
                "blocklistsMatchResults": [
                    {"blocklistName": "b", "blockItemId": "i", "blockItemText": "darn", "offset": 5, "length": 4}
                ],
                "hateResult": {"category": "Hate", "severity": 2},
                "selfHarmResult": {"category": "SelfHarm", "severity": 0},
                "sexualResult": {"category": "Sexual", "severity": 0},
                "violenceResult": {"category": "Violence", "severity": 6},
            }
        )
    )
    found = await backend.analyze_text("well darn it", blocklists=["b"], halt_on_blocklist_hit=True)
    assert sent(route).url.params["api-version"] == "2023-04-30-preview"
    assert body(route) == {
        "text": "well darn it",
        "categories": ["Hate", "SelfHarm", "Sexual", "Violence"],
        "blocklistNames": ["b"],
        "breakByBlocklists": True,
    }
    assert {f.name: f.severity for f in found if f.kind is FindingKind.HARM}["Violence"] == 6
    bl = [f for f in found if f.kind is FindingKind.BLOCKLIST][0]
    assert (bl.span.start, bl.span.end, bl.item_text) == (5, 9, "darn")
    await backend.aclose()


async def test_preview_incidents_and_custom_categories_in_analyze(router, backend):
    route = router.post("/text:analyze").mock(
        side_effect=[
            ok({"categoriesAnalysis": [], "incidentMatches": [{"incidentName": "scam"}]}),
            ok({"categoriesAnalysis": [], "textCustomizedCategoriesAnalysis": [
                {"categoryName": "DrugAbuse", "detected": True}]}),
        ]
    )
    found = await backend.analyze_text("x", categories=(), incidents=["scam"])
    assert sent(route, 0).url.params["api-version"] == "2023-10-30-preview"  # the one that takes incidents
    assert body(route, 0) == {"text": "x", "outputType": "FourSeverityLevels",
                              "incidents": {"incidentNames": ["scam"]}}
    assert [f.name for f in found if f.kind is FindingKind.INCIDENT] == ["scam"]

    found = await backend.analyze_text(
        "x", categories=(), custom_categories=[CategoryRef("DrugAbuse", 1)], harm=False
    )
    assert sent(route, 1).url.params["api-version"] == "2024-05-15-preview"
    assert body(route, 1)["customizedCategories"] == [{"categoryName": "DrugAbuse", "version": 1}]
    assert found[0].kind is FindingKind.CUSTOM_CATEGORY and found[0].detected


async def test_analyze_image_base64_and_blob_url(router, backend):
    route = router.post("/image:analyze").mock(
        return_value=ok({"categoriesAnalysis": [{"category": "Violence", "severity": 4}]})
    )
    found = await backend.analyze_image(b"\x89PNG fake", categories=[HarmCategory.VIOLENCE])
    assert body(route) == {"image": {"content": "iVBORyBmYWtl"}, "categories": ["Violence"],
                           "outputType": "FourSeverityLevels"}
    assert found[0].severity == 4
    await backend.analyze_image("https://blob.example/x.png", categories=[], incidents=["memes"])
    assert body(route) == {"image": {"blobUrl": "https://blob.example/x.png"},
                           "outputType": "FourSeverityLevels", "incidents": {"incidentNames": ["memes"]}}
    assert sent(route).url.params["api-version"] == "2023-10-30-preview"
    with pytest.raises(InvalidInputError):
        await backend.analyze_image(b"")


async def test_legacy_image_analyze_sends_url_and_no_output_type(router):
    from guardrail.backends.azure import ApiVersions, AzureBackend

    legacy = AzureBackend("https://unit-test.cognitiveservices.azure.com", key="k",
                          api_versions=ApiVersions(analyze_image="2023-04-30-preview"))
    route = router.post("/image:analyze").mock(return_value=ok({"violenceResult": {"category": "Violence", "severity": 2}}))
    found = await legacy.analyze_image("https://blob.example/x.png", categories=[HarmCategory.VIOLENCE])
    assert body(route) == {"image": {"url": "https://blob.example/x.png"}, "categories": ["Violence"]}
    assert [(f.name, f.severity) for f in found] == [("Violence", 2)]
    route.mock(return_value=ok({"hateResult": {"category": "Hate", "severity": 0}}))  # Violence missing
    with pytest.raises(BackendError, match="Violence"):
        await legacy.analyze_image("https://blob.example/x.png", categories=[HarmCategory.VIOLENCE])
    await legacy.aclose()


async def test_long_text_is_chunked_and_merged(router, backend):
    severities = iter([2, 6, 0])

    def answer(request):
        import json

        text = json.loads(request.content)["text"]
        assert len(text) <= 10_000
        matches = []
        if "forbidden phrase" in text:
            matches = [{"blocklistName": "b", "blocklistItemId": "i", "blocklistItemText": "forbidden phrase"}]
        return ok({"categoriesAnalysis": [{"category": "Hate", "severity": next(severities)}],
                   "blocklistsMatch": matches})

    route = router.post("/text:analyze").mock(side_effect=answer)
    words = ("lorem ipsum dolor sit amet " * 1000)[:24_000]
    text = words[:12_000] + " forbidden phrase " + words[12_000:]
    found = await backend.analyze_text(text, categories=[HarmCategory.HATE], blocklists=["b"])
    assert len(route.calls) == 3
    harm = [f for f in found if f.kind is FindingKind.HARM]
    assert len(harm) == 1 and harm[0].severity == 6
    assert harm[0].span is not None and harm[0].span.start > 0  # the worst chunk's span
    bl = [f for f in found if f.kind is FindingKind.BLOCKLIST]
    assert len(bl) == 1 and text[bl[0].span.start : bl[0].span.end] == "forbidden phrase"


def test_chunks_overlap_and_cover_everything():
    from guardrail.backends.azure._mapping import chunk_text

    text = "".join(f"w{i} " for i in range(6000))
    chunks = chunk_text(text, 10_000)
    assert all(len(c) <= 10_000 for _, c in chunks)
    assert chunks[0][0] == 0 and chunks[-1][0] + len(chunks[-1][1]) == len(text)
    for (a, ca), (b, _) in zip(chunks, chunks[1:]):
        assert b < a + len(ca)  # overlap
        assert a + len(ca) - b >= 128
