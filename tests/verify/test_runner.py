"""Running verifiers over stored traces: the cache, the filter policy, expression data, the
falsification agent, the background job and `vcr verify`."""
from __future__ import annotations

import json

from sqlmodel import Session, select

from vcr_core.store import Job, Trace, TraceVerdict, Verdict
from vcr_core.verify import aggregate_claim_verdict, verify_traces
from vcr_core.verify.expression import ExpressionFileError, ExpressionVerifier, attach_expression
from vcr_core.verify.testing import EXPLANATION, add_trace


def _verdicts(engine, trace_id, verifier=None):
    with Session(engine) as s:
        q = select(Verdict).where(Verdict.trace_id == trace_id)
        if verifier:
            q = q.where(Verdict.verifier == verifier)
        return s.exec(q).all()


class CountingVerifier:
    """A real verifier object that counts its calls (to prove the cache)."""

    name, version = "kg", "1"

    def __init__(self):
        self.calls = 0

    def applies(self, node):
        return node.action == "binds_to"

    def verify(self, ctx):
        from vcr_core.verify.base import ClaimVerdict
        self.calls += 1
        return ClaimVerdict("supported", 0.9, [{"kind": "kg_edge", "source": "imatinib", "target": "ABL1", "relation": "target"}], "edge")


def test_cache_means_nothing_is_verified_twice(engine, batch_id, trace_id):
    counter = CountingVerifier()
    first = verify_traces(engine, [trace_id], ["structural", "kg"], instances={"kg": counter})
    assert first["computed"] == 2 and counter.calls == 1  # structural + one binds_to claim
    again = verify_traces(engine, [trace_id], ["structural", "kg"], instances={"kg": counter})
    assert again["computed"] == 0 and counter.calls == 1
    # The same claim in another trace (another run of the same record) reuses the verdict.
    other = add_trace(engine, batch_id, EXPLANATION.replace('id="n1"', 'id="b1"').replace('"n1"', '"b1"'), run_name="other")
    third = verify_traces(engine, [other], ["kg"], instances={"kg": counter})
    assert counter.calls == 1 and third["cached"] == 1
    copied = _verdicts(engine, other, "kg")
    assert copied[0].verdict == "supported" and "same claim verified in trace" in copied[0].message


def test_filter_policy_is_stored_with_trace_verdict(engine, trace_id):
    counter = CountingVerifier()
    verify_traces(engine, [trace_id], ["structural", "kg"], instances={"kg": counter})
    with Session(engine) as s:
        tv = s.exec(select(TraceVerdict).where(TraceVerdict.trace_id == trace_id)).one()
    # 1 of 3 claims supported: below the default 50 % share, nothing wrong: insufficient evidence (not fail).
    assert tv.verdict == "insufficient" and tv.policy["min_supported_share"] == 0.5 and tv.summary["supported"] == 1
    assert any("below" in r for r in tv.summary["reasons"])


def test_aggregate_claim_verdict_rules():
    assert aggregate_claim_verdict([]) == (None, 0.0)
    assert aggregate_claim_verdict([{"verdict": "supported", "score": 0.9, "verifier": "kg"},
                                    {"verdict": "contradicted", "score": 0.7, "verifier": "literature"}])[0] == "contradicted"
    assert aggregate_claim_verdict([{"verdict": "supported", "score": 1.0, "verifier": "entity"}])[0] == "unverifiable"
    assert aggregate_claim_verdict([{"verdict": "supported", "score": 0.4, "verifier": "literature"},
                                    {"verdict": "unverifiable", "score": 0, "verifier": "kg"}]) == ("supported", 0.4)


