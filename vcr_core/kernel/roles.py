"""Roles, as annotation tools have them (Argilla: owner, admin, annotator): ``curator`` and ``admin``.

Curators judge; admins also download the database, make backups and restores, and see the settings.

* **Signed in** (OIDC, Streamlit's ``st.user``): admin when the user's name or e-mail is listed in
  ``ADMINS``, or when the identity provider's claim ``ADMIN_CLAIM`` (default ``roles``; a list or a
  comma/space-separated string) holds ``admin`` or ``owner``; everyone else is a curator.
* **No login** (one person on 127.0.0.1): everyone is admin, as before, unless ``ADMINS`` is set; then
  the typed curator name decides. That name is not authenticated: on a shared server use OIDC.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .identity import key_or_none

ADMIN, CURATOR = "admin", "curator"
ADMIN_ROLE_NAMES = {"admin", "owner", "administrator"}


def _claim_roles(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        items = value.replace(",", " ").split()
    elif isinstance(value, (list, tuple, set)):
        items = [str(v) for v in value]
    else:
        items = [str(value)]
    return {i.strip().casefold() for i in items if i.strip()}


def role_of(name: str | None, *, logged_in: bool, claims: Mapping[str, Any] | None = None,
            admins: set[str] | None = None, admin_claim: str | None = None) -> str:
    """``admin`` or ``curator`` for the identity the app sees (see the module). ``admins`` and
    ``admin_claim`` default to the settings ``ADMINS`` and ``ADMIN_CLAIM``."""
    if admins is None or admin_claim is None:
        from .settings import get_settings

        s = get_settings()
        admins = s.admin_names if admins is None else admins
        admin_claim = s.admin_claim if admin_claim is None else admin_claim
    if not logged_in:
        if not admins:
            return ADMIN
        key = key_or_none(name)
        return ADMIN if key is not None and key in admins else CURATOR
    claims = claims or {}
    known = {k for k in (key_or_none(claims.get("email")), key_or_none(claims.get("name")), key_or_none(name)) if k}
    if known & admins:
        return ADMIN
    if _claim_roles(claims.get(admin_claim)) & ADMIN_ROLE_NAMES:
        return ADMIN
    return CURATOR
