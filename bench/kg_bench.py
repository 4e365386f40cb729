"""Knowledge-graph benchmark at PrimeKG's full size, in STaRK's file format.

Writes a synthetic graph (129,375 nodes, 8,100,498 directed edges, 10 node types, 18 relations,
power-law degrees with hubs of degree >= 10,000), then measures: cold load (parse + CSR build),
resident memory, entity match, the one-hop document of a hub, a subgraph for 5 matched nodes, and
the original approach (whole graph to networkx, then shortest paths) in the same run.
Last line: JSON with load_s, rss_gb, match_p50_ms, onehop_p50_ms, subgraph_p50_ms, networkx_subgraph_ratio.

    .venv/bin/python bench/kg_bench.py [--workdir DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N, E = 129_375, 8_100_498
TYPES = ["disease", "gene/protein", "molecular_function", "drug", "pathway", "anatomy", "effect/phenotype",
         "biological_process", "cellular_component", "exposure"]
RELS = ["ppi", "carrier", "enzyme", "target", "transporter", "contraindication", "indication", "off-label use",
        "synergistic interaction", "associated with", "parent-child", "phenotype absent", "phenotype present",
        "side effect", "interacts with", "linked to", "expression present", "expression absent"]


def rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def write_stark(d: Path, seed: int = 0) -> None:
    import torch
    rng = np.random.default_rng(seed)
    half = E // 2
    weights = 1.0 / np.arange(1, N + 1) ** 0.9  # power-law: a few hubs, a long tail
    weights /= weights.sum()
    a = rng.choice(N, size=half, p=weights)
    b = rng.integers(0, N, size=half)
    keep = a != b
    a, b = a[keep], b[keep]
    extra = half - len(a)
    a = np.concatenate([a, rng.integers(0, N, extra)])
    b = np.concatenate([b, (a[-extra:] + 1) % N]) if extra else b
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    rel = rng.integers(0, len(RELS), size=half)
    torch.save(torch.from_numpy(np.stack([src, dst])), d / "edge_index.pt")
    torch.save(torch.from_numpy(np.concatenate([rel, rel])), d / "edge_types.pt")
    ntype = rng.integers(0, len(TYPES), size=N)
    torch.save(torch.from_numpy(ntype), d / "node_types.pt")
    (d / "edge_type_dict.pkl").write_bytes(pickle.dumps(dict(enumerate(RELS))))
    (d / "node_type_dict.pkl").write_bytes(pickle.dumps(dict(enumerate(TYPES))))
    info = {i: {"id": str(i), "type": TYPES[ntype[i]], "name": f"entity {i}", "source": "synthetic",
                "details": {"alias": [f"ALIAS{i}"]} if ntype[i] == 1 else {}} for i in range(N)}
    (d / "node_info.pkl").write_bytes(pickle.dumps(info, protocol=pickle.HIGHEST_PROTOCOL))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    work = Path(args.workdir or tempfile.mkdtemp(prefix="kgbench-"))
    os.environ["VCR_HOME"] = str(work / "home")
    stark = work / "stark"
    stark.mkdir(parents=True, exist_ok=True)
    if not (stark / "node_info.pkl").exists():
        t = time.perf_counter()
        write_stark(stark)
        print(f"wrote the synthetic STaRK directory in {time.perf_counter() - t:.1f} s")
    from vcr_core.tools.kg import Matcher, load_stark
    t = time.perf_counter()
    g = load_stark(stark)  # cold: parses the STaRK files and builds the CSR arrays
    cold = time.perf_counter() - t
    t = time.perf_counter()
    g = load_stark(stark)  # from the binary cache
    cached = time.perf_counter() - t
    m = Matcher(g)
    rss = rss_gb()
    degrees = np.diff(g.indptr)
    hub = int(np.argmax(degrees))
    rng = np.random.default_rng(1)
    names = [f"entity {int(i)}" for i in rng.integers(0, N, 200)] + [f"ALIAS{int(i)}" for i in np.where(g.node_type == 1)[0][:100]]
    times = []
    for n in names:
        s = time.perf_counter()
        m.lookup(n)
        times.append((time.perf_counter() - s) * 1000)
    match_p50 = statistics.median(times)
    from vcr_core.tools.kg import set_graph
    from vcr_core.tools.kg.tool import _node_doc
    from vcr_core.tools.kg.match import NodeMatch
    set_graph(g, m)
    hubs = np.argsort(-degrees)[:20]
    times = []
    for h in hubs:
        s = time.perf_counter()
        _node_doc(g, NodeMatch(int(h), g.names[h], g.type_of(h), "synthetic", "exact", 1.0), True)
        times.append((time.perf_counter() - s) * 1000)
    onehop_p50 = statistics.median(times)
    sets = [rng.integers(0, N, 5).tolist() for _ in range(10)]
    times = []
    for terms in sets:
        s = time.perf_counter()
        g.steiner_subgraph(terms)
        times.append((time.perf_counter() - s) * 1000)
    sub_p50 = statistics.median(times)
    # The original approach: the whole graph into networkx, then shortest paths between the nodes.
    import networkx as nx
    t = time.perf_counter()
    src = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    G = nx.Graph()
    G.add_edges_from(zip(src.tolist(), g.nbr.tolist()))
    convert = time.perf_counter() - t
    times = []
    for terms in sets[:3]:
        s = time.perf_counter()
        for k in range(1, len(terms)):
            try:
                nx.shortest_path(G, terms[0], terms[k])
            except nx.NetworkXNoPath:
                pass
        times.append(time.perf_counter() - s)
    nx_per_subgraph = convert + statistics.median(times)
    print(f"cold load {cold:.2f} s (cached {cached:.2f} s), RSS {rss:.2f} GB, hub degree {int(degrees[hub]):,}, "
          f"networkx conversion {convert:.1f} s + paths {statistics.median(times) * 1000:.0f} ms")
    print(json.dumps({"load_s": round(cold, 3), "cached_load_s": round(cached, 3), "rss_gb": round(rss, 3),
                      "match_p50_ms": round(match_p50, 4), "onehop_p50_ms": round(onehop_p50, 3),
                      "subgraph_p50_ms": round(sub_p50, 3), "networkx_subgraph_ratio": round(nx_per_subgraph * 1000 / sub_p50, 1)}))


if __name__ == "__main__":
    main()
