"""``complete()``: every model call of the project, through litellm.

Retries with exponential back-off (and jitter) on 429, 5xx, time-outs and connection errors, by the
project's one retry policy (:mod:`vcr_core.net.retry`, shared with the web tools);
a per-call time-out; tokens, cost and latency measured per call.

The embedded local model is called differently (:func:`_local_attempt`): it runs on a shared CPU, so its
answer is streamed. A slow model that is still writing is not cut off (the time-out is a *stall*:
no token for ``LOCAL_STALL_S``; plus a total budget), tokens so far are reported to ``progress``,
and a time-out is never retried: llama.cpp keeps evaluating a prompt after its client left, so a
retry would queue the same long prompt again behind the one still running. The stream is closed
instead, which makes the server stop at its next token. litellm is imported lazily (it is
slow to import) and configured never to phone home: no telemetry, the bundled cost map.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from ..kernel.redact import redact as _redact
from ..kernel.settings import get_settings
from ..kernel.textsafe import scrub
from ..net.retry import RetryPolicy, retryable_status
from .models import ModelChoice, api_key_for, missing_key_message
from .ratelimit import limiter_for

log = logging.getLogger(__name__)

# Must be set before litellm is imported: use the cost map shipped with litellm, never fetch one.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_LITELLM = None
_IMPORT_LOCK = threading.Lock()
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
# The embedded model on a shared CPU: how long without a new token (the first one comes after the
# whole prompt is evaluated, which takes longest) before the call counts as stalled.
LOCAL_STALL_S = 240.0
LOCAL_MAX_RETRIES = 2  # connection errors and 5xx only (the server starting or restarting)
_sleep: Callable[[float], None] = time.sleep  # back-off waits; tests inject a recorder

Progress = Callable[[dict[str, Any]], None]


def litellm_module():
    """litellm, imported once and configured: no telemetry, no debug banners, quiet logger."""
    global _LITELLM
    with _IMPORT_LOCK:
        if _LITELLM is None:
            import litellm

            litellm.telemetry = False
            litellm.suppress_debug_info = True
            litellm.drop_params = True  # a provider that lacks a parameter ignores it instead of failing
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx", "openai._base_client"):
                logging.getLogger(name).setLevel(logging.WARNING)
            _LITELLM = litellm
    return _LITELLM


@dataclass
class LlmResponse:
    """What one completed call returns (text, tool calls, tokens, cost, latency, model)."""

    text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    model: str = ""
    attempts: int = 1
    finish_reason: str | None = None


@dataclass
class CallInfo:
    """Accounting of one call (successful or not), handed to a ``recorder``. Holds no key."""

    purpose: str
    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    attempts: int = 1
    error: str | None = None
    in_flight: bool = False  # the call is starting; a later CallInfo of the same call replaces it


class LlmError(RuntimeError):
    """A call that failed for good (after retries, or at once when retrying cannot help).

    ``reason`` names the kind of failure: empty_output, malformed_response, server_error,
    rate_limited, timeout, auth, connection, missing_key or other.
    """

    def __init__(self, message: str, *, retryable: bool = False, attempts: int = 1, status: int | None = None,
                 reason: str = "other"):
        super().__init__(message)
        self.retryable = retryable
        self.attempts = attempts
        self.status = status
        self.reason = reason


class _BadAnswer(Exception):
    """An HTTP 200 whose content cannot be used: empty, or not a chat completion."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _malformed_cause(exc: BaseException) -> bool:
    """Did the provider answer with a body that is not a chat completion (a JSON decode or
    response-validation error anywhere in the exception chain)?"""
    import json as _json

    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 10:
        name = type(cur).__name__
        text = str(cur)
        if isinstance(cur, (_json.JSONDecodeError, UnicodeDecodeError)) or name in (
                "APIResponseValidationError", "JSONDecodeError") or "Expecting value" in text \
                or "Invalid response object" in text or "is not valid JSON" in text:
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


class LocalTimeout(RuntimeError):
    """The local model stalled (no token for a while) or ran past its total budget."""


