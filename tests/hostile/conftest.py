"""Fixtures of the hostile-input tests (helpers live in hostile_helpers.py, a unique name)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for folder in (REPO_ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from icp_tui.config import Reference, Settings, load_reference  # noqa: E402


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The project's data files (provinces, holidays, mailing address)."""
    return load_reference(Settings())


@pytest.fixture(scope="session")
def private(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Byte code and an empty user config folder for child interpreters, per session."""
    return tmp_path_factory.mktemp("hostile-private")
