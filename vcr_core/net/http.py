"""Shared HTTP helper for the web tools (E-utilities, Harmonizome, Wikipedia, PubMed servers).

One place decides how the tools talk to the outside world:

* time-outs on every request, retries (the shared :class:`vcr_core.net.retry.RetryPolicy`: exponential
  back-off with jitter, ``Retry-After`` honoured) on time-outs, dropped connections, HTTP 429 and 5xx;
  a refused connection or unknown host is not retried (below);
* a per-host rate limit shared by every client in every worker process through the database
  (NCBI allows 3 requests/s, however many workers run);
* a disk cache of successful GET answers under ``settings.cache_dir / "http"``;
* a clear ``unavailable: no network`` error when ``OFFLINE=true`` or the host cannot be reached.

Loopback hosts (127.0.0.1, localhost, ::1) are never considered "network": local servers keep
working with ``OFFLINE=true``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

import httpx

from ..kernel.filecache import write_atomic
from ..kernel.redact import redact
from ..kernel.statuses import ToolStatus
from .retry import RetryPolicy

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
USER_AGENT = "vcr-curation/0.1 (mechanistic explanation curation; https://github.com/valence-labs/VCR-Agent)"
# Keys never written into the cache (key material, not part of the question asked).
SECRET_PARAMS = {"api_key", "apikey", "key", "token"}


class NetworkUnavailable(RuntimeError):
    """No network: ``OFFLINE=true`` or the host cannot be reached. The message starts with ``unavailable:``."""


class HttpError(RuntimeError):
    """The service answered with an error status (after retries); carries ``status`` and ``body``."""

    def __init__(self, message: str, status: int | None = None, body: str = ""):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class HttpAnswer:
    """A finished HTTP exchange: status, text body, headers; ``cached`` when served from disk."""

    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    cached: bool = False

    def json(self) -> Any:
        return json.loads(self.text)


def is_loopback(url: str) -> bool:
    """True for URLs on this machine (always allowed, even offline)."""
    return (urlsplit(url).hostname or "") in LOOPBACK


def _offline() -> bool:
    from ..kernel.settings import get_settings

    return bool(get_settings().offline)


# -- rate limiting ------------------------------------------------------------------------------

class RateLimiter:
    """At most ``rate_per_s`` request starts per second (evenly spaced), safe across threads.

    ``clock`` and ``sleep`` are injectable (tests check the schedule, never the wall clock);
    ``granted`` holds the last start times the limiter handed out.
    """

    def __init__(self, rate_per_s: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self.clock, self.sleep = clock, sleep
        self.granted: deque[float] = deque(maxlen=1000)

    def wait(self) -> float:
        """Block until a request may start; returns the time slept."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
            self.granted.append(start)
        delay = start - now
        if delay > 0:
            self.sleep(delay)
        return max(delay, 0.0)


