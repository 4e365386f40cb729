"""One registry: tools, verifiers, job kinds and commands are entry points, and a plug-in adds its own.

The plug-in here is a real distribution on the path (a module plus a ``.dist-info`` with
``entry_points.txt``) that the test writes; nothing in vcr_core is touched to add it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vcr_core.kernel import registry

PLUGIN = '''
from vcr_core.verify.base import SUPPORTED, ClaimVerdict


class BindsToShout:
    """A plug-in verifier: supports every binds_to, citing itself."""

    name, version = "shout", "1"

    def applies(self, node):
        return node.action == "binds_to"

    def verify(self, ctx):
        return ClaimVerdict(SUPPORTED, 0.9, [{"kind": "plugin", "source": "vcr-shout"}], "the shout plug-in says yes")
'''


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A distribution 'vcr-shout' declaring the verifier 'shout' in the group vcr.verifiers."""
    root = tmp_path / "plugins"
    root.mkdir()
    (root / "vcr_shout.py").write_text(PLUGIN)
    info = root / "vcr_shout-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vcr-shout\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vcr.verifiers]\nshout = vcr_shout:BindsToShout\n")
    monkeypatch.syspath_prepend(str(root))
    registry.refresh()
    yield root
    monkeypatch.undo()
    registry.refresh()
    sys.modules.pop("vcr_shout", None)


def test_builtins_are_registered():
    assert {"kg-ner", "kg-ner-subgraph", "pubmed-fast-ner", "harmonizome", "wikipedia"} <= set(registry.names(registry.TOOLS))
    assert {"entity", "kg", "literature", "expression", "phenotype", "go", "record", "indra", "chembl"} <= set(
        registry.names(registry.VERIFIERS))
    assert set(registry.names(registry.JOBS)) >= {"verify", "preprocess"}
    assert set(registry.names(registry.COMMANDS)) >= {"core", "preprocess", "tools", "pubmed", "jobs", "verify", "export"}
    with pytest.raises(KeyError, match="unknown verifier 'nope'; known: "):
        registry.load(registry.VERIFIERS, "nope")


def test_every_registered_verifier_has_tests():
    """As Datasette checks its plugin hooks: each built-in verifier's class is exercised by a test module."""
    tests = Path(__file__).resolve().parents[1]
    text = "\n".join(p.read_text(encoding="utf-8") for p in tests.rglob("test_*.py") if p.name != "test_registry.py")
    missing = []
    for name in registry.names(registry.VERIFIERS):
        cls = registry.load(registry.VERIFIERS, name)
        if cls.__module__.startswith("vcr_core.") and cls.__name__ not in text:
            missing.append(f"{name} ({cls.__name__})")
    assert not missing, f"verifiers without a test that names them: {', '.join(missing)}"


def test_a_plugin_verifier_runs_without_touching_vcr_core(plugin_path, engine, trace_id):
    from sqlmodel import select

    from vcr_core.store import Verdict, session_scope
    from vcr_core.verify.runner import all_verifier_names, default_verifier_names, verify_traces

    assert "shout" in all_verifier_names() and "shout" in default_verifier_names()
    summary = verify_traces(engine, [trace_id], ["structural", "shout"])
    assert summary["traces"] == 1
    with session_scope(engine) as session:
        rows = session.exec(select(Verdict).where(Verdict.verifier == "shout")).all()
        assert rows and all(r.verdict == "supported" and r.evidence[0]["source"] == "vcr-shout" for r in rows)


def test_vcr_verify_runs_a_plugin_verifier(plugin_path, engine, db_url, trace_id):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), *sys.path]), "DATABASE_URL": db_url}
    out = subprocess.run([sys.executable, "-m", "vcr_core.cli.main", "verify", "--trace", str(trace_id),
                          "--verifiers", "structural,shout", "--json"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert "shout" in json.dumps(summary)
    helptext = subprocess.run([sys.executable, "-m", "vcr_core.cli.main", "verify", "--help"], capture_output=True, text=True,
                              env=env, timeout=600).stdout
    assert "shout" in helptext


def test_the_review_page_shows_a_plugin_verifier(plugin_path, engine, trace_id, monkeypatch):
    """The app, unchanged, offers the plug-in in Review's filter and shows its verdict on the claim."""
    from streamlit.testing.v1 import AppTest

    from vcr_core.verify.runner import verify_traces

    verify_traces(engine, [trace_id], ["structural", "shout"])
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    assert "shout" in next(sb for sb in at.selectbox if sb.label == "Has verdicts from").options
    # Verdict lines are plain text (st.text) inside each claim's card; tables and Markdown count too.
    shown = ([str(df.value.to_dict()) for df in at.dataframe] + [m.value for m in at.markdown]
             + [t.value for t in at.text])
    assert any("the shout plug-in says yes" in text for text in shown)
