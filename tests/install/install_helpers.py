"""What the install tests share: the repository, and which Python other users may run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def python_for_everyone() -> str:
    """This interpreter if every user can run it, else the system's Python 3.11+ if they can:
    the shared-server tests run the install as other users (a pyenv under /root is private)."""
    for candidate in (sys._base_executable, shutil.which("python3", path="/usr/bin:/bin")):
        if candidate and reachable_by_all(Path(candidate).resolve()) and new_enough(candidate):
            return candidate
    return sys.executable


def reachable_by_all(path: Path) -> bool:
    folders_open = all(p.stat().st_mode & 0o001 for p in path.parents)
    return folders_open and bool(path.stat().st_mode & 0o001)


def new_enough(python: str) -> bool:
    done = subprocess.run(
        [python, "-c", "import sys, venv; sys.exit(sys.version_info < (3, 11))"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0
