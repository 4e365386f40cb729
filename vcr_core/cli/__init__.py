"""vcr_core.cli."""
