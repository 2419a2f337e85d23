"""The installed tool, built once per session: a wheel of this working tree in a new
virtualenv outside the repository (what `pip install .` or pipx gives a team's server).

The virtualenv sits in a world-traversable temporary folder, so the shared-server tests can run
it as other users too; it is removed at the end of the session.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from install_helpers import REPO, python_for_everyone

#: Building a wheel and installing the dependencies: generous for a busy machine.
INSTALL_TIMEOUT = 600


@pytest.fixture(scope="session")
def installed() -> Iterator[Path]:
    """The `icp-tui` script of a fresh virtualenv holding only the wheel and its dependencies."""
    root = Path(tempfile.mkdtemp(prefix="icp-install-"))
    root.chmod(0o755)
    try:
        source = root / "src"
        # The working tree as it is, without the checkout's own files (.venv, caches, a local
        # database): what `pip wheel .` sees in a fresh clone.
        shutil.copytree(
            REPO,
            source,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", "*.egg-info", "build", "__pycache__", "filings.json*"
            ),
        )
        wheels = root / "wheels"
        pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
        run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)])
        shutil.rmtree(source)
        (wheel,) = wheels.glob("icp_tui-*.whl")
        venv = root / "venv"
        run([python_for_everyone(), "-m", "venv", str(venv)])
        run([str(venv / "bin" / "python"), "-m", "pip", "-q", "install", str(wheel)])
        yield venv / "bin" / "icp-tui"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(argv: list[str]) -> None:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
