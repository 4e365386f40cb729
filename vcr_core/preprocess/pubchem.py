"""PubChem compound information through pubchempy, with a disk cache, a rate limit, retries and an
offline fallback from the installed vocabularies.

Output shape (as the original): ``{cid, name, smiles, chembl_id, inchikey, synonyms}`` plus
``source``; or ``{"error": ...}``. The common name is the first synonym without digits; the ChEMBL
id is the first synonym starting with ``CHEMBL``.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from ..settings import get_settings

MAX_PER_SECOND = 5.0
_LOCK = threading.Lock()
_LAST = [0.0]
STATS = {"requests": 0}
# After a connection failure (no DNS, refused) PubChem is not asked again for this long: a batch
# without network then falls back at once instead of waiting through retries for every record.
DOWN_FOR_S = 60.0
_DOWN = {"until": 0.0, "why": ""}


def _unreachable(exc: BaseException) -> bool:
    """True for failures that a retry a second later will not fix (no DNS, connection refused)."""
    import socket
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, (socket.gaierror, ConnectionRefusedError))


def _throttle() -> None:
    with _LOCK:
        wait = _LAST[0] + 1.0 / MAX_PER_SECOND - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _LAST[0] = time.monotonic()


def _cache_path(kind: str, key: str):
    d = get_settings().cache_dir / "pubchem"
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _call(fn, *args, retries: int = 3, **kwargs):
    import pubchempy as pcp

    for attempt in range(retries + 1):
        _throttle()
        STATS["requests"] += 1
        try:
            return fn(*args, **kwargs)
        except pcp.NotFoundError:
            return None
        except (pcp.ServerError, pcp.TimeoutError, OSError) as exc:  # 503, time-outs, connection errors
            if attempt == retries or _unreachable(exc):
                raise
            time.sleep(min(4.0, 0.25 * 2 ** attempt))
        except pcp.PubChemHTTPError as exc:
            if "503" in str(exc) or "Busy" in str(exc) or "429" in str(exc):
                if attempt == retries:
                    raise
                time.sleep(min(4.0, 0.25 * 2 ** attempt))
            else:
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
    from . import ground
    hit = ground(name, "Chemical") if name else None
    if hit is None:
        return {"error": f"PubChem cannot be reached and {name or smiles!r} is not in the installed vocabularies",
                "source": "offline vocabulary"}
    return {"cid": None, "name": hit.canonical, "smiles": smiles, "chembl_id": None, "inchikey": None,
            "synonyms": [hit.canonical] + ([name] if name and name != hit.canonical else []),
            "drugbank_id": hit.identifier if hit.namespace == "DrugBank" else None, "source": "offline vocabulary"}


def compound_info(*, smiles: str | None = None, name: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
    """PubChem info for a SMILES (preferred) or a name; every answer cached on disk."""
    if not smiles and not name:
        return {"error": "neither a SMILES nor a name to look up"}
    key = f"smiles:{smiles}" if smiles else f"name:{name.lower()}"
    path = _cache_path("compound", key)
    if path.exists():
        return json.loads(path.read_text())
    if get_settings().offline:
        return offline_info(name, smiles)
    if time.monotonic() < _DOWN["until"]:
        return {**offline_info(name, smiles), "pubchem_error": _DOWN["why"]}
    import pubchempy as pcp
    import socket
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        cids = _call(pcp.get_cids, smiles, "smiles") if smiles else _call(pcp.get_cids, name, "name")
        cids = [c for c in (cids or []) if c]
        if not cids:
            info = {"error": f"PubChem has no compound for {'SMILES ' + smiles if smiles else name!r}", "source": "pubchem"}
        else:
            props = (_call(pcp.get_properties, ["IUPACName", "CanonicalSMILES", "InChIKey"], cids[0], "cid") or [{}])[0]
            syn = _call(pcp.get_synonyms, cids[0], "cid") or [{}]
            info = summarise(cids[0], props, syn[0].get("Synonym", []) if syn else [])
    except Exception as exc:  # noqa: BLE001 - unreachable or failing PubChem: fall back, say why
        info = offline_info(name, smiles)
        info["pubchem_error"] = f"{type(exc).__name__}: {exc}"
        if _unreachable(exc):
            _DOWN.update(until=time.monotonic() + DOWN_FOR_S, why=f"PubChem unreachable ({exc}); asked again after {DOWN_FOR_S:.0f} s")
        return info  # not cached: PubChem may answer next time
    finally:
        socket.setdefaulttimeout(old)
    path.write_text(json.dumps(info))
    return info
