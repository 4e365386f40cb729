"""HGNC and FamPlex files are read once, in one place (vcr_core/knowledge/gene_files.py), and every
reader of gene names builds on those rows: the resolver, the gene index, the dictionary NER backend and
the starter knowledge graph. Small files written here, the real parser."""
from __future__ import annotations

from vcr_core.knowledge.gene_files import HgncGene, famplex_rows, hgnc_genes

HEADER = "HGNC ID\tApproved symbol\tApproved name\tStatus\tAlias symbols\tNCBI\tUniProt\tMGI\tRGD\tPrevious symbols\tEns\tLocus\tEC"


def write_resources(root):
    rows = [HEADER,
            "HGNC:6307\tKDR\tkinase insert domain receptor\tApproved\tFLK1, VEGFR2,\t3791\tP35968\t\t\tVEGFR\t\tgene with protein product\t",
            "HGNC:99\tOLD1\twithdrawn gene\tSymbol Withdrawn\t\t\t\t\t\t\t\t\t",
            "HGNC:37133\tA1BG-AS1\tA1BG antisense RNA 1\tApproved\tFLJ23569\t503538\t\t\t\tNCRNA00181, A1BGAS\t\tRNA, long non-coding\t"]
    (root / "hgnc_entries.tsv").write_text("\n".join(rows) + "\n")
    (root / "famplex").mkdir()
    (root / "famplex" / "entities.csv").write_text("ERK\nMEK\n")


def test_hgnc_rows_are_parsed_once_with_every_column_callers_need(tmp_path):
    write_resources(tmp_path)
    genes = hgnc_genes(tmp_path)
    assert [g.symbol for g in genes] == ["KDR", "A1BG-AS1"]  # withdrawn entries are left out
    assert genes[0] == HgncGene("HGNC:6307", "KDR", "kinase insert domain receptor", ("FLK1", "VEGFR2"), ("VEGFR",),
                                "3791", ("P35968",), "gene with protein product")
    assert genes[1].previous == ("NCRNA00181", "A1BGAS") and genes[1].uniprot == ()
    assert hgnc_genes(tmp_path) is genes  # cached: a second reader does not parse again
    assert famplex_rows("entities.csv", tmp_path) == (("ERK",), ("MEK",))


def test_no_other_module_reads_the_hgnc_file():
    from pathlib import Path

    import vcr_core

    readers = sorted(str(p.relative_to(Path(vcr_core.__file__).parent)) for p in Path(vcr_core.__file__).parent.rglob("*.py")
                     if "hgnc_entries.tsv" in p.read_text(encoding="utf-8"))
    assert readers == ["knowledge/gene_files.py"]
