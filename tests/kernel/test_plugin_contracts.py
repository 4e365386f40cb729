"""Each plug-in group has one contract (kernel/registry.CONTRACTS), documented in ARCHITECTURE.md,
and every registered plug-in of the group keeps it."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from vcr_core.kernel import registry

ARCHITECTURE = (Path(__file__).resolve().parents[2] / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _contract_rows() -> dict[str, str]:
    """The rows of ARCHITECTURE.md's plug-in contract table, by group."""
    section = ARCHITECTURE.split("## Plug-in contracts", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`vcr."):
            rows[cells[0].strip("`")] = line
    return rows


def test_every_group_is_documented_with_its_members():
    rows = _contract_rows()
    assert set(rows) == set(registry.GROUPS)
    for group, (_what, required, optional) in registry.CONTRACTS.items():
        for member in (*required, *optional):
            assert f"`{member}" in rows[group], f"ARCHITECTURE.md's {group} row does not name `{member}`"


@pytest.mark.parametrize("group", registry.GROUPS)
def test_every_registered_plugin_keeps_its_contract(group):
    _what, required, _optional = registry.CONTRACTS[group]
    plugins = registry.load_all(group)
    assert plugins, f"no {group} plug-in is registered (is the project installed?)"
    for name, obj in plugins.items():
        if group == registry.JOBS:
            params = list(inspect.signature(obj).parameters)
            assert params[:2] == list(required), f"job {name}: handler(job_id, engine, ...) expected, got {params}"
        elif group == registry.COMMANDS:  # the entry point names the register function itself
            assert obj.__name__ == "register" and len(inspect.signature(obj).parameters) == 1, name
        elif group == registry.TOOLS:
            tool = obj()
            missing = [m for m in required if not hasattr(tool, m)]
            assert not missing, f"tool {name} lacks {missing}"
        else:
            missing = [m for m in required if not hasattr(obj, m)]
            assert not missing, f"{group} {name} lacks {missing}"
