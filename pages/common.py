"""Helpers every page shares: the engine, the background worker, the curator's identity."""
from __future__ import annotations

import sys

import streamlit as st


def through_app() -> None:
    """Make sure the page runs inside app.py's navigation (sidebar, curator name, worker).

    Streamlit runs a file of ``pages/`` on its own (its older pages-folder mode: no entry script) when the
    first request after a server start is for a sub-page, and stays in that mode until some run calls
    ``st.navigation``. Every page calls this first: in a session app.py never ran in, it switches that
    mode off and runs again through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(ROUTED):
        PagesManager.uses_pages_directory = False
        st.rerun()


ROUTED = "_vcr_routed"
"""Session-state key app.py sets on every run: this session runs through the app's navigation."""


@st.cache_resource(show_spinner=False)
def _engine_for(url: str):
    from vcr_core.store import get_engine

    return get_engine(url)


def engine():
    """The shared, migrated database engine for the configured DATABASE_URL (thread-safe)."""
    from vcr_core.kernel.settings import get_settings

    return _engine_for(get_settings().resolved_database_url)


def start_worker() -> None:
    """Start the supervised `vcr worker` process once per app (generation and verification run there,
    never in the web process); restarted by vcr_core when it dies. APP_WORKER=false: external workers."""
    from vcr_core.kernel.settings import get_settings

    settings = get_settings()
    if not settings.app_worker:
        return
    from vcr_core.jobs.supervisor import ensure_worker_process
    from vcr_core.store import get_engine

    # Migrated before the worker starts (vcr_core's engine, which engine() caches too: this also runs before
    # the server, from launch()).
    get_engine(settings.resolved_database_url)

    # The worker process warms the knowledge it assembles from as it starts (`vcr worker`); loading it here
    # too would only take CPU from it (this process never assembles).
    ensure_worker_process(settings.resolved_database_url)


def launch(script: str, streamlit_args: list[str]) -> int:
    """``python app.py``: migrate the database and start the supervised worker (it loads the knowledge it
    assembles from as it starts), then serve ``script`` with Streamlit's own command line. The worker thus
    warms while the server starts and the first page draws, not after the first page asked for it; the
    app's script run later finds it running (one supervisor per process and database)."""
    start_worker()
    # What the pages import on first use (about a second): imported now, while the worker warms up, so that
    # a first click (the Home demo's button) does not wait for imports.
    import vcr_core.curation  # noqa: F401
    import vcr_core.generation.demo  # noqa: F401
    import vcr_core.viz  # noqa: F401
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", script, *streamlit_args]
    return cli.main()


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file
        return False


def curator_sidebar() -> None:
    """The curator's name (or OIDC login when [auth] is configured), shown on every page."""
    with st.sidebar:
        st.markdown("### Curator")
        if _auth_configured():
            if not st.user.get("is_logged_in"):  # absent when the secrets come from elsewhere than secrets.toml
                st.button("Log in", on_click=st.login)
                st.session_state["curator"] = ""
            else:
                st.session_state["curator"] = st.user.get("email") or st.user.get("name") or ""
                st.text(f"signed in as {st.session_state['curator']}")
                st.button("Log out", on_click=st.logout)
        else:
            # The name lives under a key of its own, so it survives page changes (widget state does not), in
            # the URL (?curator=), so a refresh or a copied link keeps it, and in a browser cookie, so a new tab
            # opened on the app remembers it. The address wins over the cookie (a link names its curator).
            remembered = _usable(st.query_params.get("curator") or _cookie_name())
            if st.query_params.get("curator") and not remembered:
                st.query_params.pop("curator", None)  # an unusable name does not stay in the address
            if not st.session_state.get("curator") and remembered:
                st.session_state["curator"] = remembered
            st.text_input("Your name", value=st.session_state.get("curator", ""), key="curator_name",
                          placeholder="e.g. ana.lopez", help="Stored with every judgment you make (and remembered by "
                          "this browser and kept in the page address, so a refresh or a new tab keeps it).",
                          on_change=_name_changed)
            if st.session_state.get("curator") and st.query_params.get("curator") != st.session_state["curator"]:
                st.query_params["curator"] = st.session_state["curator"]
            _remember_in_browser(st.session_state.get("curator", ""))
        if st.session_state.get("_curator_problem"):
            st.error(st.session_state["_curator_problem"])
        if not st.session_state.get("curator"):
            st.caption("Log in before judging claims or traces." if _auth_configured()
                       else "Enter your name before judging claims or traces.")
        from vcr_core.system.status import in_use
        st.caption("\n\n".join(f"{k}: {v}" for k, v in in_use().items()))


