"""The Status page's backup button: a thin call into vcr_core.store.backup, offered for download."""
from __future__ import annotations


def test_status_page_makes_a_backup_to_download(app, engine, seeded):
    app.switch_page("pages/status.py").run()
    assert not app.exception, app.exception
    app.button(key="make_backup").click().run()
    assert not app.exception, app.exception
    buttons = app.get("download_button")
    assert len(buttons) == 1 and "vcr-backup-" in buttons[0].proto.label



def _status_as(name: str, monkeypatch, admins: str = ""):
    """The Status page, opened by a browser whose address names ``name`` (a fresh session)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from vcr_core.kernel.settings import get_settings

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("APP_WORKER", "false")
    monkeypatch.setenv("ADMINS", admins)
    get_settings.cache_clear()
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.query_params["curator"] = name
    at.run()
    at.switch_page("pages/status.py").run()
    assert not at.exception, at.exception
    return at


def _sees_admin_parts(at) -> bool:
    settings = [e for e in at.expander if "settings" in e.label.lower()]
    backup = [b for b in at.button if b.key == "make_backup"]
    assert bool(settings) == bool(backup)
    return bool(backup)


def test_backups_and_settings_are_for_admins_only_when_admins_are_named(engine, monkeypatch):
    """ADMINS=ana: ana (under any spelling) sees the settings and makes a backup; ben sees neither."""
    ben = _status_as("ben", monkeypatch, admins="ana")
    assert not _sees_admin_parts(ben) and any("Only admins" in i.value for i in ben.info)
    ana = _status_as("ANA\u200b", monkeypatch, admins="ana")
    assert _sees_admin_parts(ana)
    ana.button(key="make_backup").click().run()
    assert len(ana.get("download_button")) == 1
    assert _sees_admin_parts(_status_as("ben", monkeypatch, admins=""))  # no admins named: open, as before


def test_a_name_that_is_no_usable_identity_is_refused_in_the_sidebar(engine, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("APP_WORKER", "false")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.query_params["curator"] = "x" * 10_000
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.sidebar.error] == ["a curator name is at most 80 characters; use a shorter name"]
    assert "curator" not in at.session_state or not at.session_state["curator"]
    assert "curator" not in at.query_params
