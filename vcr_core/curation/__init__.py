"""vcr_core.curation."""
