"""Fixtures of the hostile-input tests (helpers live in hostile_helpers.py, a unique name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from icp_tui.config import Reference, Settings, load_reference


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The project's data files (provinces, holidays, mailing address)."""
    return load_reference(Settings())


@pytest.fixture(scope="session")
def private(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty user config folder for the CLI runs, per session."""
    return tmp_path_factory.mktemp("hostile-private")