_LIMITERS: dict[tuple[str, float], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def rate_limiter(host: str, rate_per_s: float) -> RateLimiter:
    """The process-wide limiter for ``host`` at ``rate_per_s`` (shared by every client of that host)."""
    with _LIMITERS_LOCK:
        key = (host, rate_per_s)
        if key not in _LIMITERS:
            _LIMITERS[key] = RateLimiter(rate_per_s)
        return _LIMITERS[key]


class HostLimiter:
    """The rate limit of a remote host, kept by every worker together: the schedule lives in the
    database (``vcr_core.store.limits``), so N workers still make at most ``rate_per_s`` requests per
    second to NCBI. Loopback hosts (our own stub and PubMed servers) and set-ups without a usable
    database keep the per-process limiter."""

    def __init__(self, host: str, rate_per_s: float):
        self.host, self.rate_per_s = host, rate_per_s
        self.local = rate_limiter(host, rate_per_s)
        self.interval = self.local.interval
        self.loopback = is_loopback(f"http://{host}")

    def wait(self) -> float:
        """Block until a request may start; returns the time slept."""
        if not self.loopback:
            from ..store.limits import shared_limiter

            try:
                shared = shared_limiter(f"host:{self.host}", rate_per_s=self.rate_per_s)
                if shared is not None:
                    return shared.wait()
            except Exception as exc:  # noqa: BLE001 - a limiter must never stop a request
                log.warning("shared rate limit for %s failed (%s); using this process's limit", self.host, exc)
        return self.local.wait()


# -- disk cache ---------------------------------------------------------------------------------

class DiskCache:
    """Successful answers as small JSON files, one per request key, with a time-to-live."""

    def __init__(self, directory: Path, ttl_s: float):
        self.directory = Path(directory)
        self.ttl_s = ttl_s

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> HttpAnswer | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if time.time() - data.get("time", 0) > self.ttl_s:
            return None
        return HttpAnswer(data["status"], data["text"], data.get("headers", {}), cached=True)

    def put(self, key: str, url: str, answer: HttpAnswer) -> None:
        payload = {"time": time.time(), "url": url, "status": answer.status, "text": answer.text,
                   "headers": {k: v for k, v in answer.headers.items() if k.lower() == "content-type"}}
        write_atomic(self._path(key), json.dumps(payload))  # a reader never sees half a file


def cache_key(method: str, url: str, params: dict[str, Any] | None, body: Any = None) -> str:
    """A stable key of a request, without secret parameters."""
    clean = sorted((k, str(v)) for k, v in (params or {}).items() if k.lower() not in SECRET_PARAMS)
    raw = json.dumps([method.upper(), url, clean, body], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


# -- reachability -------------------------------------------------------------------------------

_PROBES: dict[tuple[str, int], tuple[float, str | None]] = {}
_PROBE_TTL_S = 60.0


def probe(url: str, timeout_s: float = 2.0) -> str | None:
    """None when ``url``'s host accepts a TCP connection, else an ``unavailable: ...`` sentence.

    Cached for a minute per host so a status page does not wait on every render.
    """
    host, port = _host_port(url)
    if not is_loopback(url) and _offline():
        return "unavailable: no network (OFFLINE=true)"
    cached = _PROBES.get((host, port))
    if cached and time.monotonic() - cached[0] < _PROBE_TTL_S:
        return cached[1]
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            reason = None
    except OSError as exc:
        reason = f"unavailable: no network (cannot reach {host}:{port}: {exc.strerror or exc})"
    _PROBES[(host, port)] = (time.monotonic(), reason)
    return reason


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _mark_down(url: str, reason: str) -> None:
    """Remember that ``url``'s host could not be reached (shared with :func:`probe`)."""
    _PROBES[_host_port(url)] = (time.monotonic(), reason)


def _known_down(url: str) -> str | None:
    """The reason ``url``'s host was found unreachable within the last minute, else None."""
    cached = _PROBES.get(_host_port(url))
    if cached and cached[1] and time.monotonic() - cached[0] < _PROBE_TTL_S:
        return f"{cached[1]}; not asked again for {_PROBE_TTL_S:.0f} s"
    return None


def clear_probes() -> None:
    """Forget cached reachability results (tests, settings changes)."""
    _PROBES.clear()


# -- the client ---------------------------------------------------------------------------------

class HttpClient:
    """An HTTP client for one service: base URL, time-out, retries, rate limit and disk cache.

    ``name`` is the service's name in messages ("NCBI E-utilities", "Harmonizome", ...).
    """

    def __init__(self, base_url: str, *, name: str, timeout_s: float = 20.0, retries: int = 3,
                 backoff_s: float = 0.5, max_wait_s: float = 30.0, rate_per_s: float | None = None,
                 cache_ttl_s: float | None = 7 * 24 * 3600, cache_namespace: str | None = None,
                 headers: dict[str, str] | None = None, cache_not_found: tuple[int, ...] = ()):
        self.base_url = base_url.rstrip("/")
        self.cache_not_found = set(cache_not_found)  # "no such name" answers worth remembering too
        self.name = name
        self.timeout_s = timeout_s
        self.policy = RetryPolicy(attempts=retries + 1, base_s=backoff_s, max_s=max_wait_s)
        self.host = urlsplit(self.base_url).netloc
        self.limiter = HostLimiter(self.host, rate_per_s) if rate_per_s else None
        self.sleep: Callable[[float], None] = time.sleep  # back-off waits; tests inject a recorder
        self.cache_ttl_s = cache_ttl_s
        self.cache_namespace = cache_namespace or (urlsplit(self.base_url).hostname or "local")
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._client = httpx.Client(timeout=timeout_s, headers=self.headers, follow_redirects=True)

    # public API
    def status(self) -> ToolStatus:
        """Available unless offline or the host is unreachable (cached TCP probe)."""
        reason = probe(self.base_url)
        return ToolStatus(reason is None, reason, detail=self.base_url)

    def get(self, path: str = "", params: dict[str, Any] | None = None, *, cache: bool = True) -> HttpAnswer:
        """GET ``base_url + path``; a 2xx answer (or raises NetworkUnavailable / HttpError)."""
        return self.request("GET", path, params=params, cache=cache)

    def get_json(self, path: str = "", params: dict[str, Any] | None = None, *, cache: bool = True) -> Any:
        """GET and decode JSON; HttpError when the body is not JSON."""
        answer = self.get(path, params, cache=cache)
        return self._decode(answer, path)

    def post_json(self, path: str, payload: Any, *, cache: bool = False) -> HttpAnswer:
        """POST a JSON body; a 2xx answer (or raises)."""
        return self.request("POST", path, json_body=payload, cache=cache)

    def post_form(self, path: str, form: dict[str, Any], *, cache: bool = False) -> HttpAnswer:
        """POST a form-encoded body (services such as PubChem's PUG REST take identifiers this way)."""
        return self.request("POST", path, form=form, cache=cache)

    def request(self, method: str, path: str = "", *, params: dict[str, Any] | None = None,
                json_body: Any = None, form: dict[str, Any] | None = None, cache: bool = True) -> HttpAnswer:
        """One logical request: cache, offline check, rate limit, retries with backoff.

        A host found unreachable (no DNS, connection refused) is not retried, and is not asked again
        for a minute: a batch without network falls back at once instead of waiting record by record.
        """
        url = self._url(path)
        if not is_loopback(url) and _offline():
            raise NetworkUnavailable(f"unavailable: no network (OFFLINE=true; {self.name} not asked)")
        if (down := _known_down(url)) is not None:
            raise NetworkUnavailable(down)
        store = self._cache() if cache and method in ("GET", "POST") and json_body is None else None
        key = cache_key(method, url, params, form) if store else ""
        shown = url + ("?" + urlencode(_public(params)) if params else "")
        if store and (hit := store.get(key)):
            if hit.status >= 400:
                raise HttpError(_error_message(self.name, hit.status, hit.text, 0), hit.status, hit.text)
            return hit
        try:
            answer = self._with_retries(method, url, params, json_body, form)
        except HttpError as exc:
            if store and exc.status in self.cache_not_found:
                store.put(key, shown, HttpAnswer(exc.status, exc.body))
            raise
        if store and 200 <= answer.status < 300:
            store.put(key, shown, answer)
        return answer

    def close(self) -> None:
        self._client.close()

    # internals
    def _url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        if not path:
            return self.base_url
        return f"{self.base_url}/{path.lstrip('/')}"

    def _cache(self) -> DiskCache | None:
        if not self.cache_ttl_s:
            return None
        from ..kernel.settings import get_settings

        return DiskCache(get_settings().cache_dir / "http" / self.cache_namespace, self.cache_ttl_s)

    def _with_retries(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any,
                      form: dict[str, Any] | None = None) -> HttpAnswer:
        for attempt in range(1, self.policy.attempts + 1):
            if self.limiter:
                self.limiter.wait()
            try:
                resp = self._client.request(method, url, params=params, json=json_body, data=form)
            except httpx.ConnectError as exc:  # no DNS, refused: a retry a moment later will not help
                reason = redact(f"unavailable: no network (cannot reach {self.host}: {exc})")
                _mark_down(url, reason)
                raise NetworkUnavailable(reason) from exc
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.TimeoutException):
                    message = f"{self.name} did not answer within {self.timeout_s:g} s"
                else:
                    message = redact(f"{self.name} request failed: {type(exc).__name__}: {exc}")
                if not self.policy.should_retry(exc, attempt):
                    raise HttpError(message) from exc
                self.policy.wait(attempt - 1, sleep=self.sleep)
                continue
            if resp.status_code < 400:
                return HttpAnswer(resp.status_code, resp.text, dict(resp.headers))
            if not self.policy.should_retry(resp.status_code, attempt):
                raise HttpError(redact(_error_message(self.name, resp.status_code, resp.text, attempt - 1)),
                                resp.status_code, redact(resp.text))
            self.policy.wait(attempt - 1, resp.headers.get("Retry-After"), sleep=self.sleep)
        raise HttpError(f"{self.name}: request failed")  # pragma: no cover - the last attempt returns or raises

    def _decode(self, answer: HttpAnswer, path: str) -> Any:
        try:
            return answer.json()
        except ValueError as exc:
            raise HttpError(f"{self.name} answered something that is not JSON for {path or '/'}: "
                            f"{answer.text[:200]!r}", answer.status, answer.text) from exc


def _public(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if k.lower() not in SECRET_PARAMS}


def _error_message(name: str, status: int, body: str, attempt: int) -> str:
    text = " ".join(body.split())[:300]
    tries = f" after {attempt + 1} attempts" if attempt else ""
    if status == 429:
        return f"{name} is rate limiting us (HTTP 429){tries}: {text}"
    return f"{name} answered HTTP {status}{tries}: {text}"
