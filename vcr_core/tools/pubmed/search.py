"""Which PubMed backend runs here, and the one search function everyone calls.

``PUBMED_BACKEND``:

* ``server``: a ``/find_matches`` server at ``PUBMED_SERVER_URL`` (the original, or ``vcr pubmed serve``);
* ``native``: the binary index in ``PUBMED_INDEX_DIR`` with the articles in ``PUBMED_DB``, in process;
* ``eutils``: NCBI E-utilities over the internet (``NCBI_API_KEY`` raises the rate limit);
* ``auto`` (default): server if its URL is set, else native if both paths are set, else E-utilities
  unless ``OFFLINE=true``;
* ``off``: no literature search.
"""
from __future__ import annotations

import threading
from typing import Protocol

from ..base import ToolStatus
from .papers import Paper, PubmedError, PubmedUnavailable

BACKENDS = ("auto", "server", "native", "eutils", "off")
SETUP_HINT = ("set PUBMED_SERVER_URL (a /find_matches server), or PUBMED_INDEX_DIR and PUBMED_DB "
              "(see `vcr pubmed build-index`), or allow the network (OFFLINE=false) for NCBI E-utilities")


class Backend(Protocol):
    """A PubMed search backend."""

    name: str

    def status(self) -> ToolStatus: ...

    def search(self, query: str, k: int = 40) -> list[Paper]: ...


class _NativeBackend:
    """Lazy wrapper: the index is opened on first use, and a broken one reports why."""

    name = "native"

    def __init__(self, index_dir, db_path):
        self.index_dir, self.db_path = index_dir, db_path

    def _searcher(self):
        from .native import native_searcher

        return native_searcher(self.index_dir, self.db_path)

    def status(self) -> ToolStatus:
        try:
            return ToolStatus(True, detail=self._searcher().describe())
        except PubmedUnavailable as exc:
            return ToolStatus(False, f"native PubMed index unusable: {exc}")

    def search(self, query: str, k: int = 40) -> list[Paper]:
        from .embed import EmbedderError

        try:
            return self._searcher().search(query, k)
        except EmbedderError as exc:
            raise PubmedError(str(exc)) from exc


class _Unavailable:
    """Stands in when nothing can run; status and search both say why."""

    name = "unavailable"

    def __init__(self, reason: str):
        self.reason = reason

    def status(self) -> ToolStatus:
        return ToolStatus(False, self.reason)

    def search(self, query: str, k: int = 40) -> list[Paper]:
        raise PubmedUnavailable(self.reason)


_CACHE: dict[tuple, Backend] = {}
_CACHE_LOCK = threading.Lock()


def _cached(key: tuple, make) -> Backend:
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = make()
        return _CACHE[key]


def get_backend(name: str | None = None) -> Backend:
    """The backend for ``name`` (default: ``settings.pubmed_backend``), resolved as described above."""
    from ...kernel.settings import get_settings

    s = get_settings()
    choice = (name or s.pubmed_backend or "auto").strip().lower()
    if choice not in BACKENDS:
        return _Unavailable(f"unknown PUBMED_BACKEND {choice!r}: use one of {', '.join(BACKENDS)}")
    if choice == "off":
        return _Unavailable("PubMed search is switched off (PUBMED_BACKEND=off)")
    if choice == "auto":
        if s.pubmed_server_url:
            choice = "server"
        elif s.pubmed_index_dir and s.pubmed_db:
            choice = "native"
        elif not s.offline:
            choice = "eutils"
        else:
            return _Unavailable(f"unavailable: no network (OFFLINE=true) and no local PubMed: {SETUP_HINT}")
    if choice == "server":
        if not s.pubmed_server_url:
            return _Unavailable("PUBMED_BACKEND=server but PUBMED_SERVER_URL is not set")
        from .client import FindMatchesClient

        return _cached(("server", s.pubmed_server_url), lambda: FindMatchesClient(s.pubmed_server_url))
    if choice == "native":
        if not (s.pubmed_index_dir and s.pubmed_db):
            return _Unavailable("PUBMED_BACKEND=native needs both PUBMED_INDEX_DIR and PUBMED_DB")
        return _cached(("native", str(s.pubmed_index_dir), str(s.pubmed_db)),
                       lambda: _NativeBackend(s.pubmed_index_dir, s.pubmed_db))
    from .eutils import EutilsClient

    key = s.ncbi_api_key.get_secret_value() if s.ncbi_api_key else None
    return _cached(("eutils", key), lambda: EutilsClient(api_key=key or None))


def reset_backends() -> None:
    """Forget cached backends (after settings change, and in tests)."""
    import sys

    with _CACHE_LOCK:
        _CACHE.clear()
    native = sys.modules.get(__package__ + ".native")  # only if loaded: do not import numba for nothing
    if native is not None:
        native.clear_searchers()


def pubmed_status(backend: Backend | None = None) -> ToolStatus:
    """Whether literature search can run here; ``detail`` names the backend in use."""
    backend = backend or get_backend()
    try:
        st = backend.status()
    except Exception as exc:  # noqa: BLE001 - a status check never raises
        return ToolStatus(False, f"PubMed backend {backend.name} failed its check: {exc}")
    if st.available and st.detail and not st.detail.startswith(backend.name):
        st = ToolStatus(True, st.reason, f"{backend.name}: {st.detail}")
    return st


def search_papers(query: str, k: int = 40, *, backend: Backend | None = None) -> list[Paper]:
    """Up to k papers for ``query`` from the configured backend, best first.

    Raises PubmedUnavailable when no backend can run (the message says what to configure) and
    PubmedError when the backend fails.
    """
    backend = backend or get_backend()
    try:
        return backend.search(query, k)
    except PubmedError:
        raise
    except Exception as exc:  # noqa: BLE001 - callers handle one error type
        raise PubmedError(f"PubMed backend {backend.name} failed: {type(exc).__name__}: {exc}") from exc
