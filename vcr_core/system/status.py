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


def _knowledge_part(label: str, status, todo: str) -> "Part":
    """One installed knowledge file's line: its status function's (ok, message), or its error in words."""
    try:
        ok, message = status()
    except Exception as exc:  # noqa: BLE001 - shown to the user
        return Part(label, False, f"{label} unavailable: {exc}", todo)
    return Part(label, ok, message, "" if ok else todo)


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
    from ..knowledge.go_ontology import go_ontology_status
    from ..knowledge.orgdb import orgdb_status
    parts.append(_knowledge_part("GO annotations", orgdb_status,
                                 "run `bash .ci/bootstrap setup` (extracts org.Hs.eg.sqlite from Debian's r-bioc-org.hs.eg.db) "
                                 "or set ORGDB_PATH; the go verifier says 'unavailable' until then"))
    parts.append(_knowledge_part("GO ontology", go_ontology_status,
                                 "run `bash .ci/bootstrap setup` (extracts GO.sqlite from Debian's r-bioc-go.db) or set "
                                 "GO_ONTOLOGY_PATH; pathway and process claims stay unverifiable until then"))
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
    parts.append(drug_target_part())
    parts.append(network_part())
    return parts


def drug_target_part() -> Part:
    """Whether the graph has drug -> target edges, and what to set to get them."""
    s = get_settings()
    have = [f"{name} ({path})" for name, path in (("STARK_PRIMEKG_DIR", s.stark_primekg_dir), ("PRIMEKG_CSV", s.primekg_csv),
                                                   ("DRUGBANK_XML_PATH", s.drugbank_xml_path)) if path]
    graph = bool(s.stark_primekg_dir or s.primekg_csv)
    detail = ("from " + ", ".join(have)) if have else (
        "none: the embedded starter graph has drug names and ChEBI roles but no drug-target edges, so a drug named "
        "without its targets is explained only from its roles (an inference from a class), or not at all")
    return Part("Drug-target edges", graph, detail, "" if graph else DRUG_TARGET_TODO)


DRUG_TARGET_TODO = ("set STARK_PRIMEKG_DIR (a STaRK PrimeKG directory) or PRIMEKG_CSV (PrimeKG's kg.csv): PrimeKG adds "
                    "drug-protein target edges (from DrugBank and other sources) for every drug it knows, so drugs named "
                    "without targets get their targets; and DRUGBANK_XML_PATH (DrugBank's full database XML, a free "
                    "academic licence): drugs matched by DrugBank id, name and synonym")

# Hosts the web tools and verifiers call (tools/http.py): the network is "reachable" when one answers.
NETWORK_HOSTS = ("eutils.ncbi.nlm.nih.gov", "pubchem.ncbi.nlm.nih.gov", "maayanlab.cloud", "en.wikipedia.org")
_NET_CACHE: dict[str, tuple[float, list[str]]] = {}
NETWORK_CACHE_S = 60.0


def _reachable(hosts: tuple[str, ...], timeout_s: float = 2.0) -> list[str]:
    """The hosts that accept a TCP connection on port 443 within ``timeout_s`` (checked in parallel)."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    def ok(host: str) -> bool:
        try:
            socket.create_connection((host, 443), timeout=timeout_s).close()
            return True
        except OSError:
            return False

    with ThreadPoolExecutor(max_workers=len(hosts) or 1) as pool:
        return [h for h, up in zip(hosts, pool.map(ok, hosts)) if up]


def network_part(probe=None) -> Part:
    """The truth about the network: OFFLINE set, or which of the services the tools use answer (checked,
    at most once a minute; ``probe(hosts) -> reachable hosts`` replaces the check in tests)."""
    import time

    s = get_settings()
    if s.offline:
        return Part("Network", False, "offline (OFFLINE=true): PubChem, PubMed E-utilities, Harmonizome and Wikipedia "
                    "are not called", "unset OFFLINE to use the web tools and web verifiers (runs go on without them)")
    cached = _NET_CACHE.get("hosts")
    if probe is None and cached and time.monotonic() - cached[0] < NETWORK_CACHE_S:
        up = cached[1]
    else:
        up = (probe or _reachable)(NETWORK_HOSTS)
        if probe is None:
            _NET_CACHE["hosts"] = (time.monotonic(), up)
    if not up:
        return Part("Network", False, f"no service answers (tried {', '.join(NETWORK_HOSTS)}): the web tools will fail "
                    "and runs go on without them", "check the internet connection or proxy; set OFFLINE=true to skip the "
                    "web tools without trying")
    down = [h for h in NETWORK_HOSTS if h not in up]
    return Part("Network", True, f"reachable: {', '.join(up)}" + (f"; not answering: {', '.join(down)}" if down else ""))


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
