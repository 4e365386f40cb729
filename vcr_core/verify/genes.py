"""Former home of the gene index, kept as an import path only: everything lives in
:mod:`vcr_core.knowledge.genes` (one parse of HGNC and FamPlex, one index). ``jobs/generate.py`` and
``importers.py`` still import ``claim_grounder`` from here; new code imports from ``knowledge.genes``."""
from ..knowledge.genes import (NOT_GENES, SOURCE, VERSION, GeneHit, GeneIndex, build_index,  # noqa: F401
                               claim_grounder, get_gene_index, get_hash_index, norm_key, protein_like,
                               symbol_shaped)
