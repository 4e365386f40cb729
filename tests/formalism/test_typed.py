"""Typed claims: one model per primitive, built from primitives.json, discriminated on ``action``."""
from __future__ import annotations

import json
from importlib import resources

import pytest

from vcr_core.formalism import Node, claim_hash, validate_text
from vcr_core.formalism.catalogue import catalogue
from vcr_core.formalism.typed import (ClaimBase, ClaimTypeError, claim_adapter, claim_model, claim_models, claim_problems,
                                      entity_values, typed_claim, typed_context)

RAW = json.loads(resources.files("vcr_core.formalism").joinpath("primitives.json").read_text("utf-8"))


def _minimal(prim) -> dict:
    """A claim of ``prim`` with every required argument filled by a value of its kind."""
    args = {}
    for arg in prim.required:
        if arg == "direction":
            args[arg] = "up"
        elif prim.is_list(arg):
            args[arg] = ["TP53"]
        else:
            args[arg] = "TP53" if prim.kinds(arg) != ("text",) else "some text"
    return args


def test_every_primitive_has_a_model_and_the_union_discriminates_on_action():
    assert set(claim_models()) == {p["name"] for p in RAW["primitives"]}
    for name, prim in catalogue().items():
        node = Node(id="n1", action=name, args=_minimal(prim))
        typed = typed_claim(node)
        assert type(typed) is claim_model(name) and isinstance(typed, ClaimBase) and typed.action == name
    schema = claim_adapter().json_schema()
    assert schema["discriminator"]["propertyName"] == "action"
    assert len(schema["discriminator"]["mapping"]) == len(RAW["primitives"])


def test_argument_kinds_come_from_primitives_json():
    for p in RAW["primitives"]:
        model = claim_model(p["name"])
        for arg, kinds in p["types"].items():
            assert model.kinds(arg) == tuple(kinds), (p["name"], arg)
            assert model.model_fields[arg].json_schema_extra == {"kinds": kinds}
        assert set(model.entity_fields()) == {a for a, k in p["types"].items() if k != ["text"]}
        assert set(a for a in p["required"]) <= {a for a, f in model.model_fields.items() if f.is_required()}


def test_list_arguments_are_lists_and_single_names_are_read_as_one_item():
    typed = typed_claim(Node(id="n1", action="regulates_expression",
                             args={"regulator": "imatinib", "gene_list": "MYC", "direction": " Down"}))
    assert typed.gene_list == ["MYC"] and typed.direction == "down"
    assert [(e.arg, e.name, e.kinds) for e in typed.entities()] == [
        ("regulator", "imatinib", ("gene", "chemical", "process")), ("gene_list", "MYC", ("gene",))]
    assert catalogue()["modulates_complex"].is_list("members") and not catalogue()["binds_to"].is_list("target")


def test_unknown_action_is_reported_with_the_closest_name():
    with pytest.raises(ClaimTypeError) as info:
        typed_claim(Node(id="n1", action="binds_too", args={"actor": "a", "target": "b"}))
    (problem,) = info.value.problems
    assert problem.code == "unknown_primitive" and "did you mean binds_to?" in problem.message
    assert "binds_too" in str(info.value)


def test_missing_required_argument_is_named_and_empty_counts_as_missing():
    problems = claim_problems(Node(id="n7", action="binds_to", args={"actor": "imatinib", "target": ""}))
    assert [(p.code, p.arg) for p in problems] == [("missing_argument", "target")]
    assert "'n7'" in problems[0].message and "'target'" in problems[0].message


def test_bad_direction_and_wrong_shape_are_told_apart():
    problems = claim_problems(Node(id="n1", action="modulates_molecule_activity",
                                   args={"target": ["KDR", "FLT1"], "direction": "sideways"}))
    assert {(p.code, p.arg) for p in problems} == {("bad_direction", "direction"), ("bad_argument", "target")}
    assert any("takes one name" in p.message for p in problems)


def test_the_checks_report_the_typed_models_problems():
    ctx = 'set_context(cell_type="K562")'
    out = 'regulates_expression(id="n9", regulator="x", gene_list=["MYC"], direction="down")'
    text = (f'<explain>\n{ctx}\nmodulates_molecule_activity(id="n1", target=["KDR", "FLT1"], direction="up")\n{out}\n'
            '</explain>\n<dag>\nedge("n1","n9")\n</dag>')
    found = {(f.code, f.severity) for f in validate_text(text)[1]}
    assert ("bad_argument", "warning") in found and not any(sev == "error" for code, sev in found if code != "bad_argument")


def test_typed_view_leaves_the_stored_form_and_the_hash_alone():
    node = Node(id="n1", action="regulates_expression", args={"regulator": "imatinib", "gene_list": "MYC", "direction": "Down"})
    before, digest = node.model_dump(), claim_hash(node)
    typed_claim(node)
    assert node.model_dump() == before and claim_hash(node) == digest and node.args["gene_list"] == "MYC"


def test_entity_values_are_read_even_when_the_claim_is_incomplete():
    node = Node(id="n1", action="modulates_molecule_activity", args={"target": " KDR ", "mechanism": "text"})
    assert [(e.arg, e.name, e.kinds) for e in entity_values(node)] == [("target", "KDR", ("gene",))]
    assert entity_values(Node(id="n1", action="not_a_primitive", args={"target": "KDR"})) == []
    ctx = typed_context({"cell_type": "K562", "genotype": "BCR-ABL1"})
    assert [(e.arg, e.name) for e in ctx.entities()] == [("cell_type", "K562")]


def test_structured_output_schema_reads_list_arguments_from_the_catalogue():
    from vcr_core.agents.structured import _action_schema

    props = _action_schema("regulates_expression")["properties"]
    assert props["gene_list"]["type"] == "array" and props["regulator"]["type"] == "string"
    assert _action_schema("modulates_complex")["properties"]["members"]["type"] == "array"
