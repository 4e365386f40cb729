"""A scripted OpenAI-compatible chat server on 127.0.0.1, for tests, benchmarks and demos.

It answers ``POST /v1/chat/completions`` (and ``GET /v1/models``) like a real provider, so the
whole litellm client path runs. What it answers is decided by a *responder*: a function that gets
the request body and returns a :class:`Reply` (text, HTTP status, latency, a malformed body, or a
hang longer than the client's time-out). Every request is recorded for assertions.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    """One scripted answer: ``text`` with ``status`` 200, or an error status, after ``delay_s``."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0
    malformed: bool = False  # send a body that is not JSON
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 100
    completion_tokens: int = 50
    tool_calls: list[dict[str, Any]] | None = None  # [{"name": ..., "arguments": {...}}] for function calling
    error_message: str | None = None  # the error text of a non-200 reply (providers echo keys here)
    token_delay_s: float = 0.0  # streamed requests: pause before each token (a slow CPU model)


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class SeenRequest:
    """A request the server received (body and headers), for tests to inspect."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class ScriptedServer:
    """Context manager running the server in a thread; ``base_url`` ends in ``/v1``.

    ``responder`` decides each reply; ``queue`` (a list of Reply) is consumed first, in order.
    """

    def __init__(self, responder: Responder | None = None, *, queue: list[Reply] | None = None,
                 default_delay_s: float = 0.0, model_name: str = "scripted"):
        self.responder = responder or (lambda body: Reply(text="ok"))
        self.queue = list(queue or [])
        self.default_delay_s = default_delay_s
        self.model_name = model_name
        self.requests: list[SeenRequest] = []
        self.active = 0          # requests being answered right now
        self.max_active = 0      # the most answered at once (a retry queued behind a running prompt shows here)
        self.aborted_streams = 0  # streams the client closed before the end
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self.queue:
                return self.queue.pop(0)
        return self.responder(body)

    def start(self) -> "ScriptedServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (time-out)
                    pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if self.path.rstrip("/").endswith("/models"):
                    body = {"object": "list", "data": [{"id": server.model_name, "object": "model"}]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                with server._lock:
                    server.requests.append(SeenRequest(self.path, body, dict(self.headers.items())))
                reply = server.next_reply(body)
                with server._lock:
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    self._answer(body, reply)
                finally:
                    with server._lock:
                        server.active -= 1

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                """Server-sent events, one word per chunk, like llama.cpp's streaming answer."""
                self.close_connection = True
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    words = reply.text.split(" ")
                    for i, w in enumerate(words):
                        if reply.token_delay_s:
                            time.sleep(reply.token_delay_s)
                        delta = {"content": w + (" " if i < len(words) - 1 else "")}
                        chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": len(words)}}
                    self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    with server._lock:
                        server.aborted_streams += 1

            def _answer(self, body: dict[str, Any], reply: Reply) -> None:
                delay = reply.delay_s or server.default_delay_s
                if delay:
                    time.sleep(delay)
                if body.get("stream") and reply.status == 200 and not reply.malformed:
                    self._stream(body, reply)
                elif reply.malformed:
                    self._send(200, b"this is not json {")
                elif reply.status != 200:
                    err = {"error": {"message": reply.error_message or f"scripted error {reply.status}",
                                     "type": "scripted", "code": reply.status}}
                    self._send(reply.status, json.dumps(err).encode(), reply.headers)
                else:
                    self._send(200, json.dumps(_completion(body, reply, server.model_name)).encode(), reply.headers)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 128
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _message(reply: Reply) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": reply.text or (None if reply.tool_calls else "")}
    if reply.tool_calls:
        msg["tool_calls"] = [{"id": f"call_{i}", "type": "function",
                              "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))}}
                             for i, c in enumerate(reply.tool_calls)]
    return msg


def _completion(body: dict[str, Any], reply: Reply, model_name: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or model_name,
        "choices": [{"index": 0, "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                     "message": _message(reply)}],
        "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                  "total_tokens": reply.prompt_tokens + reply.completion_tokens},
    }


def prompt_text(body: dict[str, Any]) -> str:
    """All message contents of a request joined (for responders that branch on the prompt)."""
    parts = []
    for m in body.get("messages", []):
        c = m.get("content")
        if isinstance(c, list):
            c = " ".join(p.get("text", "") for p in c if isinstance(p, dict))
        parts.append(str(c or ""))
    return "\n".join(parts)


VALID_EXPLANATION = """<think>The drug inhibits its target kinase.</think>
<answer>{name} binds {target} and lowers its activity, which reduces proliferation.</answer>
<explain>
set_context(cell_type="{cell}")
binds_to(id="n1", actor="{name}", target="{target}")
modulates_molecule_activity(id="n2", target="{target}", direction="down", via="n1")
induces_phenotype(id="n3", source="{name}", phenotype="reduced proliferation", via="n2")
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n2", "n3", relation="causal")
</dag>"""


def valid_explanation(name: str = "drugX", target: str = "EGFR", cell: str = "A549") -> str:
    """A well-formed explanation in the text form (three claims, a chain ending on a phenotype)."""
    return VALID_EXPLANATION.format(name=name, target=target, cell=cell)


REPORT_TEXT = "## Summary\n{name} acts on its target.\n\n## Mechanism\nInhibition.\n\n## References\n- none"


def make_records(n: int) -> list[dict[str, Any]]:
    """``n`` small perturbation records (single shape) for tests and benchmarks."""
    return [{"index": i, "context": {"cell_type": "A549", "disease": "lung adenocarcinoma"},
             "perturbation": {"name": f"drug{i}", "target": "EGFR", "type": "small molecule"}} for i in range(n)]


def smart_responder(body: dict[str, Any]) -> Reply:
    """Report prompts get a report, explanation prompts a valid explanation naming the record's drug."""
    import re

    text = prompt_text(body)
    drug = (re.findall(r'"name": "(drug\d+)"', text) or ["drugX"])[0]
    if "research report in markdown" in text:
        return Reply(text=REPORT_TEXT.format(name=drug))
    return Reply(text=valid_explanation(name=drug))
