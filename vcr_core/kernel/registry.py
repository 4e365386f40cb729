"""One registry mechanism for everything pluggable: Python entry points.

Tools, verifiers, job kinds and CLI commands are each an entry-point group declared in
``pyproject.toml`` (``[project.entry-points."vcr.verifiers"]`` ...). Adding one is one module plus one
line there, and a third-party package adds its own by declaring entry points in the same groups:
nothing in ``vcr_core`` changes. What each group's entry point must be is :data:`CONTRACTS` (the one
place; ARCHITECTURE.md's "Plug-in contracts" table repeats it and a test keeps the two and every
registered plug-in in step).
"""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

TOOLS, VERIFIERS, JOBS, COMMANDS = "vcr.tools", "vcr.verifiers", "vcr.jobs", "vcr.commands"
GROUPS = (TOOLS, VERIFIERS, JOBS, COMMANDS)
_WHAT = {TOOLS: "tool", VERIFIERS: "verifier", JOBS: "job kind", COMMANDS: "command group"}

# group -> (what the entry point loads, the members every plug-in of the group has, optional members)
CONTRACTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    TOOLS: ("a zero-argument factory (usually the tool class) returning a tool",
            ("name", "status", "run"), ()),
    VERIFIERS: ("a claim verifier class; `verify(ctx)` returns a ClaimVerdict that names its source",
                ("name", "version", "applies", "verify"),
                ("default", "counts_as_support", "batch_scoped", "graph_scoped", "needs_engine",
                 "network_url_setting")),
    JOBS: ("a job handler `handler(job_id, engine)`; keywords `lease` (fence every write with it) and "
           "`context` (the JobContext: control, worker options, progress) when it accepts them; "
           "a returned status string ends the job with that status",
           ("job_id", "engine"), ("lease", "context")),
    COMMANDS: ("`register(subparsers)` adding `vcr` sub-commands (declared with cli.util.add_command)",
               ("register",), ()),
}


@lru_cache(maxsize=None)
def _entries(group: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep)  # the first distribution on the path wins, as imports do
    return dict(sorted(found.items()))


def names(group: str) -> list[str]:
    """The registered names of ``group``, sorted."""
    return list(_entries(group))


_LOADED: dict[tuple[str, str], Any] = {}


def load(group: str, name: str) -> Any:
    """The object registered as ``name`` in ``group`` (loaded once); KeyError naming the known ones when absent."""
    key = (group, name)
    if key not in _LOADED:
        entries = _entries(group)
        if name not in entries:
            raise KeyError(f"unknown {_WHAT.get(group, group)} {name!r}; known: {', '.join(entries) or 'none'}")
        _LOADED[key] = entries[name].load()
    return _LOADED[key]


def load_all(group: str) -> dict[str, Any]:
    """Every object of ``group`` by name (a broken plug-in raises, naming itself)."""
    out = {}
    for name, ep in _entries(group).items():
        try:
            out[name] = load(group, name)
        except Exception as exc:  # noqa: BLE001 - say which plug-in is broken
            raise ImportError(f"{_WHAT.get(group, group)} {name!r} ({ep.value}) cannot be loaded: {exc}") from exc
    return out


def source(group: str, name: str) -> str:
    """Where ``name`` comes from: the distribution that declares it and its module path."""
    ep = _entries(group)[name]
    dist = getattr(ep, "dist", None)
    return f"{dist.name if dist else '?'}: {ep.value}"


def refresh() -> None:
    """Forget what was discovered (after installing a plug-in in the same process; tests)."""
    _entries.cache_clear()
    _LOADED.clear()
