"""Parser and writer: every variation in formalism.md, line numbers, and the lossless round trip."""
import pytest

from vcr_core.formalism import parse_text, to_text, validate_text

from vcr_core.formalism.examples import CANONICAL, VARIANTS


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_parses_as_expected(name):
    text, exp = VARIANTS[name]
    result, findings = validate_text(text)
    expl = result.explanation
    codes = {f.code for f in findings}
    assert len(expl.claims) == exp["claims"], [n.action for n in expl.claims]
    assert len(expl.edges) == exp["edges"]
    assert exp["codes"] <= codes, codes
    if exp.get("clean"):
        assert not [f for f in findings if f.severity == "error"], findings
    assert result.raw == text  # the raw text is always kept


def test_details_of_variants():
    ctx = validate_text(VARIANTS["context_with_id_c0"][0])[0].explanation
    assert ctx.context_id == "c0" and ctx.context["cell_type"] == "K562"
    nums = validate_text(VARIANTS["lists_and_numbers"][0])[0].explanation
    assert nums.nodes[0].args["affinity"] == 0.6
    assert nums.nodes[1].args["stoichiometry"] == 2
    assert nums.nodes[2].confidence == 0.7
    assert nums.nodes[2].args["gene_list"] == ["NFKBIA", "TNFAIP3", "IL8"]
    uni = validate_text(VARIANTS["non_ascii"][0])[0].explanation
    assert uni.nodes[0].args["unit"] == "µM" and "β" in uni.nodes[1].args["target"]
    assert uni.context["extras"] == "IL-2 → activation"
    bare = validate_text(VARIANTS["bare_words"][0])[0].explanation
    assert bare.nodes[1].args["gene_list"] == ["AXIN2", "LEF1"] and bare.nodes[1].args["regulator"] == "beta-catenin"
    arrows = validate_text(VARIANTS["arrow_edges"][0])[0].explanation
    assert [e.relation for e in arrows.edges] == ["causal", "correlative"]
    assert validate_text(VARIANTS["tags_other_case"][0])[0].explanation.answer == "answer text"


def test_misspelled_primitive_names_closest():
    _, findings = validate_text(VARIANTS["misspelled_primitive"][0])
    msgs = [f.message for f in findings if f.code == "unknown_primitive"]
    assert any("binds_to" in m for m in msgs) and any("regulates_expression" in m for m in msgs)
    assert all(f.line for f in findings if f.code == "unknown_primitive")


def test_line_numbers_point_at_the_line():
    text = VARIANTS["misspelled_primitive"][0]
    _, findings = validate_text(text)
    lines = text.split("\n")
    for f in findings:
        if f.code == "unknown_primitive":
            assert "bind_to" in lines[f.line - 1] or "regulates_expresion" in lines[f.line - 1]


def test_unparseable_line_reported_with_line_and_raw_kept():
    text = '<explain>\nset_context(cell_type="X")\nbinds_to(id="n1", actor="a", target=\n</explain>\n<dag>\n</dag>'
    result, findings = validate_text(text)
    bad = [f for f in findings if f.code == "unparseable_line"]
    assert bad and bad[0].line == 3 and "parentheses" in bad[0].message
    assert result.raw == text


def test_canonical_text_round_trip_is_exact():
    result = parse_text(CANONICAL)
    assert to_text(result.explanation) == CANONICAL


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_model_text_model_identity_on_variants(name):
    expl = parse_text(VARIANTS[name][0]).explanation
    again = parse_text(to_text(expl)).explanation
    assert again.model_dump() == expl.model_dump()


def test_parser_never_raises_on_garbage():
    for text in ["", "<explain>", "<explain>((((</explain>", "<dag>edge(</dag>", "\x00\x01<explain>a(b=)</explain>",
                 "<explain>" + "f(" * 500 + "</explain>", None, "<EXPLAIN>set_context(**x)</EXPLAIN>"]:
        result = parse_text(text)
        assert result.explanation is not None
