"""Status & settings: what is configured, and what to do about each missing part."""
import streamlit as st

from pages.common import ADMIN_ONLY, is_admin, through_app
from vcr_core.kernel.settings import get_settings
from vcr_core.system.status import settings_for_display, status_report

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
admin = is_admin()
if admin:
    with st.expander("All settings (keys hidden)"):
        st.json(settings_for_display())

st.subheader("Backup")
st.write("A consistent copy of the database, safe while curators and workers write (the same as "
         "`vcr db backup PATH`). Restore one with `vcr db restore PATH`.")
if not admin:
    st.session_state.pop("backup_file", None)  # a role taken away mid-session takes the download with it
    st.info(ADMIN_ONLY)
elif st.button("Make a backup now", key="make_backup"):
    from vcr_core.store import get_engine
    from vcr_core.store.backup import BackupError, backup_bytes

    try:
        st.session_state["backup_file"] = backup_bytes(get_engine(), s.vcr_home / "backups")
    except BackupError as exc:
        st.warning(str(exc))
if admin and st.session_state.get("backup_file"):
    name, data = st.session_state["backup_file"]
    st.download_button(f"Download {name} ({len(data) / 1024 / 1024:.1f} MB)", data, file_name=name,
                       mime="application/vnd.sqlite3", key="download_backup")
from vcr_core.llm import local_status  # noqa: E402
from vcr_core.llm.local import install_state, start_install  # noqa: E402

if not local_status().installed:
    with st.container(border=True):
        st.markdown("**Optional: the embedded tiny local model**")
        st.caption("Explanations work without it (assembled from knowledge, or a provider with a key). It exercises "
                   "the model path offline; installing it compiles llama-cpp-python for several minutes.")
        state = install_state()
        if state["running"]:
            st.info("Installing… (this page can be left; reload it to see the log)")
        elif st.button("Install the local model runtime", key="install_local"):
            start_install()
            st.rerun()
        if state["returncode"] is not None:
            (st.success if state["returncode"] == 0 else st.error)(
                "installed: restart the app to use it" if state["returncode"] == 0 else f"installation failed (exit {state['returncode']})")
        if state["log_tail"]:
            st.text(state["log_tail"])
