"""Explanations in the text form, one per real-world variation listed in formalism.md.

Used by the tests and handy as examples: CANONICAL is a clean explanation; VARIANTS maps a
variation name to (text, expectations).
"""

CANONICAL = '''<think>
Nintedanib is a triple angiokinase inhibitor.
</think>
<answer>
Nintedanib blocks VEGFR2 (KDR) signalling in HUVEC, lowering ERK-driven immediate-early genes.
</answer>
<explain>
set_context(cell_type="HUVEC", disease="angiogenic tumour model", prior_perturbation="VEGF addition")
binds_to(id="n1", actor="nintedanib", target="KDR", affinity="21", unit="nM", via="ATP-pocket occupancy")
modulates_molecule_activity(id="n2", target="KDR", direction="down", via="n1")
regulates_expression(id="n3", regulator="ERK signalling", gene_list=["EGR1", "FOS"], direction="down")
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n2", "n3", relation="causal")
</dag>
'''

# name -> (text, expectations). Expectations: claims (count), edges (count), codes that must appear
# among the findings, and codes that must not.
VARIANTS = {
    "canonical": (CANONICAL, {"claims": 3, "edges": 2, "codes": set(), "clean": True}),
    "deep_indent": ('''<explain>
        set_context(cell_type="A549")
            binds_to(id="n1", actor="dexamethasone", target="NR3C1")
        regulates_expression(id="n2", regulator="NR3C1", gene_list=["FKBP5", "TSC22D3"], direction="up")
</explain>
<dag>
      edge("n1", "n2", relation="causal")
</dag>''', {"claims": 2, "edges": 1, "codes": set(), "clean": True}),
    "context_with_id_c0": ('''<explain>
set_context(id="c0", cell_type="K562", disease="chronic myeloid leukaemia")
binds_to(id="n1", actor="imatinib", target="ABL1")
induces_phenotype(id="n2", source="imatinib", phenotype="apoptosis")
</explain>
<dag>
edge("c0", "n1", relation="causal")
edge("n1", "n2", relation="causal")
</dag>''', {"claims": 2, "edges": 2, "codes": set(), "clean": True, "context_id": "c0"}),
    "odd_ids": ('''<explain>
set_context(cell_type="A375")
binds_to(id="step_a", actor="vemurafenib", target="BRAF V600E")
modulates_pathway_activity(id="step-b", pathway="MAPK", direction="down")
induces_phenotype(id="out", source="MAPK inhibition", phenotype="G1 arrest")
</explain>
<dag>
edge("step_a", "step-b", relation="causal")
edge("step-b", "out", relation="causal")
</dag>''', {"claims": 3, "edges": 2, "codes": set(), "clean": True}),
    "single_quotes": ("""<explain>
set_context(cell_type='MCF7')
binds_to(id='n1', actor='tamoxifen', target='ESR1')
regulates_expression(id='n2', regulator='ESR1', gene_list=['PGR', 'GREB1'], direction='down')
</explain>
<dag>
edge('n1', 'n2', relation='causal')
</dag>""", {"claims": 2, "edges": 1, "codes": set(), "clean": True}),
    "lists_and_numbers": ('''<explain>
set_context(cell_type="HeLa")
binds_to(id="n1", actor="bortezomib", target="PSMB5", affinity=0.6, unit="nM")
modulates_complex(id="n2", members=["PSMB5", "PSMB1"], complex="26S proteasome", direction="down", stoichiometry=2)
regulates_expression(id="n3", regulator="NF-kB", gene_list=["NFKBIA", "TNFAIP3", "IL8"], direction="down", confidence=0.7)
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n2", "n3", relation="causal")
</dag>''', {"claims": 3, "edges": 2, "codes": set(), "clean": True, "affinity": 0.6}),
    "non_ascii": ('''<explain>
set_context(cell_type="Jurkat", extras="IL-2 → activation")
binds_to(id="n1", actor="cyclosporin A", target="cyclophilin", affinity="5", unit="µM")
modulates_molecule_activity(id="n2", target="calcineurin (PPP3CA) β", direction="down", via="n1")
regulates_expression(id="n3", regulator="NFAT", gene_list=["IL2"], direction="down")
</explain>
<dag>
edge("n1", "n2", relation="causal")
edge("n2", "n3", relation="causal")
</dag>''', {"claims": 3, "edges": 2, "codes": set(), "clean": True, "unit": "µM"}),
    "markdown_fences_and_prose": ('''<answer>Trametinib lowers ERK output.</answer>
<explain>
Here is the explanation:
```python
set_context(cell_type="HCT116")
binds_to(id="n1", actor="trametinib", target="MAP2K1")
regulates_expression(id="n2", regulator="ERK", gene_list=["DUSP6", "SPRY4"], direction="down")
```
</explain>
<dag>
```
edge("n1", "n2", relation="causal")
```
</dag>''', {"claims": 2, "edges": 1, "codes": {"stray_text"}, "clean": False}),
    "tags_other_case": ('''<THINK>reasoning</THINK>
<Answer>answer text</Answer>
<EXPLAIN>
set_context(cell_type="U2OS")
binds_to(id="n1", actor="nutlin-3", target="MDM2")
regulates_expression(id="n2", regulator="TP53", gene_list=["CDKN1A"], direction="up")
</EXPLAIN>
<Dag>
edge("n1", "n2", relation="causal")
</Dag>''', {"claims": 2, "edges": 1, "codes": set(), "clean": True, "answer": "answer text"}),
    "misspelled_primitive": ('''<explain>
set_context(cell_type="HepG2")
bind_to(id="n1", actor="rifampicin", target="NR1I2")
regulates_expresion(id="n2", regulator="PXR", gene_list=["CYP3A4"], direction="up")
</explain>
<dag>
edge("n1", "n2", relation="causal")
</dag>''', {"claims": 2, "edges": 1, "codes": {"unknown_primitive"}, "clean": False, "message_has": "binds_to"}),
    "not_in_catalogue": ('''<explain>
set_context(cell_type="PC3")
inhibits_kinase(id="n1", actor="dasatinib", target="SRC")
induces_phenotype(id="n2", source="SRC", phenotype="reduced migration")
</explain>
<dag>
edge("n1", "n2", relation="causal")
</dag>''', {"claims": 2, "edges": 1, "codes": {"unknown_primitive"}, "clean": False}),
    "multiline_call": ('''<explain>
set_context(cell_type="THP-1")
binds_to(
    id="n1",
    actor="LPS",
    target="TLR4",
)
regulates_expression(id="n2", regulator="NF-kB", gene_list=["TNF",
    "IL6"], direction="up")
</explain>
<dag>
edge("n1", "n2", relation="causal")
</dag>''', {"claims": 2, "edges": 1, "codes": set(), "clean": True}),
    "arrow_edges": ('''<explain>
set_context(cell_type="A549")
binds_to(id="n1", actor="gefitinib", target="EGFR")
regulates_expression(id="n2", regulator="EGFR", gene_list=["DUSP6"], direction="down")
correlates_with(id="n3", entity_a="DUSP6", entity_b="ERK activity", evidence_type="expression")
</explain>
<dag>
n1 -> n2
n2 → n3 (correlative)
</dag>''', {"claims": 3, "edges": 2, "codes": set(), "relations": ["causal", "correlative"]}),
    "missing_dag": ('''<explain>
set_context(cell_type="K562")
binds_to(id="n1", actor="imatinib", target="ABL1")
</explain>''', {"claims": 1, "edges": 0, "codes": {"missing_dag"}, "clean": False}),
    "missing_explain": ('''<answer>Only prose, no graph.</answer>''', {"claims": 0, "edges": 0, "codes": {"missing_explain", "missing_dag"}, "clean": False}),
    "curly_quotes_and_bullets": ('''<explain>
- set_context(cell_type=“HUVEC”)
- binds_to(id=“n1”, actor=“sunitinib”, target=“KDR”)
- regulates_expression(id=“n2”, regulator=“KDR”, gene_list=[“ESM1”], direction=“down”)
</explain>
<dag>
1. edge(“n1”, “n2”, relation=“causal”)
</dag>''', {"claims": 2, "edges": 1, "codes": set(), "clean": True}),
    "unclosed_tag": ('''<explain>
set_context(cell_type="SH-SY5Y")
binds_to(id="n1", actor="MPP+", target="complex I")
induces_phenotype(id="n2", source="complex I inhibition", phenotype="neuronal death")
<dag>
edge("n1", "n2", relation="causal")
</dag>''', {"claims": 2, "edges": 1, "codes": set(), "clean": True}),
    "bare_words": ('''<explain>
set_context(cell_type=HEK293)
modulates_molecule_activity(id=n1, target=GSK3B, direction=down)
regulates_expression(id=n2, regulator=beta-catenin, gene_list=[AXIN2, LEF1], direction=up)
</explain>
<dag>
edge(n1, n2, relation=causal)
</dag>''', {"claims": 2, "edges": 1, "codes": set(), "clean": True}),
}
