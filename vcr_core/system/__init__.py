"""vcr_core.system."""
