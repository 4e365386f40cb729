"""The one retry policy: how often to try again, and how long to wait, for web tools and model calls.

Both callers (``tools/http.py``'s ``HttpClient`` and ``llm/client.py``'s ``complete``) keep their own
knowledge of *which* failures exist (a refused connection, a stalled local model); what is worth
retrying by status, the exponential back-off with jitter and the server's ``Retry-After`` are decided
here. The sleep and the random draw are injectable, so tests check the schedule, never the wall clock.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import httpx

Sleep = Callable[[float], None]


def retryable_status(status: int | None) -> bool:
    """Statuses worth asking again: rate limited (429) or a server error (5xx)."""
    return isinstance(status, int) and (status == 429 or status >= 500)


def parse_retry_after(value: object) -> float | None:
    """A ``Retry-After`` value in seconds, or None (absent, or an HTTP date: back-off applies)."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all (1: no retry); before retry ``n`` (0-based) wait ``base_s * 2**n``
    times a factor drawn from ``jitter`` (low, high), at most ``max_s``; a server's ``Retry-After``
    replaces the back-off (also capped at ``max_s``)."""

    attempts: int
    base_s: float
    max_s: float
    jitter: tuple[float, float] = (1.0, 1.25)

    @property
    def retries(self) -> int:
        """How many times a failed call is asked again."""
        return max(self.attempts - 1, 0)

    def delay(self, retry: int, retry_after: object = None, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry`` (0 is the first retry)."""
        server = parse_retry_after(retry_after)
        if server is not None:
            return min(max(server, 0.0), self.max_s)
        low, high = self.jitter
        return min(self.base_s * (2 ** retry) * (low + (high - low) * rand()), self.max_s)

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        """The back-off before each retry, in order (without any ``Retry-After``)."""
        return (self.delay(n, rand=rand) for n in range(self.retries))

    def should_retry(self, failure: BaseException | int | bool | None, attempt: int) -> bool:
        """Whether to try again after ``attempt`` tries (1-based) failed with ``failure``: an HTTP
        status; an exception (HTTP transport failures and time-outs are retried, else its
        ``status_code`` decides); or True/False when the caller classified the failure itself (a model
        provider's error types). A caller that knows better says so first: the web client never
        retries a refused connection (the host is reported unreachable), a stalled local model is
        never asked again."""
        if attempt >= self.attempts:
            return False
        if isinstance(failure, bool):
            return failure
        if failure is None or isinstance(failure, int):
            return retryable_status(failure)
        if isinstance(failure, (httpx.HTTPError, TimeoutError, ConnectionError)):
            return True
        return retryable_status(getattr(failure, "status_code", None))

    def wait(self, retry: int, retry_after: object = None, sleep: Sleep = time.sleep,
             rand: Callable[[], float] = random.random) -> float:
        """Sleep (through ``sleep``) before retry number ``retry``; returns the seconds waited."""
        seconds = self.delay(retry, retry_after, rand)
        sleep(seconds)
        return seconds
