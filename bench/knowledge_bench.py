"""Speed of the offline evidence verifiers (go, record) on the real org.Hs.eg.db: cold start (files
loaded once per process) and warm claims per second. Last line: one JSON object.

Usage: .venv/bin/python bench/knowledge_bench.py   (needs the file `bash .ci/bootstrap setup` extracts)
"""
from __future__ import annotations

import json
import sys
import time

from vcr_core.formalism import Explanation, Node
from vcr_core.knowledge.orgdb import get_orgdb, orgdb_status
from vcr_core.records.model import parse_records
from vcr_core.verify.base import ClaimContext
from vcr_core.verify.go import GoVerifier
from vcr_core.verify.record import RecordVerifier

GENES = ["TP53", "KDR", "RELA", "MAPK1", "EGFR", "MYC", "CDKN1A", "BCL2", "CASP3", "AKT1", "MTOR", "STAT3", "JAK2",
         "ERK1/2", "p38 MAPK", "beta-catenin", "VEGFR2", "HDAC1", "NOTAGENE9"]
PROCESSES = ["apoptosis", "angiogenesis", "cell migration", "GO:0006915", "MAPK cascade", "autophagy", "inflammatory response"]
LOCATIONS = ["nucleus", "cytoplasm", "plasma membrane", "mitochondrion"]


def main() -> None:
    ok, why = orgdb_status()
    if not ok:
        print(why, file=sys.stderr)
        sys.exit(1)
    record = parse_records([{"index": "t1", "perturbation": {"context": [{"cell type": "HUVEC"}], "perturbations": [
        {"perturbation type": "chemical", "name": "nintedanib", "known targets": ["KDR", "FLT1", "FGFR1", "PDGFRB"],
         "moa_type": "inhibitor"}]}}])[0][0]

    def ctx(action, **args):
        node = Node(id="n1", action=action, args=args)
        return ClaimContext(node=node, explanation=Explanation(nodes=[node]), record=record)

    t0 = time.perf_counter()
    verifiers = {"go": GoVerifier(get_orgdb()), "record": RecordVerifier()}
    claims = []
    for g in GENES:
        claims += [("go", ctx("participates_in", entity=g, ontology_id=p)) for p in PROCESSES]
        claims += [("go", ctx("localises_to", entity=g, from_loc="cytoplasm", to_loc=loc)) for loc in LOCATIONS]
        claims += [("record", ctx("binds_to", actor="nintedanib", target=g)),
                   ("record", ctx("modulates_molecule_activity", target=g, direction="down"))]
    verdicts = [verifiers[k].verify(c).verdict for k, c in claims]
    cold = time.perf_counter() - t0
    t1 = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        for k, c in claims:
            verifiers[k].verify(c)
    warm = (time.perf_counter() - t1) / rounds
    print(json.dumps({"claims": len(claims), "cold_s": round(cold, 2), "warm_claims_per_s": round(len(claims) / warm),
                      "supported": verdicts.count("supported"), "contradicted": verdicts.count("contradicted"),
                      "unverifiable": verdicts.count("unverifiable")}))


if __name__ == "__main__":
    main()
