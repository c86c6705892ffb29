import pytest

from guardrail import BackendError, ConflictError, InvalidInputError, NotFoundError
from guardrail.backends._base import CategoryRef, IncidentRef
from guardrail.backends.azure import AzureBackend, RetryPolicy
from guardrail._resources import BuildStatus

from .conftest import BASE, ENDPOINT, KEY, body, ok, sent

V_BL = "2024-09-01"
V_INC = "2024-04-15-preview"
V_CAT = "2024-05-15-preview"


async def test_blocklist_operations(router, backend):
    patch = router.patch("/text/blocklists/codes").mock(
        return_value=ok({"blocklistName": "codes", "description": "d"}, 201))
    bl = await backend.blocklists.create_or_update("codes", description="d")
    assert bl.blocklist_name == "codes"
    assert sent(patch).headers["Content-Type"] == "application/merge-patch+json"
    assert sent(patch).url.params["api-version"] == V_BL
    assert body(patch) == {"description": "d"}

    router.get("/text/blocklists/codes").mock(return_value=ok({"blocklistName": "codes"}))
    assert (await backend.blocklists.get("codes")).description == ""

    router.get("/text/blocklists").mock(side_effect=[
        ok({"value": [{"blocklistName": "a"}], "nextLink": BASE + "/text/blocklists?page=2&api-version=" + V_BL}),
        ok({"value": [{"blocklistName": "b"}]}),
    ])
    assert [b.blocklist_name for b in await backend.blocklists.list()] == ["a", "b"]

    delete = router.delete("/text/blocklists/codes").mock(return_value=ok(status=204))
    await backend.blocklists.delete("codes")
    assert delete.called


async def test_blocklist_items_split_into_requests_of_100(router, backend):
    def echo(request):
        import json

        items = json.loads(request.content)["blocklistItems"]
        return ok({"blocklistItems": [{"blocklistItemId": f"id-{x['text']}", **x} for x in items]})

    add = router.post("/text/blocklists/codes:addOrUpdateBlocklistItems").mock(side_effect=echo)
    items = [f"t{i}" for i in range(150)] + [{"text": "re.*x", "isRegex": True, "description": "r"}]
    # isRegex exists only in the previews: under a GA api-version it is refused, nothing sent.
    with pytest.raises(InvalidInputError, match="preview"):
        await backend.blocklists.add_or_update_items("codes", items)
    assert not add.called
    backend.blocklists.api_version = "2024-02-15-preview"
    added = await backend.blocklists.add_or_update_items("codes", items)
    assert len(add.calls) == 2 and len(added) == 151
    assert body(add, 0)["blocklistItems"][0] == {"text": "t0"}
    assert body(add, 1)["blocklistItems"][-1] == {"text": "re.*x", "description": "r", "isRegex": True}
    backend.blocklists.api_version = "2024-09-01"

    remove = router.post("/text/blocklists/codes:removeBlocklistItems").mock(return_value=ok(status=204))
    await backend.blocklists.remove_items("codes", ["id-1", "id-2"])
    assert body(remove) == {"blocklistItemIds": ["id-1", "id-2"]}

    listing = router.get("/text/blocklists/codes/blocklistItems").mock(
        return_value=ok({"value": [{"blocklistItemId": "id-1", "text": "t1"}]}))
    items = await backend.blocklists.list_items("codes", top=5, skip=10)
    assert sent(listing).url.params["top"] == "5" and sent(listing).url.params["skip"] == "10"
    assert items[0].text == "t1"
    router.get("/text/blocklists/codes/blocklistItems/id-1").mock(
        return_value=ok({"blocklistItemId": "id-1", "text": "t1", "description": ""}))
    assert (await backend.blocklists.get_item("codes", "id-1")).blocklist_item_id == "id-1"
    router.get("/text/blocklists/codes/blocklistItems/nope").mock(
        return_value=ok({"error": {"code": "NotFound", "message": "item not found"}}, 404))
    with pytest.raises(NotFoundError) as info:
        await backend.blocklists.get_item("codes", "nope")
    assert info.value.code == "NotFound" and info.value.status_code == 404


