"""A normal install, as a team puts the tool on its server: a wheel built from this checkout,
installed into a new virtualenv outside the repository, used from an empty folder with no
source checkout in reach. The shipped reference data must come from inside the package, and a
team's `data_dir` overrides it file by file.

The virtualenv is built once per session (pip installs the runtime dependencies from the same
index as the test extras); every command runs with a clean environment, so nothing of this
checkout (PYTHONPATH, the editable install, ./data) can leak in.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX virtualenv and pty"),
    pytest.mark.xdist_group("installed"),  # one worker builds the wheel for the session
]

NOW = "2026-11-25T15:00:00+08:00"


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a new user's login has: no PYTHONPATH, no settings of this machine or checkout."""
    config = home / "config.toml"
    config.touch()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "ICP_TUI_CONFIG": str(config),
        "TERM": "xterm-256color",
    }
    env.update(extra)
    return env


def icp(
    script: Path, cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_command_works_from_an_empty_folder(installed: Path, empty: Path) -> None:
    env = clean_env(empty.parent)
    db = empty.parent / "f.json"
    base = ["--db", str(db), "--now", NOW]
    version = ok(icp(installed, empty, env, "--version"))
    assert version.startswith("icp-tui ") and "unknown" not in version
    ok(icp(installed, empty, env, *base, "init"))
    ok(icp(installed, empty, env, *base, "demo", "--count", "20", "--force"))
    rows = json.loads(ok(icp(installed, empty, env, *base, "list", "--json")))
    assert len(rows) == 20
    movable = next(r for r in rows if r["stage"] == "preliminary_review")
    assert movable["id"] in ok(icp(installed, empty, env, *base, "show", movable["id"]))
    assert ok(icp(installed, empty, env, *base, "advance", movable["id"])).strip()
    assert "breached" in ok(icp(installed, empty, env, *base, "report"))
    out = empty.parent / "out.csv"
    ok(icp(installed, empty, env, *base, "export", "-o", str(out)))
    other = empty.parent / "other.json"
    ok(icp(installed, empty, env, "--db", str(other), "--now", NOW, "init"))
    assert "imported 20" in ok(icp(installed, empty, env, "--db", str(other), "import", str(out)))
    # An adjusted working day (a Saturday): the shipped calendar data is in force.
    assert ok(icp(installed, empty, env, "calendar", "workday", "2026-02-14")) == "true\n"
    # Nothing was written where the user stood.
    assert list(empty.iterdir()) == []


def test_reference_data_is_shipped_and_a_data_dir_overrides_it_file_by_file(
    installed: Path, empty: Path
) -> None:
    env = clean_env(empty.parent)
    shown = ok(icp(installed, empty, env, "config"))
    assert "shipped default" in shown
    # The warning for a year without an official schedule says how to add one, never a path
    # inside site-packages.
    warned = icp(installed, empty, env, "calendar", "workday", "2035-06-01")
    assert "holidays.toml" in warned.stderr and "data_dir" in warned.stderr, warned.stderr
    assert "site-packages" not in warned.stderr

    # The team's folder holds its own provinces.toml (Beijing's target raised to 25 bd), not
    # the other files: those stay the shipped ones.
    team = empty.parent / "team-data"
    team.mkdir()
    (team / "provinces.toml").write_text(
        '[[province]]\nname = "Beijing"\naliases = ["北京"]\nauthority_review_bd = 25\n',
        encoding="utf-8",
    )
    env = clean_env(empty.parent, ICP_TUI_DATA=str(team))
    shown = ok(icp(installed, empty, env, "config")).splitlines()
    provinces_line = next(line for line in shown if line.startswith("provinces_file"))
    assert str(team / "provinces.toml") in provinces_line and "data_dir" in provinces_line
    holidays_line = next(line for line in shown if line.startswith("holidays_file"))
    assert "shipped default" in holidays_line
    db = empty.parent / "f.json"
    ok(icp(installed, empty, env, "--db", str(db), "--now", NOW, "init"))
    add = (installed, empty, env, "--db", str(db), "--now", NOW, "add", "--domain")
    added = ok(icp(*add, "example.cn", "--entity", "北京某某科技有限公司", "--province", "北京"))
    assert added.strip().startswith("ICP-")
    # Zhejiang is not in the team's file: the team's table is the one in force.
    refused = icp(*add, "example.com.cn", "--entity", "杭州某某", "--province", "浙江")
    assert refused.returncode == 1 and "浙江" in refused.stderr, refused.stderr
    warned = icp(installed, empty, env, "calendar", "workday", "2035-06-01")
    assert str(team / "holidays.toml") in warned.stderr, warned.stderr


def test_the_dashboard_opens_from_the_installed_package(installed: Path, empty: Path) -> None:
    env = clean_env(empty.parent)
    db = empty.parent / "f.json"
    ok(icp(installed, empty, env, "--db", str(db), "--now", NOW, "demo", "--count", "30"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: a 100x30 terminal, then the dashboard
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
            os.chdir(empty)
            os.execve(str(installed), [str(installed), "--db", str(db), "--now", NOW], env)
        finally:
            os._exit(127)
    output = bytearray()
    try:
        deadline = time.monotonic() + 60
        while b"ICP-20" not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
                    break
        assert b"ICP-20" in output, bytes(output[-600:])
        assert b"Traceback" not in output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            with contextlib.suppress(OSError):
                select.select([fd], [], [], 0.05)[0] and os.read(fd, 65536)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
