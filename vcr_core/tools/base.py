"""The tool framework: a registry of tools under the original pipeline's names.

Each tool says whether it is available and, in words, why not (no data directory, no server, no
network, no key). For one record, :func:`run_tools` runs the chosen tools concurrently with a
per-tool time-out; a failing or slow tool yields an error entry, never a failed record.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ..kernel.statuses import ToolStatus
from ..records.model import Record

# The original generate script's default, used by the CLI, the app and the tools alike.
DEFAULT_KG_NUM_NEIGHBOR = 1


@dataclass
class ToolOptions:
    """Options of the original generate script that tools read."""

    kg_with_rel: bool = False
    kg_num_neighbor: int = DEFAULT_KG_NUM_NEIGHBOR
    pubmed_num_papers: int = 30
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolResult:
    """What a tool returns for one record: prompt text plus structured evidence."""

    tool: str
    status: str  # ok, empty, unavailable, error, timeout
    prompt_text: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "empty")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Tool(Protocol):
    """A tool: ``name`` (original pipeline name), ``title``, ``status()`` and ``run()``."""

    name: str
    title: str

    def status(self) -> ToolStatus: ...

    def run(self, record: Record, options: ToolOptions) -> ToolResult: ...


_INSTANCES: dict[str, Tool] = {}


class WebTool:
    """A context tool backed by one web service client: ``workers`` parallel requests, and the
    client's status named after the service (``service``). Subclasses set ``name``, ``title``,
    ``service``, ``client_class`` and write ``run``."""

    name: str
    title: str
    service: str
    client_class: type

    def __init__(self, client: Any = None, workers: int = 8):
        self.client = client or self.client_class()
        self.workers = workers

    def status(self) -> ToolStatus:
        st = self.client.status()
        return st if st.available else ToolStatus(False, f"{self.service}: {st.reason}")


def tool_names() -> list[str]:
    """Registered tool names (entry-point group ``vcr.tools``), in a stable order."""
    from ..kernel.registry import TOOLS, names

    return names(TOOLS)


def get_tool(name: str) -> Tool:
    """The (cached) tool instance for ``name``; KeyError with the known names when unknown."""
    from ..kernel.registry import TOOLS, load

    if name not in _INSTANCES:
        _INSTANCES[name] = load(TOOLS, name)()
    return _INSTANCES[name]


def reset_tools() -> None:
    """Drop cached tool instances (after settings change, and in tests)."""
    _INSTANCES.clear()


def tool_statuses() -> dict[str, ToolStatus]:
    """Every tool's availability, for the status page and ``vcr tools``."""
    out = {}
    for name in tool_names():
        try:
            out[name] = get_tool(name).status()
        except Exception as exc:  # noqa: BLE001 - a broken tool must not hide the others
            out[name] = ToolStatus(False, f"could not start: {exc}")
    return out


def _run_one(name: str, record: Record, options: ToolOptions) -> ToolResult:
    start = time.perf_counter()
    try:
        tool = get_tool(name)
        st = tool.status()
        if not st.available:
            return ToolResult(name, "unavailable", error=st.reason, elapsed_s=time.perf_counter() - start)
        result = tool.run(record, options)
    except Exception as exc:  # noqa: BLE001 - one tool's failure never fails the record
        return ToolResult(name, "error", error=f"{type(exc).__name__}: {exc}", elapsed_s=time.perf_counter() - start)
    result.elapsed_s = time.perf_counter() - start
    return result


def run_tools(record: Record, names: list[str], options: ToolOptions | None = None,
              timeout_s: float | None = None) -> dict[str, ToolResult]:
    """Run ``names`` for one record concurrently; each gets ``timeout_s`` (default from settings)."""
    from ..kernel.settings import get_settings

    options = options or ToolOptions()
    timeout_s = timeout_s if timeout_s is not None else get_settings().tool_timeout_s
    results: dict[str, ToolResult] = {}
    if not names:
        return results
    pool = ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="tool")
    try:
        futures = {name: pool.submit(_run_one, name, record, options) for name in names}
        deadline = time.monotonic() + timeout_s
        for name, fut in futures.items():
            try:
                results[name] = fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                results[name] = ToolResult(name, "timeout", error=f"{name} took longer than {timeout_s:g} s and was skipped",
                                           elapsed_s=timeout_s)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def tool_context_text(results: dict[str, ToolResult]) -> str:
    """The prompt text of every tool that produced some, in tool order."""
    return "\n\n".join(r.prompt_text for _, r in sorted(results.items()) if r.prompt_text)
