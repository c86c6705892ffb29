import httpx
import pytest
import respx

from guardrail.backends.azure import AzureBackend, RetryPolicy

ENDPOINT = "https://unit-test.cognitiveservices.azure.com"
BASE = ENDPOINT + "/contentsafety"
KEY = "unit-test-secret-key-0123456789"


@pytest.fixture
def router():
    with respx.mock(base_url=BASE, assert_all_called=False) as r:
        yield r


@pytest.fixture
async def backend(router):
    b = AzureBackend(ENDPOINT, key=KEY, retry=RetryPolicy(max_retries=3, backoff=0.001, max_backoff=0.002))
    yield b
    await b.aclose()


def sent(route, i=-1):
    """The i-th request a route received."""
    return route.calls[i].request


def body(route, i=-1):
    import json

    return json.loads(sent(route, i).content)


def ok(json=None, status=200, headers=None):
    return httpx.Response(status, json=json, headers=headers)
