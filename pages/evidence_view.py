"""Evidence on the Review page: every kind drawn by one function from its model's render data.

The models (``vcr_core/verify/evidence.py``) give a plain-text line, drawn with ``st.text`` (nothing a
model, an upload or a remote source wrote becomes a link or markup), and links they build from validated
identifiers (PubMed, HPO, GO, ChEMBL), drawn as Markdown with escaped labels.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from pages.common import plain_md
from vcr_core.verify.evidence import Evidence, parse_all

MAX_SHOWN = 6  # evidence items shown per verdict


def show_evidence_item(item: Evidence) -> None:
    """One evidence item: its plain-text line, then its links (if any)."""
    shown = item.render()
    st.text(shown.text)
    if shown.links:
        st.markdown(" · ".join(f"[{plain_md(link.label)}]({link.url})" for link in shown.links))


def show_evidence(items: Any, limit: int = MAX_SHOWN) -> None:
    """The first ``limit`` items of a stored evidence list (any kind; unknown kinds as their fields)."""
    for item in parse_all(items)[:limit]:
        show_evidence_item(item)
