"""Roles in a real browser: two users of one app, an admin and a curator.

OIDC cannot be exercised offline (it needs an identity provider), so the role is driven the way the app
decides it without login: the ADMINS setting names ana, and each browser tells the app who it is through
the page address (``?curator=``), the identity the app sees. With OIDC the same check reads the signed-in
user's e-mail or roles claim (``kernel/roles.py``, unit-tested in tests/kernel/test_roles.py).
"""
from __future__ import annotations

import os

import pytest

from tests.browser.conftest import CHROMIUM, require_browser, streamlit_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def admin_server(tmp_path):
    require_browser()
    env = dict(os.environ, VCR_HOME=str(tmp_path / "home"), DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
               OFFLINE="true", APP_WORKER="false", ADMINS="ana")
    with streamlit_app(tmp_path, env, ready_s=90) as url:
        yield url


def test_an_admin_and_a_curator_see_different_status_pages(admin_server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        try:
            ana = browser.new_context().new_page()   # two users: separate contexts, separate cookies
            ben = browser.new_context().new_page()
            ana.goto(f"{admin_server}/status?curator=Ana")
            ben.goto(f"{admin_server}/status?curator=ben")
            expect(ana.get_by_role("button", name="Make a backup now")).to_be_visible(timeout=120_000)
            expect(ana.get_by_text("All settings (keys hidden)")).to_be_visible()
            expect(ben.get_by_text("Only admins may see the settings", exact=False)).to_be_visible(timeout=120_000)
            expect(ben.get_by_role("button", name="Make a backup now")).to_have_count(0)
            expect(ben.get_by_text("All settings (keys hidden)")).to_have_count(0)
            ana.get_by_role("button", name="Make a backup now").click()
            expect(ana.get_by_role("button", name="Download vcr-backup-", exact=False)).to_be_visible(timeout=120_000)
            expect(ben.get_by_role("button", name="Download vcr-backup-", exact=False)).to_have_count(0)
        finally:
            browser.close()
