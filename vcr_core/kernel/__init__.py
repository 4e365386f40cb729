"""vcr_core.kernel."""
