"""The architecture as a test: vcr_core's packages are layers and imports only run down.

ARCHITECTURE.md draws these layers; this test is its guarantee. Every import counts, the ones inside
functions included (a lazy import hides a dependency, it does not remove it).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "vcr_core"

# Bottom to top. A package may import its own modules and any package of a LOWER layer; packages of
# one layer are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("kernel",),                 # settings, registry, statuses, redaction, safe text, cache files, vocabularies
    ("formalism", "records"),    # the action-graph formalism; input records (model, strict JSON, identity)
    ("store", "viz"),            # tables, engine, migrations; action graph -> HTML
    ("net",),                    # the one HTTP client and retry policy (shared rate limits live in store)
    ("knowledge",),              # offline knowledge: genes, GO, the process-wide knowledge cache
    ("tools", "llm"),            # context tools; model calls
    ("jobs",),                   # queue, leases, worker, supervisor, the executor loop: no feature
    ("preprocess",),             # NER and PubChem
    ("agents",),                 # report and explanation agents, the knowledge assembler
    ("verify",),                 # verifiers, runner, filter policy
    ("curation",),               # judgment log and consensus, queues and leases, read models, agreement
    ("files",),                  # files in and out: ingest, importers, archive, exporters
    ("generation",),             # runs of records into traces (the generate job)
    ("system",),                 # the system's status report
    ("cli",),                    # the vcr command and its command groups
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
MAX_ROOT_MODULES = 5


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in CORE.rglob("*.py")}


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The vcr_core modules that ``name`` imports, anywhere in the file."""
    found: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def test_every_package_has_a_layer():
    packages = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - set(RANK) == set(), "a new package needs a place in LAYERS (and in ARCHITECTURE.md)"
    assert set(RANK) - packages == set(), "LAYERS names a package that no longer exists"


def test_few_modules_at_the_root():
    loose = sorted(p.name for p in CORE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_ROOT_MODULES, f"modules belong in a layer's package, not the root: {loose}"


def test_imports_only_run_down(graph):
    wrong = []
    for src, targets in graph.items():
        sp = _package(src)
        for dst in targets:
            dp = _package(dst)
            if sp is None or dp is None or sp == dp:
                continue
            if RANK[dp] >= RANK[sp]:
                wrong.append(f"{src} -> {dst} ({sp} is layer {RANK[sp]}, {dp} is layer {RANK[dp]})")
    assert not wrong, "imports must run down the layers:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle_between_files(graph):
    import networkx as nx

    g = nx.DiGraph((a, b) for a, bs in graph.items() for b in bs)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, "import cycles between files:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])


def test_migrations_import_no_feature_code(graph):
    """A migration computes with a frozen copy of what it needs: later code may change its meaning."""
    wrong = {src: sorted(t for t in targets if _package(t) not in ("store", "kernel"))
             for src, targets in graph.items() if ".migrations." in src}
    assert not {k: v for k, v in wrong.items() if v}


def test_kernel_imports_nothing_else(graph):
    wrong = {src: sorted(t for t in targets if _package(t) != "kernel")
             for src, targets in graph.items() if _package(src) == "kernel"}
    assert not {k: v for k, v in wrong.items() if v}


def test_pages_hold_no_sql():
    """Pages stay thin: their queries are read models in vcr_core, so no page imports the SQL toolkits."""
    wrong = []
    for page in [*(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(page.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            wrong += [f"{page.name}: {n}" for n in names if n.split(".")[0] in ("sqlmodel", "sqlalchemy")]
    assert not wrong, wrong
