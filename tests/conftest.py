from __future__ import annotations

import os

import pytest
from hypothesis import settings

from _postgres import Server
from guardrail import LocalEngine

# Property tests: 100 examples each by default; HYPOTHESIS_PROFILE=more (300) or deep (1,000).
settings.register_profile("default", max_examples=100)
settings.register_profile("deep", max_examples=1000)
settings.register_profile("more", max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_postgres = Server()


@pytest.fixture(scope="session")
def postgres_server():
    """The throwaway PostgreSQL server (started once, on first use)."""
    if _postgres.url is None and _postgres.skip_reason is None:
        _postgres.start()
    if _postgres.url is None:
        pytest.skip(f"PostgreSQL unavailable: {_postgres.skip_reason}")
    yield _postgres


@pytest.fixture
def postgres_url(postgres_server):
    """A ``postgresql://`` store URL of its own (a fresh schema) for one test."""
    url = postgres_server.new_schema()
    yield url
    postgres_server.drop_schema(url)


def pytest_sessionfinish(session, exitstatus):
    _postgres.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _postgres.skip_reason:
        terminalreporter.write_sep("!", "POSTGRESQL STORE TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_postgres.skip_reason, red=True)


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


@pytest.fixture(params=["sqlite", "postgres"])
def engine_on_each_store(request, tmp_path):
    """A local engine on each store backend: the resource suites (blocklists, incidents,
    categories) take it as their ``engine``, so they run against both."""
    if request.param == "postgres":
        eng = LocalEngine(request.getfixturevalue("postgres_url"))
    else:
        eng = LocalEngine(tmp_path / "store.sqlite3")
    yield eng
    eng.close()
