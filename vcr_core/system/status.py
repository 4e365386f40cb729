"""What is configured, what is missing, and what to do about it (the Status page and `vcr status`)."""
from __future__ import annotations

from dataclasses import dataclass

from ..kernel.settings import get_settings


@dataclass
class Part:
    """One part of the set-up: its name, whether it works, what is in use, and what to do if not."""

    name: str
    ok: bool
    detail: str
    todo: str = ""


# What a user can do when a tool is unavailable; the tool's own reason says why.
TOOL_TODO = {
    "kg-ner": "set STARK_PRIMEKG_DIR (a STaRK PrimeKG directory) or PRIMEKG_CSV (PrimeKG's kg.csv); "
              "without either, `vcr kg build-starter` builds the embedded starter graph",
    "pubmed-fast-ner": "any one of: PUBMED_SERVER_URL (a running /find_matches server); PUBMED_INDEX_DIR and "
                       "PUBMED_DB (an index from `vcr pubmed build-index`); or internet access for NCBI E-utilities "
                       "(NCBI_API_KEY raises the rate limit)",
    "harmonizome": "needs internet access to maayanlab.cloud (and OFFLINE unset); runs go on without it",
    "wikipedia": "needs internet access to en.wikipedia.org (and OFFLINE unset); runs go on without it",
}
TOOL_TODO["kg-ner-subgraph"] = TOOL_TODO["kg-ner"]


def status_report() -> list[Part]:
    """Every part of the set-up, in the order a newcomer should read them (never shows a key)."""
    from ..store import get_engine, redact_url, schema_revision

    s = get_settings()
    parts: list[Part] = []
    try:
        engine = get_engine()
        parts.append(Part("Database", True, f"{redact_url(s.resolved_database_url)} (schema {schema_revision(engine)})"))
    except Exception as exc:  # noqa: BLE001 - shown to the user
        parts.append(Part("Database", False, f"cannot open {redact_url(s.resolved_database_url)}: {exc}",
                          "set DATABASE_URL to a writable SQLite path or a reachable server"))
    try:
        from ..tools import tool_statuses
        for name, st in tool_statuses().items():
            parts.append(Part(f"Tool {name}", st.available, st.detail or ("available" if st.available else st.reason or "unavailable"),
                              "" if st.available else TOOL_TODO.get(name, st.reason or "")))
    except Exception as exc:  # noqa: BLE001
        parts.append(Part("Tools", False, f"could not list tools: {exc}"))
    try:
        from ..knowledge.orgdb import orgdb_status
        ok, message = orgdb_status()
        parts.append(Part("GO annotations", ok, message, "" if ok else
                          "run `bash .ci/bootstrap setup` (extracts org.Hs.eg.sqlite from Debian's r-bioc-org.hs.eg.db) "
                          "or set ORGDB_PATH; the go verifier says 'unavailable' until then"))
    except Exception as exc:  # noqa: BLE001
        parts.append(Part("GO annotations", False, f"GO annotations unavailable: {exc}"))
    try:
        from ..knowledge.go_ontology import go_ontology_status
        ok, message = go_ontology_status()
        parts.append(Part("GO ontology", ok, message, "" if ok else
                          "run `bash .ci/bootstrap setup` (extracts GO.sqlite from Debian's r-bioc-go.db) or set "
                          "GO_ONTOLOGY_PATH; pathway and process claims stay unverifiable until then"))
    except Exception as exc:  # noqa: BLE001
        parts.append(Part("GO ontology", False, f"GO ontology unavailable: {exc}"))
    parts.append(Part("NER backend", True, s.ner_backend,
                      "" if s.ner_backend == "dictionary" else f"needs the flair model {s.hunflair2_model} (HUNFLAIR2_MODEL)"))
    keys = s.provider_keys()
    present = [p for p, ok in keys.items() if ok]
    parts.append(Part("Model providers", bool(present), ", ".join(f"{p}: key present" for p in present) or "no API key set",
                      "" if present else "set ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY for real answers; "
                                         "until then explanations are assembled from knowledge bases (no model)"))
    try:
        from ..llm import local_status
        st = local_status()
        parts.append(Part("Embedded local model (optional)", st.installed, st.message,
                          "" if st.installed else "optional: install it from this page or with `vcr local-model install`"))
    except Exception as exc:  # noqa: BLE001
        parts.append(Part("Embedded local model (optional)", False, f"not usable: {exc}", "`vcr local-model install`"))
    try:
        from ..jobs.supervisor import worker_state, worker_summary
        ok, detail, todo = worker_summary(worker_state())
        parts.append(Part("Job worker", ok, detail, todo))
    except Exception as exc:  # noqa: BLE001 - shown to the user
        parts.append(Part("Job worker", False, f"unknown: {exc}"))
    parts.append(Part("Network", not s.offline, "offline (OFFLINE=true): web tools are skipped" if s.offline else "OFFLINE unset: web tools are tried"))
    return parts


def in_use() -> dict[str, str]:
    """Which database, graph and default model this app uses (never a key or a password)."""
    from ..store import redact_url

    s = get_settings()
    out = {"Database": redact_url(s.resolved_database_url)}
    # Read from the settings, as the graph tool does: loading the graph only to name it would be slow.
    if s.stark_primekg_dir:
        out["Graph"] = f"PrimeKG (STaRK) · {s.stark_primekg_dir}"
    elif s.primekg_csv:
        out["Graph"] = f"PrimeKG kg.csv · {s.primekg_csv}"
    else:
        out["Graph"] = "starter graph (from installed vocabularies)"
    try:
        from ..llm import resolve_model
        choice = resolve_model()
        out["Model"] = (f"{choice.model} (embedded tiny local model)" if choice.is_local else
                        "assembled from knowledge (no model; no API key set)" if choice.is_knowledge else
                        f"{choice.model} ({choice.provider})")
    except (ImportError, ValueError) as exc:
        out["Model"] = f"none usable ({exc})"
    return out


def settings_for_display() -> dict[str, str]:
    """Every setting as text for the Status page: keys only as set / not set, URLs without passwords."""
    import re

    from ..store import redact_url

    out: dict[str, str] = {}
    for key, value in get_settings().model_dump().items():
        if key.endswith("api_key"):
            out[key] = "set" if value else "not set"
        elif key == "database_url" and value:
            out[key] = redact_url(str(value))
        else:
            out[key] = re.sub(r"//[^/@\s]+@", "//", str(value))  # any user:password@ in other URLs
    return out
