"""Per-provider rate limits shared by every run in the process.

Each provider gets a limiter with a concurrency cap and an optional requests-per-minute budget
(a token bucket). A 429 answer with ``Retry-After`` pauses the whole provider for that long, so
sixteen threads do not hammer a provider that has just said "slow down".
"""
from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator

# Defaults: generous concurrency; no RPM cap unless a run sets one (429s are handled by back-off).
DEFAULT_MAX_CONCURRENT = 64


class ProviderLimiter:
    """Concurrency cap + token bucket + a shared pause after a 429."""

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT, rpm: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
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
        """Hold every call to this provider for ``seconds`` (after a 429 with Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)

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
        self._wait_for_token()
        with self._sem:
            yield


_LIMITERS: dict[str, ProviderLimiter] = {}
_LOCK = threading.Lock()


def limiter_for(provider: str, rpm: float | None = None) -> ProviderLimiter:
    """The process-wide limiter of ``provider``; ``rpm`` (when given) updates its budget."""
    with _LOCK:
        lim = _LIMITERS.get(provider)
        if lim is None:
            # The llama.cpp server answers one request at a time: queue here, not in its socket.
            cap = 1 if provider == "local" else DEFAULT_MAX_CONCURRENT
            lim = _LIMITERS[provider] = ProviderLimiter(max_concurrent=cap, rpm=rpm)
        elif rpm is not None and rpm != lim.rpm:
            lim.configure(rpm)
    return lim
