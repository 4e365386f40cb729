"""Shared fixtures: every test runs against its own settings directory and database."""
from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """Point VCR_HOME at a fresh directory and drop provider keys, so no test sees the user's setup."""
    from vcr_core.kernel.settings import get_settings
    from vcr_core.store import dispose_engines

    home = tmp_path_factory.mktemp("vcr_home")
    monkeypatch.setenv("VCR_HOME", str(home))
    for key in ("DATABASE_URL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "NCBI_API_KEY",
                "STARK_PRIMEKG_DIR", "PRIMEKG_CSV", "DRUGBANK_XML_PATH", "DATA_DIR", "PUBMED_SERVER_URL",
                "PUBMED_INDEX_DIR", "PUBMED_DB", "DEFAULT_MODEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OFFLINE", "true")  # tests never reach the internet; tests that need HTTP set a local URL
    monkeypatch.chdir(home)  # so a developer's .env is not read
    get_settings.cache_clear()
    dispose_engines()
    yield home
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite file URL, also exported as DATABASE_URL."""
    from vcr_core.kernel.settings import get_settings

    url = f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def engine(db_url):
    """An engine on a fresh, fully migrated database."""
    from vcr_core.store import get_engine

    return get_engine(db_url)


@pytest.fixture
def shared_dir() -> Path:
    """The ../shared directory; skips the test when it is not beside the project."""
    if not SHARED.is_dir():
        pytest.skip("needs ../shared beside the project (design docs and eval corpora); not present here")
    return SHARED
