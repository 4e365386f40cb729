"""vcr_core.net."""
