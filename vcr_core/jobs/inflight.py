"""What each record in flight is doing right now: stage, model call, attempt k of n, seconds, tokens.

The generate job feeds events from the pipeline and the model client into an :class:`InFlight`; the
worker's heartbeat writes its :meth:`~InFlight.snapshot` into the job's payload every couple of
seconds, so the Generate page (and ``vcr runs``) can show it from any process.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

PURPOSE_STAGE = {"report": "writing the report", "explain": "writing the explanation",
                 "repair": "repairing the explanation"}


class InFlight:
    """A thread-safe map record id -> live state. ``clock`` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[int, dict[str, Any]] = {}

    def begin(self, record_id: int, label: str = "") -> None:
        with self._lock:
            self._items[record_id] = {"record_id": record_id, "label": label, "stage": "starting",
                                      "started": self._clock(), "call_started": None, "purpose": None,
                                      "attempt": None, "max_attempts": None, "tokens": 0, "note": None}

    def event(self, record_id: int, ev: dict[str, Any]) -> None:
        """Apply one event from the pipeline (``stage``) or the model client (``call``, ``tokens``, ``retry_wait``)."""
        with self._lock:
            item = self._items.get(record_id)
            if item is None:
                return
            kind = ev.get("event")
            if kind == "stage":
                item.update(stage=ev.get("stage"), note=None)
            elif kind == "call":
                item.update(purpose=ev.get("purpose"), attempt=ev.get("attempt"), max_attempts=ev.get("max_attempts"),
                            call_started=self._clock(), tokens=0, note=None,
                            stage=PURPOSE_STAGE.get(ev.get("purpose") or "", item["stage"]))
            elif kind == "tokens":
                item["tokens"] = int(ev.get("tokens") or 0)
            elif kind == "retry_wait":
                item["note"] = f"retrying in {ev.get('wait_s')} s after: {ev.get('reason')}"

    def callback(self, record_id: int) -> Callable[[dict[str, Any]], None]:
        return lambda ev: self.event(record_id, ev)

    def end(self, record_id: int) -> None:
        with self._lock:
            self._items.pop(record_id, None)

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-ready state of every record in flight, with seconds elapsed measured now."""
        now = self._clock()
        with self._lock:
            items = [dict(i) for i in self._items.values()]
        out = []
        for i in items:
            calling = i["call_started"] is not None
            out.append({"record_id": i["record_id"], "label": i["label"], "stage": i["stage"],
                        "calling_model": calling, "purpose": i["purpose"], "attempt": i["attempt"],
                        "max_attempts": i["max_attempts"], "tokens": i["tokens"], "note": i["note"],
                        "elapsed_s": round(now - i["started"], 1),
                        "call_elapsed_s": round(now - i["call_started"], 1) if calling else None})
        return sorted(out, key=lambda x: x["record_id"])


def describe(item: dict[str, Any]) -> str:
    """One line for a record in flight, e.g. 'writing the explanation · calling the model (attempt 1 of 3) ·
    42 s · 118 tokens so far'."""
    bits = [item.get("stage") or "working"]
    if item.get("calling_model") and item.get("attempt"):
        bits.append(f"calling the model (attempt {item['attempt']} of {item['max_attempts']}, "
                    f"{item.get('call_elapsed_s') or 0:.0f} s in this call)")
    bits.append(f"{item.get('elapsed_s') or 0:.0f} s on this record")
    if item.get("calling_model"):
        bits.append(f"{item.get('tokens') or 0} tokens so far")
    if item.get("note"):
        bits.append(item["note"])
    return " · ".join(bits)
