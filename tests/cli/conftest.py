"""Fixtures of the command-line tests: `run` runs the CLI in the test's tmp_path.

Every test gets its own tmp_path; the CLI runs with that folder as its working directory and,
unless a test says otherwise, a database at tmp_path/db/filings.json. Nothing is written into
the repository: the child interpreters write no byte code, and no config file of
the machine ($ICP_TUI_CONFIG, ~/.config/icp-tui) is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Runner


@pytest.fixture(scope="session")
def cli_private(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty user config folder for the CLI runs, per session."""
    return tmp_path_factory.mktemp("cli-private")


@pytest.fixture
def run(tmp_path: Path, cli_private: Path) -> Runner:
    """Run the CLI in tmp_path, on tmp_path/db/filings.json, as of NOW."""
    return Runner(tmp_path, cli_private)
