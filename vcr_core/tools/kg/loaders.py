"""Loaders for PrimeKG as distributed: a STaRK PrimeKG directory, or PrimeKG's ``kg.csv``.

Both become a :class:`CompactGraph`, cached in ``VCR_HOME/cache/kg/`` keyed by the source files'
sizes and modification times, so only the first load parses the originals.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np

from ...kernel.settings import get_settings
from .graph import CompactGraph


class GraphUnavailable(RuntimeError):
    """The configured graph cannot be loaded; the message says why and what to do."""


def _cache_key(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:20]


def _cached(paths: list[Path], build) -> CompactGraph:
    return CompactGraph.cached(get_settings().cache_dir / "kg" / _cache_key(paths), build)


def _load_pickle_or_json(directory: Path, stem: str):
    if (directory / f"{stem}.pkl").exists():
        with open(directory / f"{stem}.pkl", "rb") as fh:
            return pickle.load(fh)
    if (directory / f"{stem}.json").exists():
        return json.loads((directory / f"{stem}.json").read_text())
    raise GraphUnavailable(f"{directory} has no {stem}.pkl or {stem}.json: not a STaRK PrimeKG directory")


def load_stark(directory: str | Path) -> CompactGraph:
    """A STaRK PrimeKG directory: edge_index.pt, edge_types.pt, node_types.pt, *_dict.pkl, node_info."""
    d = Path(directory)
    needed = ["edge_index.pt", "edge_types.pt", "node_types.pt"]
    missing = [n for n in needed if not (d / n).exists()]
    if not d.is_dir() or missing:
        raise GraphUnavailable(f"STARK_PRIMEKG_DIR={d} is missing {', '.join(missing) or 'the directory'}")
    files = [d / n for n in needed] + sorted(p for p in d.iterdir() if p.name.startswith("node_info"))

    def build() -> CompactGraph:
        import torch

        edge_index = torch.load(d / "edge_index.pt", weights_only=True).numpy()
        edge_types = torch.load(d / "edge_types.pt", weights_only=True).numpy()
        node_types = torch.load(d / "node_types.pt", weights_only=True).numpy()
        rel_dict = _load_pickle_or_json(d, "edge_type_dict")
        type_dict = _load_pickle_or_json(d, "node_type_dict")
        info = _load_pickle_or_json(d, "node_info")
        n = len(node_types)
        rel_names = [str(rel_dict[k]) for k in sorted(rel_dict, key=int)]
        type_names = [str(type_dict[k]) for k in sorted(type_dict, key=int)]
        get = (lambda i: info.get(i) or info.get(str(i)) or {}) if isinstance(info, dict) else (lambda i: info[i])
        nodes = [get(i) for i in range(n)]
        return CompactGraph.from_edges(
            [str(x.get("name", "")) for x in nodes], node_types, type_names, edge_index[0], edge_index[1], edge_types, rel_names,
            sources=[str(x.get("source", "")) for x in nodes], ids=[str(x.get("id", "")) for x in nodes],
            details=[x.get("details") for x in nodes], origin=f"STaRK PrimeKG directory {d}")

    return _cached(files, build)


def load_kg_csv(path: str | Path) -> CompactGraph:
    """PrimeKG's kg.csv (x_index, x_id, x_type, x_name, x_source, relation, display_relation, y_...)."""
    p = Path(path)
    if not p.is_file():
        raise GraphUnavailable(f"PRIMEKG_CSV={p} does not exist")

    def build() -> CompactGraph:
        import pandas as pd

        df = pd.read_csv(p, low_memory=False, dtype={"x_id": str, "y_id": str})
        cols = {"x_index", "y_index", "relation", "x_name", "y_name", "x_type", "y_type"}
        if not cols <= set(df.columns):
            raise GraphUnavailable(f"{p.name} lacks PrimeKG columns: {', '.join(sorted(cols - set(df.columns)))}")
        n = int(max(df.x_index.max(), df.y_index.max())) + 1
        names, ntype, src_, ids = [""] * n, [""] * n, [""] * n, [""] * n
        for side in ("x", "y"):
            sub = df.drop_duplicates(f"{side}_index")
            for i, name, t, s, ident in zip(sub[f"{side}_index"], sub[f"{side}_name"], sub[f"{side}_type"],
                                            sub.get(f"{side}_source", [""] * len(sub)), sub.get(f"{side}_id", [""] * len(sub))):
                names[i], ntype[i], src_[i], ids[i] = str(name), str(t), str(s), str(ident)
        type_names = sorted(set(ntype))
        tindex = {t: k for k, t in enumerate(type_names)}
        rel_col = "display_relation" if "display_relation" in df.columns else "relation"
        rel_names = sorted(df[rel_col].astype(str).unique())
        rindex = {r: k for k, r in enumerate(rel_names)}
        # kg.csv lists each undirected edge in both directions already.
        return CompactGraph.from_edges(names, np.array([tindex[t] for t in ntype]), type_names, df.x_index.to_numpy(),
                                       df.y_index.to_numpy(), df[rel_col].astype(str).map(rindex).to_numpy(), rel_names,
                                       sources=src_, ids=ids, origin=f"PrimeKG kg.csv {p}")

    return _cached([p], build)