COOKIE = "vcr_curator"


def _cookie_name() -> str:
    """The name this browser remembered (the cookie sent when the tab opened the app)."""
    from urllib.parse import unquote

    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser request (bare mode): nothing remembered
        return ""
    return unquote(value) if isinstance(value, str) else ""  # AppTest has no real request


def _remember_in_browser(name: str) -> None:
    """Set (or clear) the browser's cookie when it differs from ``name``: a one-line script, run once per
    change in this session. The name is JSON with '<' escaped, so it cannot close the script."""
    import json

    if st.session_state.get("_cookie_written", _cookie_name()) == name:
        return
    st.session_state["_cookie_written"] = name
    value = json.dumps(name).replace("<", "\\u003c")
    age = 400 * 86400 if name else 0
    st.html(f"<script>document.cookie = '{COOKIE}=' + encodeURIComponent({value}) + "
            f"'; path=/; max-age={age}; SameSite=Lax';</script>", unsafe_allow_javascript=True)


def _usable(name: str | None) -> str:
    """The name as typed, cleaned of invisible and control characters; '' when it is no usable curator name
    (too long, nothing visible): one normalisation (``kernel.identity``) for the name, the cookie and the address."""
    from vcr_core.kernel.identity import IdentityError, curator_display, curator_key

    try:
        curator_key(name)
        return curator_display(name)
    except IdentityError as exc:
        if name and name.strip():
            st.session_state["_curator_problem"] = str(exc)
        return ""


def _name_changed() -> None:
    st.session_state.pop("_curator_problem", None)
    name = _usable(st.session_state["curator_name"])
    st.session_state["curator"] = name
    if name:
        st.query_params["curator"] = name
    else:
        st.query_params.pop("curator", None)


def curator() -> str:
    """The curator's name (signed-in identity, or the name entered / remembered in the page address)."""
    return st.session_state.get("curator", "")


def role() -> str:
    """'admin' or 'curator' for the identity this session has (``kernel.roles``): the identity provider's
    claims when signed in, else the ADMINS setting and the typed name; without either, everyone is admin."""
    from vcr_core.kernel.roles import role_of

    if _auth_configured():
        logged_in = bool(st.user.get("is_logged_in"))
        claims = {k: v for k, v in st.user.to_dict().items()} if logged_in else {}
        return role_of(curator(), logged_in=logged_in, claims=claims) if logged_in else "curator"
    return role_of(curator(), logged_in=False)


def is_admin() -> bool:
    return role() == "admin"


ADMIN_ONLY = ("Only admins may see the settings, make backups or download the database. Admins are named by the "
              "ADMINS setting or by your identity provider's roles claim (ADMIN_CLAIM).")


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$:"


def plain_md(text: object) -> str:
    """Text a model or an upload wrote, escaped so Markdown shows it as typed: no links, no emphasis,
    no headings, no HTML (for places that render Markdown, such as headings and captions)."""
    out = []
    for ch in str(text if text is not None else ""):
        out.append("\\" + ch if ch in _MD_SPECIAL else ch)
    return "".join(out).replace("\n", " ")


def code_md(text: object) -> str:
    """Text a model wrote, as a Markdown code span: shown literally (escapes would show as backslashes
    there), with backticks and line breaks removed so it cannot end the span early."""
    inner = str(text if text is not None else "").replace("`", "'").replace("\n", " ").strip()
    return f"`{inner}`" if inner else ""


def batch_options() -> dict[int, str]:
    """Batch id -> label, newest first."""
    from vcr_core.files.ingest import batch_labels

    return batch_labels(engine())


VERDICT_ICON = {"supported": "🟢", "contradicted": "🔴", "unverifiable": "⚪", None: "·"}
