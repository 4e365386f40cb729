"""The Status page's backup button: a thin call into vcr_core.store.backup, offered for download."""
from __future__ import annotations


def test_status_page_makes_a_backup_to_download(app, engine, seeded):
    app.switch_page("pages/status.py").run()
    assert not app.exception, app.exception
    app.button(key="make_backup").click().run()
    assert not app.exception, app.exception
    buttons = app.get("download_button")
    assert len(buttons) == 1 and "vcr-backup-" in buttons[0].proto.label
