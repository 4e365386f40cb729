"""Shared fixtures: every test runs against its own settings directory and database; the stand-in
servers (HTTP stubs, a scripted model server, PostgreSQL) every folder uses are defined here once."""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


# --- Under CI every part is tested: a skip there means an install step failed, so the run fails ------

_SKIPS: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPS.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    """With CI=true a skipped test fails the run: CI installs everything the suite needs (PostgreSQL,
    Chromium, Ray, the local model, GO annotations, ../shared), so a skip hides an untested part."""
    if os.environ.get("CI", "").lower() != "true" or not _SKIPS or exitstatus not in (0, 1):
        return
    lines = "\n".join(f"  {nodeid}: {reason}" for nodeid, reason in _SKIPS)
    print(f"\nCI=true: {len(_SKIPS)} test(s) skipped, which CI does not allow (an install step failed?):\n{lines}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    # No test lets the app start its supervised worker process unless it asks (APP_WORKER=true): a worker
    # left behind by each page run adds up to gigabytes over the suite.
    monkeypatch.setenv("APP_WORKER", "false")
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


# --- Stand-in HTTP servers on 127.0.0.1 -------------------------------------------------------------

@dataclass
class Call:
    """One request a stand-in server received."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    time: float


@dataclass
class StubServer:
    """A real HTTP server on 127.0.0.1 whose answers come from ``handler(call) -> (status, headers, body)``."""

    handler: Callable[[Call], tuple[int, dict[str, str], Any]]
    calls: list[Call] = field(default_factory=list)
    url: str = ""

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]


def _make_handler(stub: StubServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            call = Call(self.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}, body, time.monotonic())
            stub.calls.append(call)
            try:
                status, headers, payload = stub.handler(call)
            except Exception as exc:  # noqa: BLE001 - a broken stand-in answers 500, like a server would
                status, headers, payload = 500, {}, f"stub failed: {exc}"
            if not isinstance(payload, (bytes, str)):
                payload = json.dumps(payload)
                headers = {"Content-Type": "application/json", **headers}
            data = payload.encode() if isinstance(payload, str) else payload
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (time-out tests)

        do_GET = do_POST = _serve

        def log_message(self, *args):  # keep test output clean
            pass

    return Handler


@pytest.fixture
def stub_server():
    """Start stand-in servers: ``stub_server(handler) -> StubServer`` (stopped after the test)."""
    servers = []

    def start(handler) -> StubServer:
        stub = StubServer(handler)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(stub))
        httpd.daemon_threads = True
        stub.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return stub

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def pick_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` (a server started by a test is up)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    return pick_port()


@pytest.fixture
def stub(stub_server):
    """``stub(handler) -> StubServer`` for JSON services: ``handler(path, query) -> (status, body)``."""
    def start(handler):
        def answer(call):
            status, body = handler(call.path, call.query)
            return status, {}, body
        return stub_server(answer)
    return start


@pytest.fixture
def free_port_url(free_port) -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port}"


class UvicornThread:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app):
        import uvicorn

        port = pick_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve_app():
    """``serve_app(app)`` -> a started UvicornThread (stopped after the test)."""
    started = []

    def start(app) -> UvicornThread:
        srv = UvicornThread(app).__enter__()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.__exit__(None, None, None)


# --- A scripted OpenAI-compatible model server and stored records ----------------------------------

@pytest.fixture
def server():
    """A scripted model server on 127.0.0.1 that answers like a model following the prompts."""
    from vcr_core.llm.testing import ScriptedServer, smart_responder

    with ScriptedServer(smart_responder) as srv:
        yield srv


@pytest.fixture
def batch(engine, tmp_path):
    """A stored batch of 6 records; returns its id."""
    from vcr_core.files.ingest import ingest_file
    from vcr_core.llm.testing import make_records

    path = tmp_path / "records.json"
    path.write_text(json.dumps(make_records(6)))
    result = ingest_file(engine, path, name="test batch")
    assert result.ok, result.problems
    return result.batch_id


@pytest.fixture
def fast_backoff(monkeypatch):
    import vcr_core.llm.client as client

    monkeypatch.setattr(client, "BACKOFF_BASE_S", 0.01)


@pytest.fixture
def batch_id(engine, tmp_path):
    """A stored batch of two records (imatinib in K562, dexamethasone in A549), for verifier tests."""
    from vcr_core.files.ingest import ingest_file

    records = [{"index": 1, "context": {"cell_type": "K562", "disease_model": "chronic myeloid leukaemia"},
                "perturbation": {"type": "small molecule", "name": "imatinib", "target": ["ABL1"]}},
               {"index": 2, "context": {"cell_type": "A549"}, "perturbation": {"name": "dexamethasone", "target": "NR3C1"}}]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    res = ingest_file(engine, path)
    assert res.ok
    return res.batch_id


@pytest.fixture
def trace_id(engine, batch_id):
    """One generated-like trace on ``batch_id``'s first record."""
    from vcr_core.verify.testing import EXPLANATION, add_trace

    return add_trace(engine, batch_id, EXPLANATION)


# --- PostgreSQL --------------------------------------------------------------------------------------

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


# --- The app, driven in-process by Streamlit's AppTest ----------------------------------------------

def make_app(monkeypatch, timeout: float = 60):
    """An AppTest of app.py on the test database, run once, with a curator name entered. ``timeout`` is
    each script run's limit (pages that assemble or poll pass a longer one; time is never asserted)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("APP_WORKER", "false")  # runs are only queued here; the worker is tested elsewhere
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    at.sidebar.text_input(key="curator_name").input("ana").run()
    return at


@pytest.fixture
def app(engine, monkeypatch):
    """An AppTest of app.py on the test database, run once, with a curator name entered."""
    return make_app(monkeypatch)


@pytest.fixture
def seeded(engine, tmp_path):
    """A batch with one verified trace; the second claim names a hostile entity."""
    import json

    from vcr_core.files.ingest import ingest_file
    from vcr_core.verify import verify_traces
    from vcr_core.verify.base import ClaimVerdict
    from vcr_core.verify.testing import EXPLANATION, add_trace

    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"index": 1, "context": {"cell_type": "K562"}, "perturbation": {"name": "imatinib", "target": "ABL1"}}]))
    batch_id = ingest_file(engine, path).batch_id
    text = EXPLANATION.replace('source="imatinib"', 'source="<img src=x onerror=alert(1)>"')
    trace_id = add_trace(engine, batch_id, text)

    class Kg:
        name, version = "kg", "1"

        def applies(self, node):
            return node.action == "binds_to"

        def verify(self, ctx):
            return ClaimVerdict("supported", 0.9, [{"kind": "kg_edge", "source": "imatinib", "target": "ABL1", "relation": "target"}], "edge")

    verify_traces(engine, [trace_id], ["structural", "kg"], instances={"kg": Kg()})
    return {"batch_id": batch_id, "trace_id": trace_id}
