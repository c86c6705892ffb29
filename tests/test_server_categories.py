"""Custom categories through ``guardrail serve`` (real loopback ports: the server, and a blob
server for sampleBlobUrl), driven by guardrail's AzureBackend under both preview shapes and
by httpx; plus the route/api-version table and operation ids."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time

import httpx
import pytest

pytest.importorskip("uvicorn")

from guardrail import LocalEngine  # noqa: E402
from guardrail._exceptions import NotFoundError  # noqa: E402
from guardrail.backends._base import CategoryRef  # noqa: E402
from guardrail.backends.azure import ApiVersions, AzureBackend  # noqa: E402
from guardrail.server import create_app  # noqa: E402

from _servers import serving  # noqa: E402

KEY = "category-test-key"
POSITIVE = [
    "Best way to hide a gambling habit from my wife?", "Which online casino pays out fastest tonight?",
    "I lost my rent money on slots again, how do I win it back?", "Tips for betting on football every weekend",
    "Can I borrow against my car to keep playing poker?", "What roulette strategy beats the house?",
    "I need a bookie who takes bets on credit", "How do I get more free spins on this casino app?",
]
NEGATIVE = [
    "What's a good recipe for banana bread?", "How do I change a bike tyre?", "Tips for a job interview",
    "Explain photosynthesis to a child", "Which houseplants need little light?", "How do I learn Spanish fast?",
    "What time does the museum open on Sunday?", "Help me plan a birthday party for my daughter",
]


@pytest.fixture(scope="module")
def blob():
    """A loopback 'blob store' serving the samples as JSONL."""
    rows = [{"text": t, "isPositive": True} for t in POSITIVE] + [{"text": t, "isPositive": False} for t in NEGATIVE]
    payload = "\n".join(json.dumps(r) for r in rows).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/samples/gambling.jsonl"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    engine = LocalEngine(tmp_path_factory.mktemp("cats") / "s.sqlite3")
    with serving(create_app(engine, key=KEY, fetch_hosts=["127.0.0.1"])) as url:
        yield url


@pytest.mark.parametrize("version", ["2024-05-15-preview", "2024-09-15-preview"])
def test_category_lifecycle_with_azure_backend(server, blob, version):
    name = "gambling-" + version[:7]

    async def run():
        backend = AzureBackend(server, key=KEY, api_versions=ApiVersions(categories=version))
        cats = backend.categories
        created = await cats.create_version(name, definition="gambling and betting", sample_blob_url=blob)
        assert created.version == 1 and created.status == "NotStarted"
        await cats.build(name, 1)
        built = await cats.wait_for_build(name, 1, poll=0.05, timeout=120)
        # Unversioned refs: 2024-05-15-preview needs a version, the client resolves the latest built one.
        hit = await backend.analyze_custom_categories("Where can I bet on horses with a credit card tonight?",
                                                      [CategoryRef(name)])
        miss = await backend.analyze_custom_categories("How long should I boil an egg?", [CategoryRef(name, 1)])
        listed = [c.category_name for c in await cats.list()]
        await cats.delete(name, poll=0.01)  # 202 + Operation-Location, polled
        with pytest.raises(NotFoundError):
            await cats.get(name)
        await backend.aclose()
        return built, hit, miss, listed

    built, hit, miss, listed = asyncio.run(run())
    assert built.status == "Succeeded"
    # 2024-09-15-preview's analyzeCustomCategory picks the latest itself and does not say which.
    assert [(f.name, f.detected, f.version) for f in hit] == [(name, True, 1 if "05-15" in version else None)]
    assert [(f.name, f.detected) for f in miss] == [(name, False)]
    assert name in listed


def test_analyze_shapes_over_http(server, blob):
    h = {"Ocp-Apim-Subscription-Key": KEY}
    v = {"api-version": "2024-05-15-preview"}
    base = f"{server}/contentsafety"
    r = httpx.put(f"{base}/text/categories/betting", params=v, headers=h,
                  json={"categoryName": "betting", "definition": "betting", "sampleBlobUrl": blob, "blobDelimiter": "/"})
    assert r.status_code == 201 and r.json()["status"] == "BuildNotStarted", r.text
    r = httpx.post(f"{base}/text/categories/betting:build", params={**v, "version": "1"}, headers=h)
    assert r.status_code == 202
    op = r.headers["Operation-Location"]
    for _ in range(600):
        status = httpx.get(op, headers=h).json()["status"]
        if status not in ("NotStarted", "Running"):
            break
        time.sleep(0.05)
    assert status == "Succeeded"
    got = httpx.get(f"{base}/text/categories/betting", params=v, headers=h).json()
    assert got["value"][0]["status"] == "BuildSucceeded" and got["value"][0]["version"] == 1
    text = "Which online casino has the best roulette odds for a big bet?"
    r = httpx.post(f"{base}/text:analyze", params=v, headers=h,
                   json={"text": text, "customizedCategories": [{"categoryName": "betting", "version": 1}]})
    assert r.json()["textCustomizedCategoriesAnalysis"] == [{"categoryName": "betting", "detected": True}]
    assert {c["category"] for c in r.json()["categoriesAnalysis"]} == {"Hate", "SelfHarm", "Sexual", "Violence"}
    # 2024-05-15-preview requires the version.
    r = httpx.post(f"{base}/text:analyze", params=v, headers=h,
                   json={"text": text, "customizedCategories": [{"categoryName": "betting"}]})
    assert r.status_code == 400 and "version is required" in r.json()["error"]["message"]
    r = httpx.post(f"{base}/text:analyzeCustomCategory", params={"api-version": "2024-09-15-preview"}, headers=h,
                   json={"text": text, "categoryName": "betting"})
    assert r.json() == {"customCategoryAnalysis": {"detected": True}}
    r = httpx.post(f"{base}/text:analyzeCustomCategory", params={"api-version": "2024-09-15-preview"}, headers=h,
                   json={"text": text, "categoryName": "nope"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"


def test_bad_category_requests_get_the_service_error(server, blob):
    h = {"Ocp-Apim-Subscription-Key": KEY}
    v = {"api-version": "2024-05-15-preview"}
    base = f"{server}/contentsafety"
    # The route exists, but not in a GA api-version.
    r = httpx.get(f"{base}/text/categories", params={"api-version": "2024-09-01"}, headers=h)
    assert r.status_code == 404 and "not part of api-version 2024-09-01" in r.json()["error"]["message"]
    r = httpx.put(f"{base}/text/categories/x", params=v, headers=h, json={"definition": "d"})
    assert r.status_code == 400 and r.json()["error"]["target"] == "sampleBlobUrl"
    r = httpx.put(f"{base}/text/categories/x", params=v, headers=h,
                  json={"categoryName": "y", "definition": "d", "sampleBlobUrl": blob})
    assert r.status_code == 400 and r.json()["error"]["target"] == "categoryName"
    r = httpx.post(f"{base}/text/categories/x:build", params=v, headers=h)
    assert r.status_code == 400 and r.json()["error"]["target"] == "version"
    for op in ("garbage", "e30", "x" * 2000):  # e30 is {} encoded
        r = httpx.get(f"{base}/text/categories/operations/{op}", params=v, headers=h)
        assert r.status_code == 404, op
    r = httpx.get(f"{base}/text/categories/..%2Fetc", params=v, headers=h)
    assert r.status_code in (400, 404) and "error" in r.json()


def test_sample_urls_to_internal_hosts_are_refused_unless_allowed(tmp_path, blob):
    with serving(create_app(LocalEngine(tmp_path / "s.sqlite3"))) as url:  # no fetch_hosts
        r = httpx.put(f"{url}/contentsafety/text/categories/x", params={"api-version": "2024-05-15-preview"},
                      json={"definition": "d", "sampleBlobUrl": blob})
        assert r.status_code == 400 and "allowed_hosts" in r.json()["error"]["message"]


def test_operation_ids_answer_on_another_server_on_the_same_store(tmp_path, blob):
    """What `--workers N` relies on: the Operation-Location of one process answers on another."""
    store = tmp_path / "shared.sqlite3"
    # Each lifespan closes its engine.
    with serving(create_app(LocalEngine(store), fetch_hosts=["127.0.0.1"])) as a, \
            serving(create_app(LocalEngine(store), fetch_hosts=["127.0.0.1"])) as b:
        v = {"api-version": "2024-05-15-preview"}
        httpx.put(f"{a}/contentsafety/text/categories/c", params=v,
                  json={"definition": "d", "sampleBlobUrl": blob}).raise_for_status()
        r = httpx.post(f"{a}/contentsafety/text/categories/c:build", params={**v, "version": "1"})
        path = httpx.URL(r.headers["Operation-Location"]).raw_path.decode()
        for _ in range(600):
            status = httpx.get(b + path).json()["status"]
            if status == "Succeeded":
                break
            time.sleep(0.05)
        assert status == "Succeeded"


def test_a_sas_token_in_the_sample_url_is_never_echoed_or_stored(server, blob):
    h = {"Ocp-Apim-Subscription-Key": KEY}
    v = {"api-version": "2024-05-15-preview"}
    secret = "sig=SECRETSIGNATURE123"
    r = httpx.put(f"{server}/contentsafety/text/categories/sas", params=v, headers=h,
                  json={"definition": "d", "sampleBlobUrl": f"{blob}?sv=2024&{secret}"})
    assert r.status_code == 201 and secret not in r.text
    assert secret not in httpx.get(f"{server}/contentsafety/text/categories/sas", params=v, headers=h).text
    missing = blob.rsplit("/", 1)[0] + f"/nope.jsonl?{secret}"
    r = httpx.put(f"{server}/contentsafety/text/categories/sas2", params=v, headers=h,
                  json={"definition": "d", "sampleBlobUrl": missing})
    assert r.status_code in (200, 201, 400) and secret not in r.text


def test_serve_allow_fetch_lets_sample_urls_reach_a_named_internal_host(tmp_path, blob):
    from _servers import start_serve, stop_serve

    for allow, status in ((["--allow-fetch", "127.0.0.1"], 201), ([], 400)):
        proc, url = start_serve("--store", str(tmp_path / f"s{status}.sqlite3"), *allow)
        try:
            r = httpx.put(f"{url}/contentsafety/text/categories/x", params={"api-version": "2024-05-15-preview"},
                          json={"definition": "d", "sampleBlobUrl": blob})
            assert r.status_code == status, r.text
        finally:
            stop_serve(proc)
