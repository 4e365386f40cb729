"""Status & settings: what is configured, and what to do about each missing part."""
import streamlit as st

from pages.common import through_app
from vcr_core.settings import get_settings
from vcr_core.status import settings_for_display, status_report

through_app()
st.title("Status & settings")
st.write("What this installation uses right now. Settings come from the environment or a `.env` file "
         "(see the README); keys are never shown.")
for part in status_report():
    icon = "✅" if part.ok else "⚠️"
    with st.container(border=True):
        st.markdown(f"**{icon} {part.name}**")
        st.text(part.detail)
        if part.todo and not part.ok:
            st.caption(f"What to do: {part.todo}")
s = get_settings()
with st.expander("All settings (keys hidden)"):
    st.json(settings_for_display())
