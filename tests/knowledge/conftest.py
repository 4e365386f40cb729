"""Stand-in HTTP servers on 127.0.0.1 for the network verifiers (INDRA, ChEMBL)."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Stub:
    """A real HTTP server whose answers come from ``handler(path, query) -> (status, json-able body)``."""

    handler: Callable[[str, dict[str, str]], tuple[int, Any]]
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


def _handler_class(stub: Stub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            stub.calls.append((parts.path, query))
            status, body = stub.handler(parts.path, query)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def stub():
    """``stub(handler) -> Stub`` started on 127.0.0.1 (stopped after the test)."""
    servers = []

    def start(handler) -> Stub:
        s = Stub(handler)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(s))
        httpd.daemon_threads = True
        s.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return s

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def free_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(autouse=True)
def _evidence_validates(monkeypatch):
    """Every evidence item a verifier emits in these tests validates into its kind's model."""
    from vcr_core.verify.testing import check_evidence_as_emitted

    check_evidence_as_emitted(monkeypatch)
