"""Each structural check, with its stable code, severity and line."""
from vcr_core.formalism import validate_text


def _codes(text):
    return {(f.code, f.severity) for f in validate_text(text)[1]}


def _wrap(explain, dag):
    return f"<explain>\n{explain}\n</explain>\n<dag>\n{dag}\n</dag>"


CTX = 'set_context(cell_type="HUVEC")'
OUT = 'regulates_expression(id="n9", regulator="x", gene_list=["EGR1"], direction="down")'


def test_clean_graph_has_no_findings():
    text = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\n{OUT}', 'edge("n1", "n9", relation="causal")')
    assert validate_text(text)[1] == []


def test_unknown_primitive():
    assert ("unknown_primitive", "error") in _codes(_wrap(f'{CTX}\nfoo_bar(id="n1", x="y")\n{OUT}', 'edge("n1","n9")'))


def test_missing_required_argument():
    found = validate_text(_wrap(f'{CTX}\nbinds_to(id="n1", actor="a")\n{OUT}', 'edge("n1","n9")'))[1]
    miss = [f for f in found if f.code == "missing_argument"]
    assert miss and "target" in miss[0].message and miss[0].line == 3


def test_bad_direction():
    text = _wrap(f'{CTX}\nmodulates_molecule_activity(id="n1", target="KDR", direction="sideways")\n{OUT}', 'edge("n1","n9")')
    assert ("bad_direction", "error") in _codes(text)
    missing = _wrap(f'{CTX}\nmodulates_molecule_activity(id="n1", target="KDR")\n{OUT}', 'edge("n1","n9")')
    assert ("missing_argument", "error") in _codes(missing)


def test_duplicate_id():
    text = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\nbinds_to(id="n1", actor="c", target="d")\n{OUT}',
                 'edge("n1","n9")')
    dup = [f for f in validate_text(text)[1] if f.code == "duplicate_id"]
    assert dup and dup[0].line == 4 and "line 3" in dup[0].message


def test_missing_set_context():
    assert ("missing_set_context", "error") in _codes(_wrap(f'binds_to(id="n1", actor="a", target="b")\n{OUT}', 'edge("n1","n9")'))


def test_missing_sections():
    assert ("missing_explain", "error") in _codes("<answer>x</answer><dag></dag>")
    assert ("missing_dag", "error") in _codes(f"<explain>{CTX}</explain>")


def test_edge_to_undeclared_id():
    found = validate_text(_wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\n{OUT}', 'edge("n1","n9")\nedge("n1","n7")'))[1]
    bad = [f for f in found if f.code == "edge_unknown_id"]
    assert bad and "n7" in bad[0].message and bad[0].line == 8


def test_cycle_names_its_nodes():
    text = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\nmodulates_molecule_activity(id="n2", target="b", direction="up")\n{OUT}',
                 'edge("n1","n2")\nedge("n2","n1")\nedge("n2","n9")')
    cyc = [f for f in validate_text(text)[1] if f.code == "cycle"]
    assert cyc and "n1" in cyc[0].message and "n2" in cyc[0].message


def test_path_ending_on_non_measurable():
    text = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\nmodulates_molecule_activity(id="n2", target="b", direction="up")\n{OUT}',
                 'edge("n1","n2")\nedge("n1","n9")')
    bad = [f for f in validate_text(text)[1] if f.code == "path_not_measurable"]
    assert bad and "n2" in bad[0].message and bad[0].severity == "error"


def test_no_measurable_output_at_all():
    text = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\nmodulates_molecule_activity(id="n2", target="b", direction="up")',
                 'edge("n1","n2")')
    assert ("path_not_measurable", "error") in _codes(text)


def test_isolated_node():
    text = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\nbinds_to(id="n2", actor="c", target="d")\n{OUT}', 'edge("n1","n9")')
    iso = [f for f in validate_text(text)[1] if f.code == "isolated_node"]
    assert iso and "n2" in iso[0].message and iso[0].severity == "warning"


def test_via_unknown_id_but_prose_is_fine():
    bad = _wrap(f'{CTX}\nbinds_to(id="n1", actor="a", target="b")\nmodulates_molecule_activity(id="n2", target="b", direction="up", via="n5")\n{OUT}',
                'edge("n1","n2")\nedge("n2","n9")')
    assert ("via_unknown_id", "error") in _codes(bad)
    fine = bad.replace('via="n5"', 'via="p53 binding at the promoter"')
    assert "via_unknown_id" not in {c for c, _ in _codes(fine)}
    ok_ref = bad.replace('via="n5"', 'via="n1"')
    assert "via_unknown_id" not in {c for c, _ in _codes(ok_ref)}


def test_findings_have_stable_fields():
    for f in validate_text("<explain>nonsense here</explain>")[1]:
        assert set(f.model_dump()) == {"code", "severity", "line", "message"}
        assert f.severity in ("error", "warning")
