"""The worker warms the knowledge it assembles from as it starts (issue 24: the Home demo's first graph
must not wait for the graph and GO annotations to load after the click)."""
from __future__ import annotations


def test_worker_warms_knowledge_only_when_assembly_is_the_default(monkeypatch):
    import vcr_core.agents.assembler as assembler
    import vcr_core.generation.generate as generate
    from vcr_core.generation.generate import warm_knowledge
    from vcr_core.kernel.settings import get_settings

    loaded: list[str] = []
    monkeypatch.setattr(assembler, "load_knowledge", lambda **kw: loaded.append("knowledge"))
    # then the vocabularies storing a trace grounds its claims with (the first trace waits for neither)
    monkeypatch.setattr(generate, "warm_grounding", lambda: loaded.append("grounding"))
    thread = warm_knowledge()  # no key in tests: assembly from knowledge is the default
    assert thread is not None
    thread.join(10)
    assert loaded == ["knowledge", "grounding"]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-not-a-key")
    get_settings.cache_clear()
    assert warm_knowledge() is None and loaded == ["knowledge", "grounding"]  # a model is the default: nothing to load


def test_vcr_worker_starts_the_warm_up(monkeypatch, engine):
    import argparse

    import vcr_core.cli.jobs as jobs
    import vcr_core.generation.generate as generate
    import vcr_core.jobs.worker as worker

    calls: list[str] = []
    monkeypatch.setattr(generate, "warm_knowledge", lambda: calls.append("warm"))
    monkeypatch.setattr(worker, "run_worker", lambda *a, **kw: calls.append("run") or 0)
    args = argparse.Namespace(concurrency=None, exit_when_idle=True, stale_after=60, poll=1.0, executor="threads", kinds="")
    monkeypatch.setattr(jobs, "_engine", lambda: engine)
    assert jobs.cmd_worker(args) == 0
    assert calls == ["warm", "run"]
    calls.clear()
    assert jobs.cmd_worker(argparse.Namespace(**{**vars(args), "kinds": "verify"})) == 0
    assert calls == ["run"]  # a verify-only worker assembles nothing
