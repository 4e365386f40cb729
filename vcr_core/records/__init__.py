"""vcr_core.records."""
