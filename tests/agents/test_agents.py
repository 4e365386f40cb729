"""Report and explanation agents: prompts, validation, the repair round, JSON-constrained output."""
from __future__ import annotations

import json

from vcr_core.agents import CallOptions, GenerationConfig, generate_for_record, prompt_version
from vcr_core.llm import resolve_model
from vcr_core.llm.testing import Reply, ScriptedServer, prompt_text, valid_explanation
from vcr_core.records.model import parse_records

RECORD = parse_records([{"index": 7, "context": {"cell_type": "A549", "disease": "lung adenocarcinoma"},
                         "perturbation": {"name": "gefitinib", "target": "EGFR"}}])[0][0]
BROKEN = "<answer>it works</answer>\n<explain>\nset_context(cell_type=\"A549\")\nbinds_too(id=\"n1\", actor=\"x\", target=\"y\")\n</explain>"


def config(srv, mode="explain-only", **call) -> GenerationConfig:
    return GenerationConfig(choice=resolve_model(model="scripted", api_base=srv.base_url), mode=mode,
                            call=CallOptions(**call))


def test_prompt_includes_catalogue_question_and_version():
    with ScriptedServer(queue=[Reply(text=valid_explanation("gefitinib"))]) as srv:
        out = generate_for_record(RECORD, config(srv))
        prompt = prompt_text(srv.requests[0].body)
    assert "modulates_pathway_activity(id, pathway, direction" in prompt  # the catalogue
    assert "mechanistically and functionally" in prompt and '"gefitinib"' in prompt
    assert out.findings == [] and len(out.explanation.claims) == 3
    assert out.fields["prompt_version"] == prompt_version() and prompt_version().startswith("p1-cat")
    assert out.fields["meta"]["repaired"] is False and out.sections["dag"].startswith("edge(")


def test_report_then_explanation_uses_the_report():
    with ScriptedServer(queue=[Reply(text="## Summary\nUNIQUE-REPORT-MARKER"), Reply(text=valid_explanation())]) as srv:
        out = generate_for_record(RECORD, config(srv, mode="report-explain"))
        assert "research report in markdown" in prompt_text(srv.requests[0].body)
        assert "UNIQUE-REPORT-MARKER" in prompt_text(srv.requests[1].body)
    assert out.fields["report"].endswith("UNIQUE-REPORT-MARKER")
    assert out.fields["prompt_tokens"] == 200 and out.fields["completion_tokens"] == 100


def test_invalid_output_gets_one_repair_round_with_findings():
    with ScriptedServer(queue=[Reply(text=BROKEN), Reply(text=valid_explanation())]) as srv:
        out = generate_for_record(RECORD, config(srv))
        repair_prompt = srv.requests[1].body["messages"][-1]["content"]
        assert srv.requests[1].body["messages"][-2]["content"] == BROKEN  # the model sees its own answer
    assert "binds_too" in repair_prompt and "did you mean binds_to" in repair_prompt
    assert "no <dag> section" in repair_prompt
    assert out.findings == [] and out.fields["meta"]["repaired"] is True


def test_still_invalid_is_kept_with_findings():
    with ScriptedServer(lambda body: Reply(text=BROKEN)) as srv:
        out = generate_for_record(RECORD, config(srv))
        assert len(srv.requests) == 2  # exactly one repair round
    codes = {f.code for f in out.findings}
    assert {"unknown_primitive", "missing_dag"} <= codes
    assert out.explanation is not None and out.fields["raw_output"] == BROKEN


def test_no_tags_at_all_is_invalid_not_dropped():
    with ScriptedServer(lambda body: Reply(text="Sorry, I cannot help with that.")) as srv:
        out = generate_for_record(RECORD, config(srv))
    assert any(f.code == "missing_explain" for f in out.findings)
    assert out.fields["raw_output"] == "Sorry, I cannot help with that."