@pytest.mark.parametrize("kind", ["text", "image"])
async def test_incident_lifecycle(router, backend, kind):
    inc = backend.text_incidents if kind == "text" else backend.image_incidents
    base = f"/{kind}/incidents/wave"
    patch = router.patch(base).mock(return_value=ok({"incidentName": "wave", "incidentDefinition": "d"}))
    assert (await inc.create_or_update("wave", description="d")).incident_name == "wave"
    # From 2024-04-15: text incidents carry incidentDefinition, image incidents only the name.
    assert body(patch) == ({"incidentName": "wave", "incidentDefinition": "d"} if kind == "text"
                           else {"incidentName": "wave"})
    assert sent(patch).headers["content-type"] == "application/merge-patch+json"
    assert sent(patch).url.params["api-version"] == V_INC

    router.get(base).mock(return_value=ok({"incidentName": "wave", "incidentDefinition": "d2"}))
    assert (await inc.get("wave")).description == "d2"
    router.get(f"/{kind}/incidents").mock(return_value=ok({"value": [{"incidentName": "wave"}]}))
    assert [i.incident_name for i in await inc.list()] == ["wave"]

    add = router.post(f"{base}:addIncidentSamples").mock(
        return_value=ok({"incidentSamples": [{"incidentSampleId": "s1", "text": "x"}]}))
    sample = b"GIF89a" if kind == "image" else "a sample text"
    samples = await inc.add_samples("wave", [sample])
    assert samples[0].incident_sample_id == "s1"
    expected = {"text": "a sample text"} if kind == "text" else {"image": {"content": "R0lGODlh"}}
    assert body(add) == {"incidentSamples": [expected]}

    rm = router.post(f"{base}:removeIncidentSamples").mock(return_value=ok(status=204))
    await inc.remove_samples("wave", ["s1"])
    assert body(rm) == {"incidentSampleIds": ["s1"]}
    router.get(f"{base}/incidentSamples").mock(return_value=ok({"value": [{"incidentSampleId": "s1"}]}))
    assert len(await inc.list_samples("wave")) == 1
    router.get(f"{base}/incidentSamples/s1").mock(return_value=ok({"incidentSampleId": "s1"}))
    assert (await inc.get_sample("wave", "s1")).incident_sample_id == "s1"

    op_url = f"{BASE}/{kind}/incidents/operations/op-1?api-version={V_INC}"
    deploy = router.post(f"{base}:deploy").mock(
        return_value=ok({"id": "op-1", "status": "NotStarted"}, 202, {"Operation-Location": op_url}))
    router.get(f"/{kind}/incidents/operations/op-1").mock(
        side_effect=[ok({"id": "op-1", "status": "Running"}), ok({"id": "op-1", "status": "Succeeded"})])
    assert await inc.deploy("wave", poll=0.001) == "Succeeded"
    assert deploy.called and sent(deploy).content == b""

    detect = router.post(f"/{kind}:detectIncidents").mock(
        return_value=ok({"incidentMatches": [{"incidentName": "wave"}]}))
    probe = b"GIF89a" if kind == "image" else "some text"
    hits = await inc.detect(probe, ["wave"])
    assert [h.name for h in hits] == ["wave"]
    expected = {"text": "some text"} if kind == "text" else {"image": {"content": "R0lGODlh"}}
    assert body(detect) == {**expected, "incidentNames": ["wave"]}

    router.delete(base).mock(return_value=ok(status=204))
    await inc.delete("wave")


async def test_guard_path_detects_incidents(router, backend):
    router.post("/text:detectIncidents").mock(return_value=ok({"incidentMatches": [{"incidentName": "a"}]}))
    found = await backend.detect_incidents("text", [IncidentRef("a"), IncidentRef("b")])
    assert [f.name for f in found] == ["a"]