class LocalHttpError(RuntimeError):
    """The local server answered with an HTTP error."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status_code = status


def _classify(exc: Exception) -> tuple[bool, int | None, str]:
    """(retryable?, HTTP status, a short message) for an exception litellm (or the local stream) raised."""
    retryable, status, message, _ = _classify_reason(exc)
    return retryable, status, message


def _classify_reason(exc: Exception) -> tuple[bool, int | None, str, str]:
    """(retryable?, HTTP status, a short message, reason) for an exception of a call."""
    if isinstance(exc, LocalTimeout):
        return False, None, f"the model did not answer within the time-out: {exc}", "timeout"
    if isinstance(exc, LocalHttpError):
        return (exc.status_code >= 500, exc.status_code, f"the local model server answered HTTP {exc.status_code}: {exc}",
                "server_error" if exc.status_code >= 500 else "other")
    if isinstance(exc, (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)):
        return True, None, f"the local model server could not be reached ({type(exc).__name__}: {exc})", "connection"
    if isinstance(exc, _BadAnswer):
        # retried like a server hiccup, but never reported as one
        return True, 200, redact(str(exc)), exc.reason
    if _malformed_cause(exc):
        return True, 200, ("the provider answered HTTP 200 with a body that is not a chat completion "
                           f"(malformed response): {redact(str(exc).splitlines()[0][:200]) if str(exc) else ''}"), \
            "malformed_response"
    lt = litellm_module()
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    retry_types = tuple(t for t in (getattr(lt, n, None) for n in (
        "RateLimitError", "InternalServerError", "ServiceUnavailableError", "Timeout", "APIConnectionError",
        "BadGatewayError")) if isinstance(t, type))
    retryable = isinstance(exc, retry_types) or retryable_status(status)
    if isinstance(exc, getattr(lt, "Timeout", ())):
        msg = "the model did not answer within the time-out"
    elif status == 429:
        msg = "the provider's rate limit was hit (HTTP 429)"
    elif isinstance(status, int) and status >= 500:
        msg = f"the provider had a server error (HTTP {status})"
    elif isinstance(exc, getattr(lt, "AuthenticationError", ())):
        msg = "the provider rejected the API key (authentication failed)"
    else:
        msg = f"{name}"
    detail = redact(str(exc).split("\n", 1)[0][:300])
    reason = ("timeout" if msg.startswith("the model did not answer") else "rate_limited" if status == 429
              else "server_error" if isinstance(status, int) and status >= 500
              else "auth" if msg.startswith("the provider rejected") else
              "connection" if "Connection" in name else "other")
    return retryable, status if isinstance(status, int) else None, (f"{msg}: {detail}" if detail else msg), reason


def redact(text: str) -> str:
    """``text`` with every fragment of a configured key masked (see :mod:`vcr_core.kernel.redact`)."""
    return _redact(text)


def _retry_after(exc: Exception) -> str | None:
    """The ``Retry-After`` header of the provider's answer, if it sent one."""
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None) or {}
    try:
        return headers.get("retry-after") or headers.get("Retry-After")
    except (AttributeError, TypeError):
        return None


def _cost(lt: Any, response: Any, choice: ModelChoice) -> float:
    if choice.is_local or choice.api_base:
        return 0.0  # a self-hosted server costs nothing per token
    try:
        return float(lt.completion_cost(completion_response=response) or 0.0)
    except Exception:  # noqa: BLE001 - a model missing from the cost map costs "unknown", recorded as 0
        return 0.0


def _usage(resp: Any) -> tuple[int, int]:
    usage = getattr(resp, "usage", None)
    try:
        return int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)
    except (TypeError, ValueError):
        return 0, 0