def test_cycle_is_found_and_repaired():
    cyclic = valid_explanation().replace('edge("n2", "n3", relation="causal")',
                                         'edge("n2", "n3", relation="causal")\nedge("n3", "n1", relation="causal")')
    with ScriptedServer(queue=[Reply(text=cyclic), Reply(text=valid_explanation())]) as srv:
        out = generate_for_record(RECORD, config(srv))
        assert "cycle" in srv.requests[1].body["messages"][-1]["content"]
    assert out.findings == []


def test_failed_explanation_call_yields_no_explanation(fast_backoff):
    with ScriptedServer(lambda body: Reply(status=500)) as srv:
        out = generate_for_record(RECORD, config(srv, mode="report-explain"))
    assert out.explanation is None
    assert any("report:" in e for e in out.fields["errors"]) and any("explanation:" in e for e in out.fields["errors"])


def test_json_schema_output_converts_to_the_same_model():
    answer = {"answer": "Gefitinib blocks EGFR and slows growth.",
              "steps": [{"action": "binds_to", "actor": "gefitinib", "target": "EGFR"},
                        {"action": "modulates_pathway_activity", "pathway": "MAPK signalling", "direction": "down"}],
              "outcome": {"action": "induces_phenotype", "source": "gefitinib", "phenotype": "reduced proliferation"}}
    with ScriptedServer(queue=[Reply(text="```json\n" + json.dumps(answer) + "\n```")]) as srv:
        out = generate_for_record(RECORD, config(srv, output_format="json"))
        sent = srv.requests[0].body["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"]["properties"]["outcome"]
    assert out.findings == []
    expl = out.explanation
    assert [n.action for n in expl.claims] == ["binds_to", "modulates_pathway_activity", "induces_phenotype"]
    assert [(e.source, e.target) for e in expl.edges] == [("n1", "n2"), ("n2", "n3")]
    assert expl.context == {"cell_type": "A549", "disease": "lung adenocarcinoma"}
    assert out.fields["text_form"].startswith("<answer>") and "binds_to(" in out.fields["text_form"]


def test_schema_enumerates_the_catalogue():
    from vcr_core.agents.structured import explanation_schema
    from vcr_core.formalism import MEASURABLE_OUTPUTS, catalogue

    schema = explanation_schema()
    step_actions = {b["properties"]["action"]["enum"][0] for b in schema["properties"]["steps"]["items"]["anyOf"]}
    outcome_actions = {b["properties"]["action"]["enum"][0] for b in schema["properties"]["outcome"]["anyOf"]}
    assert step_actions == set(catalogue()) - {"set_context"} and outcome_actions == set(MEASURABLE_OUTPUTS)
    bind = next(b for b in schema["properties"]["steps"]["items"]["anyOf"] if b["properties"]["action"]["enum"] == ["binds_to"])
    assert set(bind["required"]) == {"action", "actor", "target"}


def test_truncated_json_is_invalid_with_a_message():
    with ScriptedServer(lambda body: Reply(text='{"answer": "x", "steps": [{"action": "binds_to"')) as srv:
        out = generate_for_record(RECORD, config(srv, output_format="json"))
    assert out.explanation is not None and not out.explanation.claims  # kept (as invalid), not dropped
    assert "could not be read" in out.findings[0].message
    assert out.fields["raw_output"].startswith('{"answer"')


def test_tool_context_is_stored_even_when_tools_are_unavailable():
    with ScriptedServer(queue=[Reply(text=valid_explanation())]) as srv:
        cfg = config(srv)
        cfg.tools = ["wikipedia", "no-such-tool"]
        out = generate_for_record(RECORD, cfg)
    ctx = out.fields["tool_context"]
    assert set(ctx) == {"wikipedia", "no-such-tool"}
    assert ctx["no-such-tool"]["status"] == "error" and "unknown tool" in ctx["no-such-tool"]["error"]
    assert ctx["wikipedia"]["status"] in ("unavailable", "error", "ok", "empty", "timeout")
    assert out.findings == []  # the explanation is written all the same