async def test_custom_category_lifecycle(router, backend):
    put = router.put("/text/categories/DrugAbuse").mock(return_value=ok({
        "categoryName": "DrugAbuse", "definition": "drugs", "sampleBlobUrl": "https://b/s.jsonl",
        "version": 1, "status": "BuildNotStarted", "createdTime": "2024-01-01T00:00:00Z"}))
    v = await backend.categories.create_version("DrugAbuse", definition="drugs", sample_blob_url="https://b/s.jsonl")
    assert (v.version, v.status) == (1, BuildStatus.NOT_STARTED)
    assert body(put) == {"categoryName": "DrugAbuse", "definition": "drugs",
                         "sampleBlobUrl": "https://b/s.jsonl", "blobDelimiter": "/"}
    assert sent(put).url.params["api-version"] == V_CAT

    build = router.post("/text/categories/DrugAbuse:build").mock(return_value=ok(status=202))
    await backend.categories.build("DrugAbuse", 1)
    assert sent(build).url.params["version"] == "1"

    get = router.get("/text/categories/DrugAbuse").mock(side_effect=[
        ok({"value": [{"categoryName": "DrugAbuse", "definition": "drugs", "version": 1, "status": "Building"}]}),
        ok({"value": [{"categoryName": "DrugAbuse", "definition": "drugs", "version": 1, "status": "BuildFailed",
                       "buildInfo": {"lastBuildTriggeredTime": "t", "buildError": {"error": {"code": "Bad", "message": "too few samples"}}}}]}),
    ])
    done = await backend.categories.wait_for_build("DrugAbuse", 1, poll=0.001)
    assert done.status == BuildStatus.FAILED and done.error == "too few samples"
    assert sent(get).url.params["version"] == "1"

    router.get("/text/categories").mock(return_value=ok({"value": [
        {"categoryName": "DrugAbuse", "definition": "d", "version": 2, "status": "BuildSucceeded"}]}))
    assert [(c.version, c.status) for c in await backend.categories.list()] == [(2, BuildStatus.SUCCEEDED)]
    delete = router.delete("/text/categories/DrugAbuse").mock(return_value=ok({"id": "x", "status": "Running"}, 202))
    await backend.categories.delete("DrugAbuse", version=1)
    assert sent(delete).url.params["version"] == "1"
    await backend.categories.delete("DrugAbuse")
    assert "version" not in sent(delete).url.params


async def test_samples_go_100_per_request_and_deploy_failures_are_read_from_error_message(router, backend):
    inc = backend.text_incidents
    add = router.post("/text/incidents/wave:addIncidentSamples").mock(side_effect=lambda request: ok({
        "incidentSamples": [{"incidentSampleId": f"s{i}"} for i in range(len(__import__("json").loads(
            request.content)["incidentSamples"]))]}))
    assert len(await inc.add_samples("wave", [f"text {i}" for i in range(250)])) == 250
    assert [len(body(add, i)["incidentSamples"]) for i in range(3)] == [100, 100, 50]
    router.post("/text/incidents/wave:deploy").mock(return_value=ok(
        {"status": "Running"}, 202, {"Operation-Location": f"{BASE}/text/incidents/operations/op-9?api-version={V_INC}"}))
    router.get("/text/incidents/operations/op-9").mock(return_value=ok({"status": "Canceled", "errorMessage": "stopped by admin"}))
    from guardrail import BackendError

    with pytest.raises(BackendError, match="stopped by admin"):
        await inc.deploy("wave", poll=0.001)


async def test_service_errors_keep_target_details_and_innererror(router, backend):
    router.get("/text/blocklists/codes").mock(return_value=ok({"error": {
        "code": "InvalidRequestBody", "message": "bad", "target": "blocklistName",
        "details": [{"code": "X", "message": "y"}], "innererror": {"code": "Inner"}}}, 400))
    with pytest.raises(InvalidInputError) as info:
        await backend.blocklists.get("codes")
    assert info.value.target == "blocklistName" and info.value.details[0]["code"] == "X"
    assert info.value.innererror == {"code": "Inner"} and "target: blocklistName" in str(info.value)