def test_expression_verifier_with_attached_table(engine, batch_id, trace_id, tmp_path):
    csv = tmp_path / "de.csv"
    csv.write_text("perturbation,cell_line,gene,log2FoldChange,padj\n"
                   "imatinib,K562,MYC,-2.5,0.001\nimatinib,K562,CCND1,-1.8,0.01\nimatinib,K562,BCL2L1,0.2,0.6\n")
    assert attach_expression(engine, batch_id, csv) == 3
    summary = verify_traces(engine, [trace_id], ["expression"], instances={"expression": ExpressionVerifier(engine)})
    assert summary["by_verifier"]["expression"] == {"supported": 1}
    ev = _verdicts(engine, trace_id, "expression")[0]
    assert {e["gene"]: e["call"] for e in ev.evidence} == {"MYC": "as claimed", "CCND1": "as claimed", "BCL2L1": "not significant"}
    # New data that moves the genes the other way: old verdicts are dropped, the claim is contradicted.
    csv.write_text("perturbation,cell_line,gene,log2FoldChange,padj\n"
                   "imatinib,K562,MYC,2.5,0.001\nimatinib,K562,CCND1,1.8,0.01\nimatinib,K562,BCL2L1,3,0.001\n")
    attach_expression(engine, batch_id, csv)
    verify_traces(engine, [trace_id], ["expression"], instances={"expression": ExpressionVerifier(engine)})
    assert [v.verdict for v in _verdicts(engine, trace_id, "expression")] == ["contradicted"]
    # Genes that barely move: unverifiable.
    csv.write_text("perturbation,gene,log2fc,padj\nimatinib,MYC,0.1,0.9\nimatinib,CCND1,-0.2,0.5\n")
    attach_expression(engine, batch_id, csv)
    verify_traces(engine, [trace_id], ["expression"], instances={"expression": ExpressionVerifier(engine)})
    assert [v.verdict for v in _verdicts(engine, trace_id, "expression")] == ["unverifiable"]


def test_expression_matches_genes_by_symbol_and_follows_a_regrounding(engine, batch_id, tmp_path):
    """The table says MYC and CCND1; the claim says "c-Myc" (a synonym) and "ZZTOP9" (no gene of that name,
    until a curator re-grounds it to CCND1's HGNC id): matched by the HGNC symbol, the stored grounding first."""
    from vcr_core import curation as cur
    from vcr_core.curation.reuse import identify_and_reuse
    from vcr_core.store import Claim

    text = EXPLANATION.replace('gene_list=["MYC", "CCND1", "BCL2L1"]', 'gene_list=["c-Myc", "ZZTOP9"]')
    tid = add_trace(engine, batch_id, text, run_name="synonyms")
    csv = tmp_path / "de.csv"
    csv.write_text("perturbation,cell_line,gene,log2FoldChange,padj\nimatinib,K562,MYC,-2.5,0.001\nimatinib,K562,CCND1,-1.8,0.01\n")
    attach_expression(engine, batch_id, csv)
    identify_and_reuse(engine)  # the claims' stored grounding, as generation saves it
    verify_traces(engine, [tid], ["expression"], instances={"expression": ExpressionVerifier(engine)})
    ev = _verdicts(engine, tid, "expression")[-1]
    calls = lambda v: {e["gene"]: e["call"] for e in v.evidence if e["kind"] == "expression"}  # noqa: E731
    assert calls(ev) == {"c-Myc": "as claimed", "ZZTOP9": "no data"}
    assert any(e["kind"] == "stored_grounding" and e["entities"][0]["identifier"] == "HGNC:7553" for e in ev.evidence)
    assert ev.verdict == "unverifiable"  # one of two genes: no majority
    with Session(engine) as s:
        claim = s.exec(select(Claim).where(Claim.trace_id == tid, Claim.action == "regulates_expression")).one()
    cur.reground_claim(engine, claim.id, "ana", "gene_list", "ZZTOP9", "HGNC:1582", reason="the supplement's CCND1")
    ev = _verdicts(engine, tid, "expression")[-1]  # re-grounding re-ran the verifiers that had verified the claim
    assert calls(ev) == {"c-Myc": "as claimed", "ZZTOP9": "as claimed"}
    assert ev.verdict == "supported"


def test_expression_results_do_not_speak_for_the_contexts_own_effect(engine, batch_id, tmp_path):
    """Results of TPCA-1 against its control under TNF measure TPCA-1's effect: they judge a claim TPCA-1 causes,
    not one TNF causes (TNF -> RELA -> NFKBIA up), whatever they say (directions along the graph)."""
    from vcr_core.formalism.parser import parse_text
    from vcr_core.records.model import parse_records
    from vcr_core.verify.base import ClaimContext

    csv = tmp_path / "de.csv"
    csv.write_text("perturbation,gene,log2fc,padj\nTPCA-1,NFKBIA,-2.0,0.001\n")
    attach_expression(engine, batch_id, csv)
    records, _ = parse_records([{"index": 1, "context": {"description": "Soluble factor addition of TNF", "cell_line": "HeLa"},
                                 "perturbation": {"type": "small molecule", "name": "TPCA-1", "target": ["IKBKB"], "moa_type": "inhibitor"}}])
    expl = parse_text("<explain>\n"
                      'binds_to(id="n1", actor="TNF", target="TNFRSF1A")\n'
                      'regulates_expression(id="n2", regulator="RELA", gene_list=["NFKBIA"], direction="up")\n'
                      'binds_to(id="n3", actor="TPCA-1", target="IKBKB")\n'
                      'regulates_expression(id="n4", regulator="RELA", gene_list=["NFKBIA"], direction="down")\n'
                      "</explain>\n<dag>\n"
                      'edge("n1", "n2", relation="causal")\nedge("n3", "n4", relation="causal")\n</dag>').explanation
    verifier = ExpressionVerifier(engine)
    by_tnf = verifier.verify(ClaimContext(node=expl.node("n2"), explanation=expl, record=records[0], batch_id=batch_id))
    assert by_tnf.verdict == "unverifiable" and "context's own effect" in by_tnf.message and "TNF" in by_tnf.message
    by_drug = verifier.verify(ClaimContext(node=expl.node("n4"), explanation=expl, record=records[0], batch_id=batch_id))
    assert by_drug.verdict == "supported" and by_drug.evidence[0]["gene"] == "NFKBIA"
    assert ExpressionVerifier.graph_scoped and ExpressionVerifier.batch_scoped