def _to_response(lt: Any, resp: Any, choice: ModelChoice, latency: float, attempts: int) -> LlmResponse:
    choices = getattr(resp, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise _BadAnswer("malformed_response", "the provider answered HTTP 200 without a message (malformed response)")
    msg = choices[0].message
    calls = [tc.model_dump() if hasattr(tc, "model_dump") else dict(tc) for tc in (getattr(msg, "tool_calls", None) or [])]
    if not (msg.content or "").strip() and not calls:
        raise _BadAnswer("empty_output", "the model returned an empty answer (no text and no tool call)")
    usage = getattr(resp, "usage", None)
    return LlmResponse(
        text=msg.content or "", tool_calls=calls,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(lt, resp, choice), latency_s=latency, model=choice.model, attempts=attempts,
        finish_reason=getattr(resp.choices[0], "finish_reason", None),
    )


def complete(messages: list[dict[str, Any]], *, model_choice: ModelChoice, purpose: str,
             timeout: float | None = None, response_format: dict | None = None, tools: list | None = None,
             max_retries: int | None = None, max_tokens: int | None = None, temperature: float | None = None,
             recorder: Callable[[CallInfo], None] | None = None, rpm: float | None = None,
             progress: Progress | None = None) -> LlmResponse:
    """Call the model of ``model_choice`` with ``messages`` and return its answer.

    Retries 429/5xx/time-outs/connection errors with exponential back-off (``max_retries``,
    default the ``LLM_MAX_RETRIES`` setting); ``timeout`` defaults to ``LLM_TIMEOUT_S``.
    ``recorder`` (if given) receives one :class:`CallInfo` per call, also for failed calls.
    ``progress`` (if given) receives events: ``{"event": "call", "purpose", "attempt", "max_attempts"}``,
    ``{"event": "tokens", "tokens"}`` (local model, while it streams) and ``{"event": "retry_wait", "wait_s",
    "reason"}``. Raises :class:`LlmError` with a plain message when the call fails for good.
    """
    s = get_settings()
    if model_choice.is_local:
        # A CPU model: the total budget is larger, time-outs are stalls and are not retried (module docstring).
        timeout = timeout if timeout is not None else max(s.llm_timeout_s, 900.0)
        max_retries = LOCAL_MAX_RETRIES if max_retries is None else max_retries
    timeout = timeout if timeout is not None else s.llm_timeout_s
    max_retries = s.llm_max_retries if max_retries is None else max_retries
    problem = missing_key_message(model_choice)
    if problem:
        _record(recorder, CallInfo(purpose, model_choice.provider, model_choice.model, attempts=0, error=problem))
        raise LlmError(problem, reason="missing_key")
    lt = None if model_choice.is_local else litellm_module()  # the local stream needs no litellm (slow to import)
    # Text stored before ingest rejected lone surrogates cannot be sent as JSON: replace, never fail.
    messages, _ = scrub(messages)
    kwargs: dict[str, Any] = {"model": model_choice.model, "messages": messages, "timeout": timeout,
                              "max_retries": 0}  # retries are ours: back-off and accounting in one place
    if model_choice.api_base:
        kwargs["api_base"] = model_choice.api_base
    for key, value in (("response_format", response_format), ("tools", tools), ("max_tokens", max_tokens),
                       ("temperature", temperature)):
        if value is not None:
            kwargs[key] = value
    limiter = limiter_for(model_choice.provider, rpm)
    policy = retry_policy(max_retries)
    start = time.perf_counter()
    attempt = 0
    billed = [0, 0, 0.0]  # tokens and cost of answers that came back but could not be used
    # Written before the call (for recorders that ask for it): a worker killed while waiting still
    # leaves a row saying the call was made; the final CallInfo of the call then replaces it.
    if getattr(recorder, "wants_in_flight", False):
        _record(recorder, CallInfo(purpose, model_choice.provider, model_choice.model, attempts=0, in_flight=True,
                                   error="in flight: no answer was recorded (the worker stopped during the call)"))
    while True:
        attempt += 1
        _emit(progress, {"event": "call", "purpose": purpose, "attempt": attempt, "max_attempts": max_retries + 1})
        try:
            with limiter.slot():
                if model_choice.is_local:
                    out = _local_attempt(kwargs, model_choice, timeout, progress)
                else:
                    resp = lt.completion(api_key=api_key_for(model_choice), **kwargs)
            if model_choice.is_local:
                billed[0] += out.prompt_tokens
                billed[1] += out.completion_tokens
                if not (out.text or "").strip() and not out.tool_calls:
                    raise _BadAnswer("empty_output", "the model returned an empty answer (no text and no tool call)")
                out.latency_s, out.attempts = time.perf_counter() - start, attempt
            else:
                pt, ct = _usage(resp)
                billed[0] += pt
                billed[1] += ct
                billed[2] += _cost(lt, resp, model_choice) if pt or ct else 0.0
                out = _to_response(lt, resp, model_choice, time.perf_counter() - start, attempt)
            out.prompt_tokens, out.completion_tokens, out.cost_usd = billed[0], billed[1], billed[2]
            # usage is stored before the answer is used (a worker killed after this loses nothing)
            _record(recorder, CallInfo(purpose, model_choice.provider, model_choice.model, out.prompt_tokens,
                                       out.completion_tokens, out.cost_usd, out.latency_s, attempt))
            return out
        except Exception as exc:  # noqa: BLE001 - classified below; nothing escapes unexplained
            retryable, status, message, reason = _classify_reason(exc)
            if isinstance(exc, LocalTimeout):
                retryable = False  # never queue the same prompt again behind the one the server still runs
                message = f"{message} (not retried: a retry would wait behind the same prompt on the same CPU)"
            if policy.should_retry(retryable, attempt):
                wait = policy.delay(attempt - 1, _retry_after(exc))
                if status == 429:
                    limiter.pause(wait)
                log.info("%s call to %s failed (%s); retry %d/%d in %.1f s", purpose, model_choice.model,
                         message, attempt, max_retries, wait)
                _emit(progress, {"event": "retry_wait", "wait_s": round(wait, 1), "reason": message})
                _sleep(wait)
                continue
            if retryable:
                message = f"{message} (gave up after {attempt} attempts)"
            message = redact(message)
            _record(recorder, CallInfo(purpose, model_choice.provider, model_choice.model, billed[0], billed[1],
                                       billed[2], latency_s=time.perf_counter() - start, attempts=attempt,
                                       error=message))
            raise LlmError(message, retryable=retryable, attempts=attempt, status=status, reason=reason) from None


def retry_policy(max_retries: int) -> RetryPolicy:
    """The retry policy of a model call: ``max_retries`` retries, back-off from ``BACKOFF_BASE_S``
    (jitter: half to all of it, so that workers hit by the same 429 spread out), at most ``BACKOFF_MAX_S``."""
    return RetryPolicy(attempts=max_retries + 1, base_s=BACKOFF_BASE_S, max_s=BACKOFF_MAX_S, jitter=(0.5, 1.0))


def _emit(progress: Progress | None, event: dict[str, Any]) -> None:
    if progress is None:
        return
    try:
        progress(event)
    except Exception:  # noqa: BLE001 - a progress display must never break a call
        log.exception("progress callback failed")


def _local_attempt(kwargs: dict[str, Any], choice: ModelChoice, total_s: float, progress: Progress | None) -> LlmResponse:
    """One streamed call to the local OpenAI-compatible server. Raises :class:`LocalTimeout` on a stall
    (no token for ``LOCAL_STALL_S``) or when ``total_s`` is spent; closing the stream stops the server."""
    body: dict[str, Any] = {"model": choice.model.split("/", 1)[-1], "messages": kwargs["messages"], "stream": True}
    for key in ("response_format", "max_tokens", "temperature", "tools"):
        if kwargs.get(key) is not None:
            body[key] = kwargs[key]
    stall = min(LOCAL_STALL_S, total_s)
    timeout = httpx.Timeout(connect=10.0, read=stall, write=30.0, pool=10.0)
    start = time.monotonic()
    parts: list[str] = []
    tokens = 0
    usage: dict[str, Any] = {}
    finish = None
    last_report = 0.0
    try:
        with httpx.Client(timeout=timeout) as client, client.stream(
                "POST", f"{choice.api_base.rstrip('/')}/chat/completions", json=body,
                headers={"Authorization": f"Bearer {api_key_for(choice)}"}) as resp:
            if resp.status_code != 200:
                raise LocalHttpError(resp.read().decode("utf-8", "replace")[:300], resp.status_code)
            for line in resp.iter_lines():
                if time.monotonic() - start > total_s:
                    raise LocalTimeout(f"still writing after {total_s:.0f} s ({tokens} tokens); stopped")
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    continue
                usage = chunk.get("usage") or usage
                for ch in chunk.get("choices") or []:
                    piece = (ch.get("delta") or {}).get("content")
                    if piece:
                        parts.append(piece)
                        tokens += 1
                    finish = ch.get("finish_reason") or finish
                now = time.monotonic()
                if now - last_report >= 0.5:
                    last_report = now
                    _emit(progress, {"event": "tokens", "tokens": tokens})
    except httpx.ReadTimeout:
        what = "no first token" if not tokens else f"no new token after {tokens}"
        raise LocalTimeout(f"{what} for {stall:.0f} s (after {time.monotonic() - start:.0f} s in all); the stream was "
                           "closed so the server stops") from None
    _emit(progress, {"event": "tokens", "tokens": tokens})
    return LlmResponse(text="".join(parts), prompt_tokens=int(usage.get("prompt_tokens") or 0),
                       completion_tokens=int(usage.get("completion_tokens") or tokens), cost_usd=0.0,
                       model=choice.model, finish_reason=finish)


def _record(recorder: Callable[[CallInfo], None] | None, info: CallInfo) -> None:
    if recorder is None:
        return
    try:
        recorder(info)
    except Exception:  # noqa: BLE001 - accounting must never break a call
        log.exception("could not record a model call")
