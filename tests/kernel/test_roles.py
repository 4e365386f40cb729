"""Roles: curator and admin, from the identity provider's claims or the ADMINS setting."""
from __future__ import annotations

from vcr_core.kernel.roles import ADMIN, CURATOR, role_of
from vcr_core.kernel.settings import get_settings


def test_without_login_everything_stays_open():
    assert role_of("", logged_in=False, admins=set(), admin_claim="roles") == ADMIN
    assert role_of("anyone", logged_in=False, admins=set(), admin_claim="roles") == ADMIN


def test_without_login_an_admin_list_decides_by_the_curator_key():
    admins = {"ana"}
    assert role_of("Ana\u200b", logged_in=False, admins=admins, admin_claim="roles") == ADMIN
    assert role_of("ben", logged_in=False, admins=admins, admin_claim="roles") == CURATOR
    assert role_of("", logged_in=False, admins=admins, admin_claim="roles") == CURATOR


def test_signed_in_users_are_admins_by_list_or_by_the_providers_claim():
    assert role_of("ana@lab.org", logged_in=True, claims={"email": "Ana@Lab.org"}, admins={"ana@lab.org"},
                   admin_claim="roles") == ADMIN
    assert role_of("ben@lab.org", logged_in=True, claims={"email": "ben@lab.org", "roles": ["annotator"]},
                   admins={"ana@lab.org"}, admin_claim="roles") == CURATOR
    assert role_of("cy@lab.org", logged_in=True, claims={"email": "cy@lab.org", "groups": "vcr-users, Admin"},
                   admins=set(), admin_claim="groups") == ADMIN
    assert role_of("dee@lab.org", logged_in=True, claims={"email": "dee@lab.org"}, admins=set(),
                   admin_claim="roles") == CURATOR  # signed in and not named anywhere: a curator


def test_the_settings_supply_the_admin_list(monkeypatch):
    monkeypatch.setenv("ADMINS", " Ana , ben@lab.org,,")
    get_settings.cache_clear()
    assert get_settings().admin_names == {"ana", "ben@lab.org"}
    assert role_of("ANA", logged_in=False) == ADMIN and role_of("cy", logged_in=False) == CURATOR
