"""A shared server in miniature: a small real file system that fills up, and real staff.

The tests run as root, so they can mount a tmpfs and create users and a group; where the
machine refuses, the test is skipped with the reason. Everything made here is removed after.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from in_process import run_main

PAGE = 4096
#: The time the runs evaluate at unless told otherwise (a Wednesday, no holiday near).
NOW = "2026-11-25T15:00+08:00"


@contextmanager
def tmpfs(size: str = "2m") -> Iterator[Path]:
    """A tmpfs of `size` mounted on a fresh folder (world-traversable, for other users)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="icp-tui-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def fill(folder: Path, leave: int) -> Path:
    """Fill the file system of `folder` so that about `leave` bytes (whole pages) stay free."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (b"\0" * (1 << 20), b"\0" * PAGE):
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
                    break
        size = os.fstat(fd).st_size
        os.ftruncate(fd, max(0, size - leave))
    finally:
        os.close(fd)
    return filler


@dataclass(frozen=True)
class Staff:
    """Two members of one group (and an outsider), made for one test."""

    group: str
    gid: int
    alice: str
    bob: str
    outsider: str

    def uid(self, user: str) -> int:
        return pwd.getpwnam(user).pw_uid


@contextmanager
def staff() -> Iterator[Staff]:
    """Create a group with two members and one user outside it; remove them after."""
    if os.geteuid() != 0:
        pytest.skip("creating users needs root")
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        pytest.skip("no useradd/groupadd on this machine")
    tag = secrets.token_hex(3)
    group = f"icpt{tag}"
    users = [f"icpa{tag}", f"icpb{tag}", f"icpo{tag}"]
    made_group = False
    made: list[str] = []
    try:
        result = subprocess.run(["groupadd", group], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"groupadd refused: {result.stderr.strip()}")
        made_group = True
        for user in users:
            # Members get the team group as an extra group, as on a real server.
            extra = ["-G", group] if user != users[2] else []
            result = subprocess.run(
                ["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", *extra, user],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                pytest.skip(f"useradd refused: {result.stderr.strip()}")
            made.append(user)
        yield Staff(group, grp.getgrnam(group).gr_gid, *users)
    finally:
        for user in made:
            subprocess.run(["userdel", user], capture_output=True, check=False)
            with suppress(KeyError):  # -U made a private group of the same name
                grp.getgrnam(user)
                subprocess.run(["groupdel", user], capture_output=True, check=False)
        if made_group:
            subprocess.run(["groupdel", group], capture_output=True, check=False)


@contextmanager
def shared_folder(team: Staff) -> Iterator[Path]:
    """A world-traversable scratch folder holding `team`'s setgid 2770 folder `shared`."""
    top = Path(tempfile.mkdtemp(prefix="icp-tui-server-"))
    try:
        top.chmod(0o755)
        (top / "config").mkdir(mode=0o755)
        folder = top / "shared"
        folder.mkdir()
        os.chown(folder, 0, team.gid)
        folder.chmod(0o2770)
        yield folder
    finally:
        shutil.rmtree(top, ignore_errors=True)


#: Becomes `user` inside an interpreter started as root, once it has imported what it needs:
#: the interpreter may live where only root can read (here, /root/.pyenv), but every file
#: operation of the tool then runs with the user's own uid, groups and umask.
_BECOME = """
import os, sys
uid, gid, mask = (int(x) for x in sys.argv[1:4])
groups = [int(g) for g in sys.argv[4].split(",") if g]
code = sys.argv[5]
import importlib.metadata, arrow.parser, icp_tui.__main__, icp_tui.demo, icp_tui.transfer
import icp_tui.report, icp_tui.config
import encodings.idna  # codecs load lazily: domain checks encode names with it
icp_tui.__main__.package_version()  # reads the installed metadata under the venv
os.setgroups(groups)
os.setgid(gid)
os.setuid(uid)
os.umask(mask)
sys.argv = ["icp-tui", *sys.argv[6:]]
exec(code)
"""


def _become(user: str | None, umask: int) -> list[str]:
    """The start of a command line that runs Python code as `user` (None: root)."""
    if user is None:
        return [sys.executable, "-c", _BECOME, "0", "0", str(umask), ""]
    entry = pwd.getpwnam(user)
    groups = [g.gr_gid for g in grp.getgrall() if user in g.gr_mem]
    ids = [str(entry.pw_uid), str(entry.pw_gid), str(umask), ",".join(map(str, groups))]
    return [sys.executable, "-c", _BECOME, *ids]


def as_user(user: str, code: str) -> None:
    """Run Python `code` as `user`, with the user's groups (what a member can do by hand)."""
    subprocess.run([*_become(user, 0o022), code], check=True, timeout=60, cwd="/")


def _env(user: str | None, db: Path) -> dict[str, str]:
    """The environment of a member's run: nothing of this machine but PATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUTF8": "1",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(db.parent.parent / "config"),
        "HOME": str(db.parent.parent),
        "USER": user or "root",
        "LOGNAME": user or "root",
    }


def _argv(args: tuple[str, ...], db: Path, now: str | None) -> list[str]:
    return ["--db", str(db), *(["--now", now] if now is not None else []), *args]


def run_as(
    user: str | None,
    *args: str,
    db: Path,
    umask: int = 0o022,
    now: str | None = NOW,
) -> subprocess.CompletedProcess[str]:
    """`icp-tui --db DB ARGS` as `user` (None: as root) with its groups and `umask`."""
    main = "sys.exit(icp_tui.__main__.main(sys.argv[1:]))"
    return subprocess.run(
        [*_become(user, umask), main, *_argv(args, db, now)],
        cwd=db.parent.parent,
        env=_env(user, db),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def run_here(*args: str, db: Path, now: str | None = NOW) -> subprocess.CompletedProcess[str]:
    """`icp-tui --db DB ARGS` as this process's user, run in-process (in_process.py) with the
    environment `run_as` gives: for the many runs whose subject is not another user."""
    code, out, err = run_main(_argv(args, db, now), cwd=db.parent.parent, env=_env(None, db))
    return subprocess.CompletedProcess(args, code, out.decode("utf-8"), err.decode("utf-8"))
