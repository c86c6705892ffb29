"""Runs against a real Azure AI Content Safety resource, only when one is configured:
AZURE_CONTENT_SAFETY_ENDPOINT and AZURE_CONTENT_SAFETY_KEY in the environment."""

import os

import pytest

from guardrail import FindingKind, Guard
from guardrail.backends.azure import AzureBackend

# Read at collection time, before the hermetic fixture clears these for each test.
REAL_AZURE = {
    "endpoint": os.environ.get("AZURE_CONTENT_SAFETY_ENDPOINT"),
    "key": os.environ.get("AZURE_CONTENT_SAFETY_KEY"),
}

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (REAL_AZURE["endpoint"] and REAL_AZURE["key"]),
        reason="set AZURE_CONTENT_SAFETY_ENDPOINT and AZURE_CONTENT_SAFETY_KEY to run",
    ),
]


async def test_real_service_analyzes_and_guards():
    backend = AzureBackend(REAL_AZURE["endpoint"], key=REAL_AZURE["key"])
    try:
        found = await backend.analyze_text("I will hurt you badly.")
        assert {f.name for f in found if f.kind is FindingKind.HARM} >= {"Violence"}
        verdict = await Guard(backend=backend).check_prompt("What's the capital of France?")
        assert verdict.allowed and verdict.backend == "azure"
    finally:
        await backend.aclose()
