"""PubChem compound information from PUG REST, with a disk cache and an offline fallback from the
installed vocabularies.

Requests go through the shared HTTP client (``vcr_core.net.http``): one rate limit (5 requests/s,
PubChem's terms), one retry policy (429, 503 "server busy" and time-outs, with back-off), and no
retries against a host that cannot be reached (no DNS, refused), which is then not asked again for
a minute. Identifiers are POSTed as forms, as PubChem advises for names and SMILES with special
characters.

Output shape (as the original): ``{cid, name, smiles, chembl_id, inchikey, synonyms}`` plus
``source``; or ``{"error": ...}``. The common name is the first synonym without digits; the ChEMBL
id is the first synonym starting with ``CHEMBL``.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ..kernel.filecache import write_atomic
from ..kernel.settings import get_settings

API_BASE = "https://pubchem.ncbi.nlm.nih.gov/rest/pug"
MAX_PER_SECOND = 5.0
STATS = {"requests": 0}
PROPERTIES = "IUPACName,CanonicalSMILES,InChIKey"


def _client(timeout: float):
    from ..net.http import HttpClient

    return HttpClient(API_BASE, name="PubChem", timeout_s=timeout, retries=3, backoff_s=0.25, max_wait_s=4.0,
                      rate_per_s=MAX_PER_SECOND, cache_ttl_s=None, cache_not_found=())


def _cache_path(kind: str, key: str):
    d = get_settings().cache_dir / "pubchem"
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _ask(client, path: str, form: dict[str, Any]) -> Any | None:
    """POST one PUG REST question; the decoded JSON, or None when PubChem says 'not found'."""
    from ..net.http import HttpError

    STATS["requests"] += 1
    try:
        return client.post_form(path, form).json()
    except HttpError as exc:
        if exc.status == 404:
            return None
        raise


def summarise(cid: int, props: dict[str, Any], synonyms: list[str]) -> dict[str, Any]:
    """The original pipeline's pubchem_info from a CID, its properties and synonyms."""
    common = next((s for s in synonyms if not any(ch.isdigit() for ch in s)), None)
    chembl = next((s for s in synonyms if s.upper().startswith("CHEMBL")), None)
    return {"cid": cid, "name": common or props.get("IUPACName"), "smiles": props.get("CanonicalSMILES") or props.get("SMILES")
            or props.get("ConnectivitySMILES"), "chembl_id": chembl, "inchikey": props.get("InChIKey"),
            "synonyms": synonyms[:50], "source": "pubchem"}


def offline_info(name: str | None, smiles: str | None = None) -> dict[str, Any]:
    """What the installed vocabularies know about a compound (no network)."""
    from .grounding import ground
    hit = ground(name, "Chemical") if name else None
    if hit is None:
        return {"error": f"PubChem cannot be reached and {name or smiles!r} is not in the installed vocabularies",
                "source": "offline vocabulary"}
    return {"cid": None, "name": hit.canonical, "smiles": smiles, "chembl_id": None, "inchikey": None,
            "synonyms": [hit.canonical] + ([name] if name and name != hit.canonical else []),
            "drugbank_id": hit.identifier if hit.namespace == "DrugBank" else None, "source": "offline vocabulary"}


def _lookup(client, *, smiles: str | None, name: str | None) -> dict[str, Any]:
    kind, value = ("smiles", smiles) if smiles else ("name", name)
    found = _ask(client, f"compound/{kind}/cids/JSON", {kind: value}) or {}
    cids = [c for c in found.get("IdentifierList", {}).get("CID", []) if c]
    if not cids:
        return {"error": f"PubChem has no compound for {'SMILES ' + smiles if smiles else name!r}", "source": "pubchem"}
    cid = cids[0]
    props = (_ask(client, f"compound/cid/property/{PROPERTIES}/JSON", {"cid": cid}) or {})
    prop_rows = props.get("PropertyTable", {}).get("Properties") or [{}]
    syn = (_ask(client, "compound/cid/synonyms/JSON", {"cid": cid}) or {})
    info_rows = syn.get("InformationList", {}).get("Information") or [{}]
    return summarise(cid, prop_rows[0], info_rows[0].get("Synonym", []))


def compound_info(*, smiles: str | None = None, name: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
    """PubChem info for a SMILES (preferred) or a name; every answer cached on disk."""
    from ..net.http import HttpError, NetworkUnavailable

    if not smiles and not name:
        return {"error": "neither a SMILES nor a name to look up"}
    key = f"smiles:{smiles}" if smiles else f"name:{name.lower()}"
    path = _cache_path("compound", key)
    if path.exists():
        return json.loads(path.read_text())
    if get_settings().offline:
        return offline_info(name, smiles)
    client = _client(timeout)
    try:
        info = _lookup(client, smiles=smiles, name=name)
    except (NetworkUnavailable, HttpError, ValueError) as exc:  # unreachable, failing or garbled: fall back, say why
        info = offline_info(name, smiles)
        info["pubchem_error"] = str(exc) if isinstance(exc, (NetworkUnavailable, HttpError)) else f"PubChem answered non-JSON: {exc}"
        return info  # not cached: PubChem may answer next time
    finally:
        client.close()
    write_atomic(path, json.dumps(info))  # a reader in another process never sees half a file
    return info
