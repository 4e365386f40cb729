"""The real app in headless Chromium (Debian's package, driven by Playwright): upload the demo file,
generate on the embedded defaults, open the graph, accept one claim, override another, approve the
trace, export, and show that a hostile entity name is displayed as text and runs no script."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, ROOT, free_port, require_browser, streamlit_app

HOSTILE = "<img src=x onerror=alert(1)>"
pytestmark = [pytest.mark.slow, pytest.mark.browser]


LINK = "[link](https://example.org)"


@pytest.fixture
def server(tmp_path):
    yield from _serve(tmp_path, {})


@pytest.fixture
def team_server(tmp_path):
    """The app with the 'two curators who agree' consensus rule."""
    yield from _serve(tmp_path, {"CONSENSUS": "two_agree"})


def _serve(tmp_path, extra_env):
    require_browser()
    env = dict(os.environ, VCR_HOME=str(tmp_path / "home"), DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
               LOCAL_MODEL_PORT=str(free_port()), OFFLINE="true", APP_WORKER="true", **extra_env)
    # A trace imported before the app starts, whose claim names a hostile entity.
    rows = [{"index": 9, "input_perturbation": {"context": {"cell_type": "K562"}, "perturbation": {"name": HOSTILE}},
             "explain": f'set_context(cell_type="K562")\nbinds_to(id="n1", actor="{HOSTILE}", target="ABL1")\n'
                        'induces_phenotype(id="n2", source="ABL1", phenotype="apoptosis")',
             "dag": 'edge("n1", "n2", relation="causal")', "answer": HOSTILE,
             "input_report_text": f"A model-written link: {LINK}"}]
    (tmp_path / "hostile.json").write_text(json.dumps(rows))
    subprocess.run([sys.executable, "-m", "vcr_core.cli.main", "import-traces", str(tmp_path / "hostile.json"), "--name", "hostile"],
                   env=env, check=True, capture_output=True, cwd=ROOT)
    # The starter graph (about a minute) and the knowledge indexes assembly reads (the graph's name matcher, GO
    # names, gene vocabularies, ChEBI roles: seconds) are built once per machine and cached in VCR_HOME; reuse
    # this machine's caches when it has them, so the tests exercise the app rather than those one-time builds.
    # Each is keyed by its source files, so a copy made from other sources is rebuilt, never used.
    from vcr_core.knowledge.genes import VERSION as GENES_VERSION
    from vcr_core.tools.kg.starter import STARTER_VERSION
    cached = Path.home() / ".local/share/vcr-curation/cache"
    for pattern in (f"kg/starter-v{STARTER_VERSION}.*", f"gene-index*-v{GENES_VERSION}.pkl", "knowledge/*.pkl"):
        for f in cached.glob(pattern):
            dest = tmp_path / "home" / "cache" / f.relative_to(cached)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)  # with its mtime: the matcher's indexes are keyed by the graph files' mtimes
    with streamlit_app(tmp_path, env, ready_s=60) as url:
        yield url, tmp_path
    # The app stops the local model it started on exit; make sure nothing is left behind either way.
    subprocess.run(["pkill", "-f", f"llama_cpp.server.*--port {env['LOCAL_MODEL_PORT']}"], capture_output=True)


def _wait_for_curations(db: Path, n: int, timeout_s: float = 90) -> None:
    """Wait until the app has stored ``n`` judgments (the page reruns asynchronously)."""
    import sqlite3
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        with sqlite3.connect(db) as conn:
            if conn.execute("SELECT count(*) FROM curation").fetchone()[0] >= n:
                return
        time.sleep(0.5)
    raise AssertionError(f"the app did not store {n} judgment(s) within {timeout_s} s")


def _approve_anyway_if_asked(page) -> None:
    """Approving a trace that fails the policy or has contradicted claims asks first."""
    anyway = page.get_by_role("button", name="Approve anyway")
    try:
        anyway.wait_for(timeout=5_000)
    except Exception:  # noqa: BLE001 - no warning: the approval went through
        return
    anyway.click()


def _launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"])


def test_full_curation_flow_in_chromium(server):
    from playwright.sync_api import expect, sync_playwright

    url, tmp = server
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        name = page.get_by_role("textbox", name="Your name")
        name.fill("ana")
        name.press("Enter")
        # the app has the name once it is in the address; navigating before that could lose it
        expect(page).to_have_url(re.compile(r"curator=ana"), timeout=30_000)
        page.get_by_role("link", name="Upload").click()
        page.get_by_role("button", name="Load demo records", exact=True).click()
        expect(page.get_by_text("Stored 5 record(s)")).to_be_visible(timeout=30_000)

        # Generate one record on the default (no key: assembled from knowledge).
        page.get_by_role("link", name="Generate").click()
        expect(page.get_by_text("not reasoned by a model", exact=False).first).to_be_visible(timeout=30_000)
        limit = page.get_by_role("spinbutton", name="At most this many records (0 = all)")
        limit.fill("1")
        limit.press("Tab")
        page.get_by_role("button", name="Start run").click()
        expect(page.get_by_text("Run #2 queued")).to_be_visible(timeout=30_000)  # run #1 is the import
        expect(page.get_by_text(re.compile(r"Run #2 · done"))).to_be_visible(timeout=400_000)
        page.screenshot(path=str(tmp / "generate.png"))

        # The generated trace is in the review queue. (The claim judgments below use the imported trace,
        # whose claims are known.)
        page.get_by_role("link", name="Review").click()
        expect(page.get_by_role("heading", name="Review")).to_be_visible(timeout=30_000)
        pick = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Trace", exact=True))
        pick.click()
        page.get_by_role("option").filter(has_text="#2 ").first.click()
        expect(page.get_by_text("trace #2 · run #2").first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp / "generated.png"))

        # The imported trace: open the graph, accept one claim, override another, approve.
        pick.click()
        page.get_by_role("option").filter(has_text="#1 ").first.click()
        expect(page.get_by_text("trace #1 · run #1").first).to_be_visible(timeout=30_000)
        frame = page.frame_locator("iframe").first
        expect(frame.locator("canvas").first).to_be_visible(timeout=30_000)
        frame.locator("canvas").first.hover()
        page.wait_for_timeout(1000)
        page.get_by_role("tab", name="Claims").click()
        # Each claim card folds its statement and evidence: open the first one's.
        page.get_by_text("Claim, sources and evidence", exact=False).first.click()
        # The hostile entity shows as literal text in the claim's code block; no script ran.
        expect(page.locator("[data-testid='stCode']").filter(has_text=HOSTILE).first).to_be_visible(timeout=30_000)
        expect(page.get_by_role("heading", name=f"{HOSTILE} in K562")).to_be_visible()
        page.get_by_role("button", name="Accept", exact=True).first.click()
        _wait_for_curations(tmp / "app.db", 1)
        page.get_by_role("tab", name="Claims").click()
        page.get_by_role("button", name="Override…").nth(1).click()
        # no verdict is preselected: the curator chooses one
        page.get_by_placeholder("choose a verdict").first.click()
        page.get_by_role("option", name="contradicted").click()
        # and a reason: an override without one is refused ("an override needs a reason tag from the list")
        page.get_by_placeholder("choose a reason").first.click()
        page.get_by_role("option", name="wrong_relation").click()
        page.get_by_role("button", name="Save override").click()
        _wait_for_curations(tmp / "app.db", 2)
        page.get_by_role("button", name="Approve (a)").click()
        _approve_anyway_if_asked(page)
        _wait_for_curations(tmp / "app.db", 3)
        expect(page.get_by_text("curation: approve").first).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="History").first.click()  # a rerun may briefly show two tab bars
        page.screenshot(path=str(tmp / "review.png"))
        assert dialogs == []

        # Export the approved trace.
        page.get_by_role("link", name="Export").click()
        expect(page.get_by_text("1 trace(s) selected.")).to_be_visible(timeout=30_000)
        with page.expect_download() as dl:
            page.get_by_role("button", name="JSONL (full, with verdicts and curations)").click()
        doc = json.loads(Path(dl.value.path()).read_text().splitlines()[0])
        assert doc["curation_status"] == "approve"
        assert {"accept", "override", "approve"} <= {c["judgment"] for c in doc["curations"]}
        browser.close()
    assert dialogs == []


def test_opening_a_sub_page_first_still_runs_through_the_app(server):
    """A bookmark to /review right after the server starts gets the app's navigation and the curator box
    (Streamlit would otherwise run the file of pages/ on its own, without app.py)."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/review")
        expect(page.get_by_role("heading", name="Review")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("textbox", name="Your name")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("link", name="Export")).to_be_visible()
        assert page.get_by_role("link", name="Status").count() >= 1
        browser.close()


