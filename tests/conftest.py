from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Property tests: 100 examples each by default; HYPOTHESIS_PROFILE=more (300) or deep (1,000).
settings.register_profile("default", max_examples=100)
settings.register_profile("deep", max_examples=1000)
settings.register_profile("more", max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

from guardrail import LocalEngine


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Never touch the developer's own store or Azure account from tests.
    monkeypatch.setenv("GUARDRAIL_STORE", str(tmp_path_factory.mktemp("store") / "store.sqlite3"))
    monkeypatch.delenv("AZURE_CONTENT_SAFETY_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_CONTENT_SAFETY_KEY", raising=False)


@pytest.fixture
def engine(tmp_path):
    eng = LocalEngine(tmp_path / "store.sqlite3")
    yield eng
    eng.close()
