"""The domain core is pure: importing it pulls in neither the UI nor the storage layer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

EXPECTED_SUBMODULES = {
    "icp_tui.domain.calendar",
    "icp_tui.domain.errors",
    "icp_tui.domain.filing",
    "icp_tui.domain.provinces",
    "icp_tui.domain.sla",
    "icp_tui.domain.stages",
    "icp_tui.domain.transitions",
}
FORBIDDEN = ("textual", "tinydb", "icp_tui.store", "icp_tui.ui")

PROBE = """
import importlib, json, pkgutil, sys
import icp_tui.domain as domain
names = sorted(
    m.name for m in pkgutil.walk_packages(domain.__path__, prefix="icp_tui.domain.")
)
for name in names:
    importlib.import_module(name)
print(json.dumps({"submodules": names, "modules": sorted(sys.modules)}))
"""


def _probe() -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_domain_imports_neither_ui_nor_storage() -> None:
    result = _probe()
    assert set(result["submodules"]) >= EXPECTED_SUBMODULES
    modules = set(result["modules"])
    assert modules >= EXPECTED_SUBMODULES
    for forbidden in FORBIDDEN:
        leaked = sorted(m for m in modules if m == forbidden or m.startswith(forbidden + "."))
        assert not leaked, f"importing icp_tui.domain pulled in {leaked}"


def test_the_import_contracts_hold() -> None:
    """The contracts in pyproject.toml: a pure domain, and the layers."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