def _graph_frame(page, timeout_s: float = 30):
    """The frame of the action graph once vis-network has drawn it (its initial fit done)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for f in page.frames:
            try:
                if f.evaluate("typeof window.graphScale === 'number'"):
                    return f
            except Exception:  # noqa: BLE001 - a frame being replaced
                pass
        time.sleep(0.1)
    raise AssertionError("no action graph was drawn")


def test_demo_path_front_page_one_click_a_graph(server):
    """The keyless demo: the front page, one click on "Load demo records and explain them", and an action
    graph on screen (assembled from knowledge), with its answer saying how it was made; its labels are
    readable after the initial fit; once the run has ended the page is still (no polling), and a second
    click shows the same run rather than queueing it twice. Measures home_first_graph_s and graph_label_px
    (recorded in bench/README.md, not asserted as times)."""
    import sqlite3

    from playwright.sync_api import expect, sync_playwright

    from vcr_core.viz.graph import FONT_PX

    url, tmp = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        button = page.get_by_role("button", name="Load demo records and explain them")
        expect(button).to_be_enabled(timeout=60_000)
        page.wait_for_timeout(1000)  # a user reads the page before clicking
        clicked = time.monotonic()
        button.click()
        expect(page.get_by_role("heading", name="First explanation")).to_be_visible(timeout=240_000)
        heading_s = time.monotonic() - clicked  # the trace is on the page; the rest is drawing the graph
        frame = _graph_frame(page)
        first_graph_s = time.monotonic() - clicked
        expect(page.get_by_text("not reasoned by a language model", exact=False).first).to_be_visible()
        scale = frame.evaluate("network.getScale()")
        label_px = FONT_PX * scale
        n_nodes = frame.evaluate("network.body.data.nodes.length")
        assert label_px >= 12, f"node labels are {label_px:.1f} px high on screen"
        assert frame.evaluate("document.getElementById('ctx').textContent")  # the context is the header
        page.screenshot(path=str(tmp / "demo.png"))

        # once the run is done the page is still: no script rerun reaches the browser for seconds
        expect(page.get_by_text(re.compile(r"Run #\d+ · done"))).to_be_visible(timeout=240_000)
        page.wait_for_timeout(2500)  # the last rerun settles
        received: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(1)))
        page.reload()
        expect(page.get_by_role("button", name="Load demo records and explain them")).to_be_visible(timeout=60_000)
        # the reloaded session clicks again: the same run is shown, nothing is queued twice
        with sqlite3.connect(tmp / "app.db") as conn:
            before = conn.execute("SELECT count(*) FROM trace").fetchone()[0]
        page.get_by_role("button", name="Load demo records and explain them").click()
        expect(page.get_by_text("explained already", exact=False).first).to_be_visible(timeout=60_000)
        _graph_frame(page)
        page.wait_for_timeout(2500)
        settled = len(received)
        page.wait_for_timeout(4000)
        still = len(received) - settled
        with sqlite3.connect(tmp / "app.db") as conn:
            after = conn.execute("SELECT count(*) FROM trace").fetchone()[0]
        assert after == before, "a second click queued the demo again"
        assert still == 0, f"the page kept rerunning after the demo ended ({still} messages in 4 s)"
        browser.close()
    print(f"\nhome_first_graph_s={first_graph_s:.1f} (heading after {heading_s:.1f}) graph_label_px={label_px:.1f} "
          f"(scale {scale:.2f}, {n_nodes} nodes)")
    (tmp.parent / "home_demo_metrics.json").write_text(json.dumps({"home_first_graph_s": round(first_graph_s, 1),
                                                                    "home_first_heading_s": round(heading_s, 1),
                                                                    "graph_label_px": round(label_px, 1), "nodes": n_nodes}))


def test_two_curators_stale_judgment_conflicts_identity_and_plain_text(team_server):
    """Two curators in two browser contexts on the same trace: the second one's judgment on a state the
    first changed is refused with the message; disagreement lands in the conflicts queue; the name
    survives a reload and opens a new tab; a model-written Markdown link is shown as text."""
    from playwright.sync_api import expect, sync_playwright

    url, tmp = team_server
    db = tmp / "app.db"
    with sync_playwright() as pw:
        browser = _launch(pw)
        pages = {}
        for name in ("ana", "bo"):
            page = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
            page.goto(f"{url}/review?curator={name}")
            expect(page.get_by_text("trace #1 · run #1").first).to_be_visible(timeout=60_000)
            expect(page.get_by_role("textbox", name="Your name")).to_have_value(name, timeout=30_000)
            page.get_by_role("tab", name="Claims").click()
            pages[name] = page
        ana, bo = pages["ana"], pages["bo"]

        # identity kept after a reload (it lives in the page address) ...
        ana.reload()
        expect(ana.get_by_role("textbox", name="Your name")).to_have_value("ana", timeout=60_000)
        expect(ana.get_by_text("trace #1 · run #1").first).to_be_visible(timeout=60_000)
        ana.get_by_role("tab", name="Claims").click()
        # ... and in a new tab opened without it in the address (this browser remembers it); bo's browser
        # (another context) remembers bo
        for page, name in ((ana, "ana"), (bo, "bo")):
            assert {"name": "vcr_curator", "value": name} in [{k: c[k] for k in ("name", "value")} for c in page.context.cookies()]
            tab = page.context.new_page()
            tab.goto(f"{url}/review")
            expect(tab.get_by_role("textbox", name="Your name")).to_have_value(name, timeout=60_000)
            tab.close()

        # ana accepts the first claim; bo, still looking at the old state, is refused
        ana.get_by_role("button", name="Accept", exact=True).first.click()
        _wait_for_curations(db, 1)
        bo.get_by_role("button", name="Accept", exact=True).first.click()
        expect(bo.get_by_text("ana judged this meanwhile").first).to_be_visible(timeout=30_000)
        expect(bo.get_by_text("accepted by ana").first).to_be_visible(timeout=30_000)  # the new state shown

        # ana approves, bo rejects (from fresh pages): a conflict under 'two curators who agree'
        for page, button, n in ((ana, "Approve (a)", 2), (bo, "Reject (x)", 3)):
            page.reload()
            expect(page.get_by_text("trace #1 · run #1").first).to_be_visible(timeout=60_000)
            page.get_by_role("button", name=button).click()
            if button.startswith("Approve"):
                _approve_anyway_if_asked(page)
            _wait_for_curations(db, n)
        bo.reload()
        expect(bo.get_by_text("trace #1 · run #1").first).to_be_visible(timeout=60_000)
        bo.locator("[data-testid='stButtonGroup']").get_by_text(re.compile(r"^Conflicts")).click()
        expect(bo.get_by_text("Curators disagree on this trace").first).to_be_visible(timeout=60_000)
        expect(bo.get_by_text("curation: conflict").first).to_be_visible()
        bo.screenshot(path=str(tmp / "conflict.png"))

        # a model-written Markdown link is plain text, not a live link
        ana.get_by_role("tab", name="Report & answer").click()
        expect(ana.get_by_text(LINK, exact=False).first).to_be_visible(timeout=30_000)
        assert ana.locator("a[href='https://example.org']").count() == 0
        assert ana.locator("a[href='https://example.org/']").count() == 0
        browser.close()