async def test_category_delete_is_polled_to_its_end_and_failures_raise(router, backend):
    op = BASE + "/text/categories/operations/op1?api-version=" + V_CAT
    router.delete("/text/categories/Gone").mock(
        return_value=ok({"id": "op1", "status": "Running"}, 202, headers={"Operation-Location": op}))
    poll = router.get("/text/categories/operations/op1").mock(side_effect=[
        ok({"id": "op1", "status": "Running"}), ok({"id": "op1", "status": "Succeeded"})])
    await backend.categories.delete("Gone", poll=0.001)
    assert poll.call_count == 2 and sent(poll).url.params["api-version"] == V_CAT
    poll.mock(return_value=ok({"id": "op1", "status": "Failed", "errorMessage": "category is in use"}))
    with pytest.raises(BackendError, match="category is in use"):
        await backend.categories.delete("Gone", poll=0.001)


async def test_categories_by_api_version(router):
    """2024-05-15-preview: blobDelimiter, customizedCategories in text:analyze with a required
    version (an unversioned ref resolves to the latest built one); the other previews:
    no blobDelimiter, text:analyzeCustomCategory, and an answer without `detected` is an error."""
    from guardrail.backends.azure import ApiVersions

    new = AzureBackend(ENDPOINT, key=KEY, api_versions=ApiVersions(categories="2024-09-15-preview"),
                       retry=RetryPolicy(max_retries=0))
    put = router.put("/text/categories/Bets").mock(return_value=ok({
        "categoryName": "Bets", "definition": "d", "sampleBlobUrl": "https://b/s.jsonl", "version": 1,
        "status": "BuildNotStarted"}))
    await new.categories.create_version("Bets", definition="d", sample_blob_url="https://b/s.jsonl")
    assert "blobDelimiter" not in body(put)
    custom = router.post("/text:analyzeCustomCategory").mock(
        return_value=ok({"customCategoryAnalysis": {"detected": True}}))
    found = await new.analyze_custom_categories("x", [CategoryRef("Bets")])
    assert [(f.name, f.detected) for f in found] == [("Bets", True)] and body(custom) == {"text": "x", "categoryName": "Bets"}
    custom.mock(return_value=ok({"customCategoryAnalysis": {}}))
    with pytest.raises(BackendError, match="detected"):
        await new.analyze_custom_categories("x", [CategoryRef("Bets", 1)])
    await new.aclose()

    old = AzureBackend(ENDPOINT, key=KEY, retry=RetryPolicy(max_retries=0))  # 2024-05-15-preview
    latest = router.get("/text/categories/Bets").mock(return_value=ok({"value": [
        {"categoryName": "Bets", "definition": "d", "version": 3, "status": "BuildSucceeded"}]}))
    analyze = router.post("/text:analyze").mock(return_value=ok({
        "categoriesAnalysis": [], "textCustomizedCategoriesAnalysis": [{"categoryName": "Bets", "detected": False}]}))
    found = await old.analyze_custom_categories("x", [CategoryRef("Bets")])
    assert body(analyze)["customizedCategories"] == [{"categoryName": "Bets", "version": 3}]
    assert [(f.detected, f.version) for f in found] == [(False, 3)]
    analyze.mock(return_value=ok({"categoriesAnalysis": [], "textCustomizedCategoriesAnalysis": []}))
    with pytest.raises(BackendError, match="no analysis for custom category"):
        await old.analyze_custom_categories("x", [CategoryRef("Bets", 3)])
    latest.mock(return_value=ok({"value": [{"categoryName": "Bets", "definition": "d", "version": 4,
                                            "status": "Building"}]}))
    with pytest.raises(ConflictError, match="Bets:N"):
        await old.analyze_custom_categories("x", [CategoryRef("Bets")])
    await old.aclose()
