"""`vcr export --format svg` (issue 24): each selected trace's action graph as a picture people can share,
drawn as the app draws it, with model-written text escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def test_svg_export_draws_each_trace_escaped(engine, seeded):
    from vcr_core.files.exporters import FORMATS, export_traces
    from vcr_core.verify.testing import EXPLANATION, add_trace

    second = add_trace(engine, seeded["batch_id"], EXPLANATION)
    assert "svg" in FORMATS
    data = export_traces(engine, [seeded["trace_id"], second], "svg")
    root = ET.fromstring(data)  # well-formed: the hostile entity did not become markup
    pictures = root.findall(f"{NS}svg")
    assert len(pictures) == 2
    assert float(pictures[1].get("y")) >= float(pictures[0].get("height"))  # one below the other
    titles = ["".join(t.itertext()) for t in root.iter(f"{NS}text") if "trace #" in "".join(t.itertext())]
    assert titles[0].startswith(f"trace #{seeded['trace_id']} · record 1 · filter: ")
    texts = [" ".join(t.itertext()) for t in pictures[0].iter(f"{NS}text")]
    assert "imatinib binds ABL1" in texts and "apoptosis ↑" in texts  # the claims as biology
    assert any(t.startswith("context: K562") for t in texts)
    hovers = [t.text for t in pictures[0].iter(f"{NS}title")]  # the primitive, with the hostile source as text
    assert any(h.startswith("induces_phenotype(") and "<img src=x onerror=alert(1)>" in h for h in hovers)
    assert not root.findall(f".//{NS}script") and b"<img" not in data
    fills = {r.get("fill") for r in pictures[0].iter(f"{NS}rect")} | {e.get("fill") for e in pictures[0].iter(f"{NS}ellipse")}
    assert "#2e7d32" in fills  # the kg verifier's supported binding
