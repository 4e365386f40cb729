"""Fixtures for the scale-out tests: a throw-away PostgreSQL server, a scripted model server."""
from __future__ import annotations

import pytest

from vcr_core.llm.testing import ScriptedServer, smart_responder


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL cluster on 127.0.0.1 (skips with the reason when it cannot start)."""
    from vcr_core.store.testing import PostgresUnavailable, postgres_server

    try:
        server = postgres_server()
        url = server.__enter__()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL test skipped: {exc}")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def server():
    with ScriptedServer(smart_responder) as srv:
        yield srv
