"""Both record shapes, missing fields, unknown markers, and the preprocessed form."""
from vcr_core.records.model import parse_records, to_preprocessed_dict

TAHOE = [{
    "index": 7,
    "perturbation": {
        "context": [{"cell type": "lung adenocarcinoma", "cell line": "A549", "organism": "human"}],
        "perturbations": [{"perturbation type": "chemical", "name": "Trametinib", "smiles": "CC1=C(C(=O)N(C2=C1N(C(=O)N(C2=O)C3CC3)C4=CC=CC(=C4)NC(=O)C)C)NC5=C(C=C(C=C5)I)F",
                           "known targets": ["MAP2K1", "MAP2K2"], "dose": "1 uM"}],
    },
}]

SINGLE = {
    "context": {"perturbation_type": "chemical", "description": "drug screen", "cell_type": "HUVEC", "disease_model": "N/A"},
    "perturbation": {"type": "small molecule", "smiles": "", "name": "nintedanib", "target": "KDR, FLT1", "moa_type": None},
}


def test_tahoe_shape():
    recs, problems = parse_records(TAHOE)
    assert not problems
    rec = recs[0]
    assert rec.shape == "tahoe" and rec.index == "7"
    assert rec.perturbation.name == "Trametinib" and rec.perturbation.targets == ["MAP2K1", "MAP2K2"]
    assert rec.perturbation.type == "chemical" and rec.perturbation.dose == "1 uM"
    assert rec.context.cell_line == "A549" and rec.context.cell_type == "lung adenocarcinoma"
    assert rec.label == "Trametinib in A549"
    assert rec.raw == TAHOE[0]


def test_single_shape_with_unknown_markers():
    recs, problems = parse_records(SINGLE)
    assert not problems
    rec = recs[0]
    assert rec.shape == "single" and rec.index == "0"
    assert rec.perturbation.targets == ["KDR", "FLT1"]
    assert rec.perturbation.smiles is None and rec.perturbation.moa_type is None
    assert rec.context.disease is None and rec.context.cell_type == "HUVEC"
    assert rec.description == "drug screen"


def test_missing_fields_are_allowed():
    recs, problems = parse_records([{"perturbation": {"name": "imatinib"}}, {"context": {"cell_type": "K562"}},
                                    {"index": 3, "perturbation": {"perturbations": [{"perturbation type": "genetic", "gene symbol": "TP53"}]}}])
    assert not problems
    assert recs[0].perturbation.name == "imatinib" and recs[0].contexts == []
    assert recs[1].perturbations == [] and recs[1].context.cell_type == "K562"
    assert recs[2].perturbation.gene_symbol == "TP53" and recs[2].perturbation.type == "genetic"


def test_wrong_types_are_reported_with_paths():
    recs, problems = parse_records([{"index": "a", "perturbation": {"name": {"x": 1}, "target": 5}}, 17])
    paths = {(p.index, p.path) for p in problems}
    assert ("a", "perturbation.name") in paths
    assert any(p.position == 1 and "JSON object" in p.message for p in problems)


def test_preprocessed_form_loads_as_is_and_round_trips():
    obj = dict(SINGLE, perturbation_entity={"nintedanib": "Chemical"}, context_entity={"HUVEC": "CellLine"},
               pubchem_info={"cid": 135423438, "name": "nintedanib", "synonyms": ["nintedanib", "BIBF 1120"]})
    recs, problems = parse_records([obj])
    assert not problems and recs[0].preprocessed
    assert recs[0].pubchem_info["cid"] == 135423438
    assert to_preprocessed_dict(recs[0]) == obj


def test_top_level_must_be_list_or_object():
    _, problems = parse_records("hello")
    assert problems and "top level" in problems[0].message
