"""VCR Curation core library."""