def test_expression_file_errors_are_plain(engine, batch_id, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("drug,gene,padj\nimatinib,MYC,0.1\n")
    try:
        attach_expression(engine, batch_id, bad)
        raise AssertionError("expected an error")
    except ExpressionFileError as exc:
        assert "no log2fc column" in str(exc)
    bad.write_text("drug,gene,logFC,padj\nimatinib,MYC,lots,0.1\n")
    try:
        attach_expression(engine, batch_id, bad)
        raise AssertionError("expected an error")
    except ExpressionFileError as exc:
        assert "line 2" in str(exc)


def test_falsification_agent_with_tool_calls(engine, trace_id):
    from vcr_core.llm import complete, resolve_model
    from vcr_core.llm.testing import Reply, ScriptedServer
    from vcr_core.verify.falsification import FalsificationAgent

    final = json.dumps({"claims": {"n1": {"verdict": "survives", "reason": "DrugBank lists ABL1 as target"},
                                   "n2": {"verdict": "refuted", "reason": "MYC goes up in the attached data"},
                                   "n3": {"verdict": "inconclusive", "reason": "no data"}}, "overall": "falsified"})
    calls = []
    with ScriptedServer(queue=[Reply(tool_calls=[{"name": "kg_edges", "arguments": {"entity_a": "imatinib", "entity_b": "ABL1"}}]),
                               Reply(final)]) as srv:
        choice = resolve_model(model="scripted", api_base=srv.base_url)

        def factory(engine_, record, batch_id):
            def kg_edges(entity_a, entity_b):
                calls.append((entity_a, entity_b))
                return [{"relation": "target", "source": "DrugBank"}]
            return FalsificationAgent(lambda m, t: complete(m, model_choice=choice, purpose="falsify", tools=t, max_retries=0),
                                      {"kg_edges": kg_edges})

        summary = verify_traces(engine, [trace_id], ["falsification"], instances={}, falsifier_factory=factory)
        assert calls == [("imatinib", "ABL1")]
        assert srv.requests[0].body.get("tools") and srv.requests[1].body["messages"][-1]["role"] == "tool"
    assert summary["by_verifier"]["falsification"] == {"supported": 1, "contradicted": 1, "unverifiable": 1}
    with Session(engine) as s:
        trace = s.get(Trace, trace_id)
        assert trace.meta["falsification"]["overall"] == "falsified"
        assert any(m["role"] == "tool" for m in trace.meta["falsification"]["transcript"])


def test_verify_job_and_cli(engine, batch_id, trace_id, capsys):
    from vcr_core.cli.main import main
    from vcr_core.jobs import enqueue
    from vcr_core.verify.job import run_verify_job

    with Session(engine) as s:
        run_id = s.get(Trace, trace_id).run_id
    job_id = enqueue(engine, "verify", {"run_id": run_id, "verifiers": ["structural", "phenotype"]}, run_id=run_id)
    run_verify_job(job_id, engine)
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job.n_done == 1 and job.n_total == 1 and "verified 1" in job.message
    assert main(["verify", "--run", str(run_id), "--verifiers", "structural"]) == 0
    out = capsys.readouterr().out
    assert "structural" in out and "supported" in out and "filter policy" in out
    assert main(["verify"]) == 2
    assert main(["verify", "--run", "999"]) == 2 and "there is no run 999" in capsys.readouterr().err
    assert main(["verify", "--trace", "998", "999"]) == 2 and "there is no trace 998" in capsys.readouterr().err
