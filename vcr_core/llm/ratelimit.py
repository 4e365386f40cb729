"""Per-provider rate limits shared by every run in the process, and by every process on the database.

Each provider gets a limiter with a concurrency cap and an optional requests-per-minute budget
(a token bucket). A 429 answer with ``Retry-After`` pauses the whole provider for that long, so
sixteen threads do not hammer a provider that has just said "slow down".

Across processes (several ``vcr worker``, Ray tasks on many nodes) the budget, the pause and an
optional cap on calls in flight (``LLM_MAX_CONCURRENT``) are kept in the database
(``vcr_core.store.limits``): adding workers never multiplies a provider's limit. The embedded
local model is per machine and keeps its per-process queue.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger(__name__)

# Defaults: generous concurrency; no RPM cap unless a run sets one (429s are handled by back-off).
DEFAULT_MAX_CONCURRENT = 64


class ProviderLimiter:
    """Concurrency cap + token bucket + a shared pause after a 429."""

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT, rpm: float | None = None,
                 shared_key: str | None = None, cluster_max: int | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.shared_key = shared_key  # set: the schedule, pauses and cluster cap live in the database
        self.cluster_max = cluster_max
        # clock and sleep are injectable: tests check the schedule (``granted``), not the wall clock
        self.clock, self.sleep = clock, sleep
        self.granted: deque[float] = deque(maxlen=1000)
        self._sem = threading.BoundedSemaphore(max_concurrent)
        self.max_concurrent = max_concurrent
        self.rpm = rpm
        self._lock = threading.Lock()
        self._tokens = float(rpm or 0)
        self._last = clock()
        self._paused_until = 0.0

    def configure(self, rpm: float | None) -> None:
        with self._lock:
            self.rpm = rpm
            self._tokens = min(self._tokens, float(rpm or 0)) if rpm else 0.0

    def pause(self, seconds: float) -> None:
        """Hold every call to this provider for ``seconds`` (after a 429 with Retry-After), in every
        process when the limit is shared."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)
        shared = self._shared()
        if shared is not None:
            try:
                shared.pause(seconds)
            except Exception:  # noqa: BLE001 - a limiter must never stop a call
                log.warning("the shared rate limit could not record a %.1f s pause; this process pauses alone",
                            seconds, exc_info=True)

    def _shared(self):
        if not self.shared_key:
            return None
        from ..store.limits import shared_limiter

        try:
            return shared_limiter(self.shared_key, rate_per_s=(self.rpm / 60.0) if self.rpm else 0.0,
                                  max_concurrent=self.cluster_max or 0)
        except Exception:  # noqa: BLE001 - fall back to this process's limits
            return None

    def _wait_for_token(self) -> None:
        while True:
            with self._lock:
                now = self.clock()
                wait = self._paused_until - now
                if wait <= 0 and self.rpm:
                    self._tokens = min(float(self.rpm), self._tokens + (now - self._last) * self.rpm / 60.0)
                    self._last = now
                    if self._tokens >= 1:
                        self._tokens -= 1
                        self.granted.append(now)
                        return
                    wait = (1 - self._tokens) * 60.0 / self.rpm
                elif wait <= 0:
                    self.granted.append(now)
                    return
            self.sleep(min(max(wait, 0.01), 1.0))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one concurrency slot and one request token for the duration of a call."""
        shared = self._shared()
        if shared is not None:
            # Cluster-wide: a slot under the cap, then a start from the shared schedule (which also
            # honours a pause another process set after a 429).
            with shared.slot(), self._sem:
                yield
            return
        self._wait_for_token()
        with self._sem:
            yield


_LIMITERS: dict[str, ProviderLimiter] = {}
_LOCK = threading.Lock()


def limiter_for(provider: str, rpm: float | None = None, cluster_max: int | None = None) -> ProviderLimiter:
    """The process-wide limiter of ``provider``; ``rpm`` (when given) updates its budget and
    ``cluster_max`` its cap on calls in flight across every process (default: ``LLM_MAX_CONCURRENT``)."""
    from ..kernel.settings import get_settings

    settings = get_settings()
    with _LOCK:
        lim = _LIMITERS.get(provider)
        if lim is None:
            # The llama.cpp server answers one request at a time: queue here, not in its socket.
            cap = 1 if provider == "local" else DEFAULT_MAX_CONCURRENT
            shared = provider != "local" and getattr(settings, "shared_rate_limits", True)
            lim = _LIMITERS[provider] = ProviderLimiter(
                max_concurrent=cap, rpm=rpm, shared_key=f"llm:{provider}" if shared else None,
                cluster_max=cluster_max or getattr(settings, "llm_max_concurrent", None))
        elif rpm is not None and rpm != lim.rpm:
            lim.configure(rpm)
        if cluster_max is not None:
            lim.cluster_max = cluster_max
    return lim


def forget_limiters() -> None:
    """Drop the process's limiters (tests and benchmarks that change the settings)."""
    with _LOCK:
        _LIMITERS.clear()
