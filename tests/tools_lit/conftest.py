"""Fixtures for the literature tools: real HTTP servers on 127.0.0.1 and a small articles database."""
from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

TOPICS = {
    "imatinib": "imatinib inhibits the BCR-ABL tyrosine kinase in chronic myeloid leukemia K562 cells",
    "tamoxifen": "tamoxifen blocks the estrogen receptor ESR1 in MCF7 breast cancer cells",
    "metformin": "metformin activates AMPK and lowers hepatic glucose output in diabetes",
    "trametinib": "trametinib inhibits MEK1 MEK2 and ERK signalling in BRAF mutant melanoma",
    "olaparib": "olaparib traps PARP1 on DNA and kills BRCA1 deficient ovarian cancer cells",
    "dexamethasone": "dexamethasone binds the glucocorticoid receptor NR3C1 and suppresses inflammation",
}


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


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_articles_db(path: Path, n_per_topic: int = 40, *, extra: list[tuple] = ()) -> Path:
    """An SQLite file in the pubmed-vectors schema with synthetic articles on a few topics.

    PMIDs are spread so text order differs from number order; a few rows have no abstract, one has
    a non-numeric PMID and one has no text at all (both must be skipped).
    """
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (pmid TEXT PRIMARY KEY, title TEXT, authors TEXT, abstract TEXT, publication_year INTEGER)")
    rows = []
    pmid = 1000
    for i in range(n_per_topic):
        for j, (topic, sentence) in enumerate(TOPICS.items()):
            pmid += 7 + (i * 13 + j * 29) % 50
            abstract = None if (i + j) % 17 == 0 else f"{sentence}. Study {i} measured outcome {i % 5} in cohort {j}."
            rows.append((str(pmid), f"{topic.title()} study {i}", f"Author{i} A, Writer{j} B", abstract, 1990 + (i + j) % 30))
    rows += [("PMC-BAD", "not a PubMed id", "", "ignored text", 2000), ("999", "", "", None, 2001), *extra]
    conn.executemany("INSERT INTO articles VALUES (?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def articles_db(tmp_path) -> Path:
    return make_articles_db(tmp_path / "pubmed_data.db")


@pytest.fixture
def hashing_index(tmp_path, articles_db) -> Path:
    """A built index (hashing:256 embedder, float vectors stored) of ``articles_db``."""
    from vcr_core.tools.pubmed.build import build_index

    out = tmp_path / "index"
    build_index(articles_db, out, embedder="hashing:256", batch_size=64, progress=False)
    return out


class UvicornThread:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
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


@pytest.fixture(autouse=True)
def _fresh_literature_state():
    """No cached backends, searchers, embedders' probes or limiters leak between tests."""
    from vcr_core.net.http import clear_probes
    from vcr_core.tools import base
    from vcr_core.tools.pubmed import reset_backends

    reset_backends()
    clear_probes()
    base.reset_tools()
    yield
    reset_backends()
    clear_probes()
    base.reset_tools()
