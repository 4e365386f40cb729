"""Home's demo (issue 24): once per click, a still page once the run has ended, the new graph drawing."""
from __future__ import annotations

import pytest

import streamlit as st
from sqlmodel import Session, func, select

from vcr_core.store import Run, Trace


@pytest.fixture
def app(engine, monkeypatch):
    """tests/conftest.py's app with a longer limit per script run: on a loaded 2-core machine one page run
    can take more than a minute (time is not asserted)."""
    from tests.conftest import make_app

    return make_app(monkeypatch, timeout=300)

DEMO_BUTTON = "Load demo records and explain them"


def _runs_and_traces(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return s.exec(select(func.count(Run.id))).one(), s.exec(select(func.count(Trace.id))).one()


def _work(engine) -> None:
    from vcr_core.jobs import Worker

    Worker(engine, exit_when_idle=True, kinds=("generate",)).run()


def test_a_second_click_shows_the_demo_again_and_duplicates_nothing(app, engine, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    next(b for b in app.button if b.label == DEMO_BUTTON).click().run()
    assert not app.exception, app.exception
    _work(engine)
    assert _runs_and_traces(engine) == (1, 5)
    # A second click (another session, or the same browser after a reload): the run is shown again.
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    again.run()
    next(b for b in again.button if b.label == DEMO_BUTTON).click().run()
    assert not again.exception, again.exception
    assert _runs_and_traces(engine) == (1, 5)  # nothing queued twice
    assert any("explained already (run #1)" in i.value for i in again.info)
    assert any(h.value == "First explanation" for h in again.subheader)
    # ... and explaining again is a choice of its own
    next(b for b in again.button if b.label.startswith("Explain the demo records again")).click().run()
    assert _runs_and_traces(engine)[0] == 2


def test_home_polls_only_while_the_demo_runs(app, engine, monkeypatch):
    """The progress fragment reruns twice a second while the run is queued or running and no graph is drawn
    yet, and not at all once it has ended (the page is still: no rerun, no greying out)."""
    calls: list = []
    real = st.fragment

    def recording(func=None, *, run_every=None, **kw):
        if getattr(func, "__name__", "") == "demo_progress":
            calls.append(run_every)
        return real(func, run_every=run_every, **kw)

    monkeypatch.setattr(st, "fragment", recording)
    next(b for b in app.button if b.label == DEMO_BUTTON).click().run()
    assert calls[-1] == 0.5  # queued, nothing drawn yet: polling twice a second
    _work(engine)
    app.run()
    assert not app.exception, app.exception
    assert calls[-1] is None  # done: still
    assert any(h.value == "First explanation" for h in app.subheader)
    frames = [e for e in app.get("iframe")]
    # the context is a header: the shown trace's cells (records finish in any order, so any demo record's)
    srcdoc = frames[0].proto.srcdoc if frames else ""
    assert "window.network" in srcdoc and any(cells in srcdoc for cells in ("HUVEC", "K562", "A375", "A549", "MCF7"))


def _record_file(index: int, drug: str) -> bytes:
    import json

    return json.dumps([{"index": index, "context": {"cell_type": "A549"}, "perturbation": {"name": drug}}]).encode()


def test_adding_a_second_file_leaves_the_first_one_stored(app, engine):
    """Upload: the uploader hands every file again on each rerun; the first file keeps saying it was
    stored (not "already stored") when a second one is added, and nothing is stored twice."""
    from vcr_core.store import Batch

    app.switch_page("pages/upload.py").run()
    first = ("a.json", _record_file(1, "imatinib"), "application/json")
    app.file_uploader[0].set_value([first]).run()
    assert not app.exception, app.exception
    assert [s.value for s in app.success] == ["Stored 1 record(s) as batch #1. Next: Generate."]
    app.file_uploader[0].set_value([first, ("b.json", _record_file(2, "dasatinib"), "application/json")]).run()
    assert not app.exception, app.exception
    assert [s.value for s in app.success] == ["Stored 1 record(s) as batch #1. Next: Generate.",
                                              "Stored 1 record(s) as batch #2. Next: Generate."]
    assert not any("already stored" in i.value for i in app.info)
    with Session(engine) as s:
        assert s.exec(select(func.count(Batch.id))).one() == 2
