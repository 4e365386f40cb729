"""Merging a record's targets is linear: parse a record naming N and 2N targets (in three fields) and
print the time ratio (about 2 when linear, about 4 when quadratic), measured in one run.

    python bench/ingest_bench.py [--n 30000]
"""
from __future__ import annotations

import argparse
import time

from vcr_core.records.model import parse_records


def parse_seconds(n: int) -> float:
    targets = [f"T{i}" for i in range(n)]
    obj = {"index": 1, "perturbation": {"name": "x", "targets": targets, "known targets": targets[::-1],
                                          "target": ", ".join(targets)}}
    start = time.process_time()
    recs, problems = parse_records([obj])
    spent = time.process_time() - start
    assert not problems and len(recs[0].perturbation.targets) == n
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30000)
    n = ap.parse_args().n
    small, large = parse_seconds(n), parse_seconds(2 * n)
    print(f"targets={n}: {small:.3f} s CPU; targets={2 * n}: {large:.3f} s CPU; ratio={large / max(small, 1e-9):.2f}")


if __name__ == "__main__":
    main()
