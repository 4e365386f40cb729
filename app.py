"""VCR Curation — the Streamlit entry point: navigation, curator identity and the shared sidebar.

Pages live in ``pages/`` and read and write only through ``vcr_core``; long work runs in the
background worker started here, never inside a script run.

``python app.py [streamlit options]`` (what ``bash .ci/bootstrap app`` runs) starts the worker before the
server, so it has loaded the knowledge by the time someone clicks; ``streamlit run app.py`` works too, and
then starts the worker with the first page.
"""
from __future__ import annotations

import sys

import streamlit as st
from streamlit import runtime

from pages.common import ROUTED, curator_sidebar, engine, launch, start_worker

if __name__ == "__main__" and not runtime.exists():  # `python app.py`, not a script run inside the server
    sys.exit(launch(__file__, sys.argv[1:]))

st.set_page_config(page_title="VCR Curation", page_icon=":material/hub:", layout="wide")

PAGES = {
    "Work": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
        st.Page("pages/generate.py", title="Generate", icon=":material/play_circle:"),
        st.Page("pages/review.py", title="Review", icon=":material/rule:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/knowledge.py", title="Team knowledge", icon=":material/school:"),
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
    ],
    "Project": [
        st.Page("pages/overview.py", title="Overview", icon=":material/bar_chart:"),
        st.Page("pages/status.py", title="Status & settings", icon=":material/settings:"),
    ],
}

st.session_state[ROUTED] = True
engine()
start_worker()
curator_sidebar()
st.navigation(PAGES).run()
