"""run_bounded(first_alone=True): the first item runs by itself, the rest (still bounded) once it is done."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from vcr_core.jobs.executor import ThreadAdapter, run_bounded


@pytest.mark.parametrize("first_alone", [True, False])
def test_first_item_alone(first_alone):
    lock = threading.Lock()
    running: set[int] = set()
    seen_with_first: list[set[int]] = []
    done: list[int] = []

    def work(item):
        with lock:
            running.add(item)
            if 0 in running:
                seen_with_first.append(set(running))
        time.sleep(0.2)
        with lock:
            if 0 in running:
                seen_with_first.append(set(running))
            running.discard(item)
        return item

    with ThreadPoolExecutor(max_workers=4) as pool:
        run_bounded(range(6), ThreadAdapter(pool, work), limit=4, should_stop=lambda: False,
                    on_result=lambda item, value, exc: done.append(item), poll_s=0.01, first_alone=first_alone)
    assert sorted(done) == list(range(6))
    if first_alone:
        assert done[0] == 0 and all(s == {0} for s in seen_with_first)
    else:
        assert any(len(s) > 1 for s in seen_with_first)  # without it the first shares the pool from the start
