"""The GO ontology (names, synonyms, relations) on a tiny GO.sqlite the test writes, the set-up step that
extracts the real file (with a stand-in apt-get), and the real file when present."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vcr_core.knowledge.go_ontology import (
    GoOntology,
    core,
    fold,
    get_go_ontology,
    go_ontology_status,
    reset_go_ontology,
)
from vcr_core.knowledge.testing import make_test_go_sqlite, use_test_go_ontology

BOOTSTRAP = Path(__file__).resolve().parents[2] / ".ci" / "bootstrap"


@pytest.fixture
def go(tmp_path) -> GoOntology:
    return GoOntology.load(make_test_go_sqlite(tmp_path / "GO.sqlite"))


def ids(terms):
    return [t.go_id for t in terms]


def test_fold_and_core():
    assert fold("NF-κB Signalling") == "nf-kappab signaling"
    assert fold("NFkB") == "nf-kappab" and fold("NF-kappa B") == "nf-kappab"
    assert core("MAPK / ERK signaling pathway") == "mapk/erk"
    assert core("PI3K/AKT signaling") == "pi3k/akt"


def test_names_models_write_map_to_go_terms(go):
    assert ids(go.match("apoptosis")) == ["GO:0006915"]  # the part 'execution phase' shares the synonym: the whole wins
    assert ids(go.match("Apoptotic process")) == ["GO:0006915"]
    assert ids(go.match("cell proliferation")) == ["GO:0008283"]
    assert ids(go.match("proliferation")) == ["GO:0008283"]  # hand alias
    assert ids(go.match("angiogenesis")) == ["GO:0001525"]
    assert ids(go.match("PI3K/AKT signaling")) == ["GO:0014065", "GO:0043491"]  # both halves
    assert ids(go.match("MAPK/ERK pathway")) == ["GO:0000165"]  # 'ERK' is a kind of MAPK cascade: the general term kept
    assert ids(go.match("ERK signaling")) == ["GO:0070371"]
    assert ids(go.match("PI3K-Akt pathway")) == ["GO:0014065", "GO:0043491"]  # hyphen parts, each a GO name
    assert ids(go.match("mTORC1 signaling")) == ["GO:0038202"]
    assert ids(go.match("NF-kB signaling")) == ["GO:0007249"]
    assert ids(go.match("NF-κB pathway")) == ["GO:0007249"]
    assert ids(go.match("GO:0001525")) == ["GO:0001525"]
    assert go.match("cell nucleus") == []  # a CC term: not a process
    assert ids(go.match("cell nucleus", aspects=("CC",))) == ["GO:0005634"]
    assert go.match("blorp signaling") == [] and go.match("") == []


def test_relations_ancestors_and_regulators(go):
    assert ("GO:0006915", "part_of") in go.parents("GO:0097194")
    assert ("GO:0006915", "positively_regulates") in go.parents("GO:0043065")
    assert {"GO:0012501", "GO:0009987", "GO:0008150"} <= go.ancestors("GO:0006915")
    assert "GO:0006915" in go.ancestors("GO:0097194")  # through part_of
    assert "GO:0097194" in go.descendants("GO:0006915")
    assert "GO:0043065" in go.regulators("GO:0006915", "positive")
    assert "GO:0043066" in go.regulators("GO:0006915", "negative")
    assert "GO:0043066" not in go.regulators("GO:0006915", "positive")
    assert go.regulators("GO:0006915", "sideways") == frozenset()


def test_effect_of_an_annotation_on_a_process(go):
    assert go.effect_on("GO:0043065", "GO:0006915") == {1}  # positive regulation of apoptotic process
    assert go.effect_on("GO:0043066", "GO:0006915") == {-1}
    assert go.effect_on("GO:0006915", "GO:0006915") == {1}  # the process itself
    assert go.effect_on("GO:0097194", "GO:0006915") == {1}  # a part of it
    assert go.effect_on("GO:0043065", "GO:0012501") == {1}  # through is_a of both
    assert go.effect_on("GO:0042981", "GO:0006915") == set()  # plain 'regulates': no direction
    assert go.effect_on("GO:0070374", "GO:0000165") == {1}  # regulating a kind of the process
    assert go.effect_on("GO:0008284", "GO:0006915") == set()  # unrelated


def test_status_names_the_file_or_says_unavailable(monkeypatch, tmp_path):
    from vcr_core.kernel.settings import get_settings

    monkeypatch.setenv("GO_ONTOLOGY_PATH", str(tmp_path / "missing.sqlite"))
    get_settings.cache_clear()
    reset_go_ontology()
    ok, why = go_ontology_status()
    assert not ok and why.startswith("GO ontology unavailable") and "bootstrap" in why
    assert get_go_ontology() is None
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not sqlite")
    monkeypatch.setenv("GO_ONTOLOGY_PATH", str(bad))
    get_settings.cache_clear()
    assert go_ontology_status()[0] is False and get_go_ontology() is None
    use_test_go_ontology(monkeypatch, tmp_path)
    ok, why = go_ontology_status()
    assert ok and "2022-07-01" in why
    first = get_go_ontology()
    assert first is get_go_ontology() and len(first) == 29
    assert (get_settings().cache_dir / "go_ontology.pickle").exists()
    reset_go_ontology()
    again = get_go_ontology()  # from the pickle
    assert again is not first and ids(again.match("apoptosis")) == ["GO:0006915"]
    reset_go_ontology()


def _fetch_function() -> str:
    text = BOOTSTRAP.read_text()
    start = text.index("fetch_go_ontology() {")
    return text[start:text.index("\n}\n", start) + 3]


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs Debian's dpkg-deb")
def test_bootstrap_extracts_go_sqlite_from_the_debian_package(tmp_path):
    pkg = tmp_path / "pkg"
    data = pkg / "usr/lib/R/site-library/GO.db/extdata"
    data.mkdir(parents=True)
    make_test_go_sqlite(data / "GO.sqlite")
    (pkg / "DEBIAN").mkdir()
    (pkg / "DEBIAN" / "control").write_text("Package: r-bioc-go.db\nVersion: 3.16.0-1\nArchitecture: all\n"
                                             "Maintainer: test <t@example.org>\nDescription: test package\n")
    deb = tmp_path / "r-bioc-go.db_3.16.0-1_all.deb"
    subprocess.run(["dpkg-deb", "-b", str(pkg), str(deb)], check=True, capture_output=True)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "apt-get").write_text(f'#!/bin/sh\ncase "$*" in *download*) cp {deb} . ;; esac\nexit 0\n')
    (bindir / "apt-cache").write_text("#!/bin/sh\nexit 0\n")
    for f in bindir.iterdir():
        f.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "GO_ONTOLOGY_PATH"}
    env["PATH"] = f"{bindir}:{os.environ['PATH']}"
    script = f"set -euo pipefail\nvenv={tmp_path / 'venv'}\n{_fetch_function()}\nfetch_go_ontology\necho done\n"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    target = tmp_path / "venv/share/vcr/GO.sqlite"
    assert out.returncode == 0 and "GO ontology:" in out.stdout, out.stderr
    assert ids(GoOntology.load(target).match("apoptosis")) == ["GO:0006915"]
    (bindir / "apt-get").write_text("#!/bin/sh\nexit 1\n")  # a failed download: a warning, not an error
    target.unlink()
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and "GO ontology unavailable" in out.stderr and not target.exists()


REAL = Path(os.environ.get("GO_ONTOLOGY_PATH") or Path(os.sys.prefix) / "share" / "vcr" / "GO.sqlite")


@pytest.mark.skipif(not REAL.exists(), reason="the real GO.sqlite is not installed (bash .ci/bootstrap setup)")
def test_real_file_maps_common_names():
    go = GoOntology.load(REAL)
    assert ids(go.match("PI3K/AKT signaling")) == ["GO:0014065", "GO:0043491"]
    assert ids(go.match("MAPK/ERK pathway")) == ["GO:0000165"]
    assert ids(go.match("mTORC1 signaling")) == ["GO:0038202"]
    assert ids(go.match("apoptosis")) == ["GO:0006915"]
    assert ids(go.match("angiogenesis")) == ["GO:0001525"]
    assert ids(go.match("cell proliferation")) == ["GO:0008283"]
    assert ids(go.match("NF-kB signaling")) == ["GO:0007249"]
    assert go.effect_on("GO:0043065", "GO:0006915") == {1} and go.effect_on("GO:0043066", "GO:0006915") == {-1}
