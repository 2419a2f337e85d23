"""The README's "On a shared server" steps, done for real: a group for the staff, two members,
a setgid 2770 folder, a config naming the database and the team's data folder, the database
created by one member under umask 007, changes by both, and a backup taken under the store's
lock while the other member writes.

It needs root (to add the group and users, cleaned up afterwards) and runs the installed wheel
as those users; the paths are temporary folders instead of /srv, /etc and /backup.
"""

from __future__ import annotations

import grp
import json
import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from install_helpers import REPO, reachable_by_all

NOW = "2026-11-25T15:00:00+08:00"

pytestmark = [
    pytest.mark.skipif(
        os.name != "posix" or os.geteuid() != 0 or shutil.which("groupadd") is None,
        reason="needs root and groupadd/useradd/runuser to create the staff group and users",
    ),
    pytest.mark.xdist_group("installed"),  # one worker builds the wheel for the session
]


def readme_block(marker: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"<!-- {marker} -->\n```sh\n", 1)[1].split("```", 1)[0]


def sh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def staff() -> Iterator[tuple[str, str, str]]:
    """A group and two of its members, removed afterwards."""
    tag = secrets.token_hex(3)
    group, users = f"icpg{tag}", (f"icpa{tag}", f"icpb{tag}")
    made: list[tuple[str, ...]] = []
    try:
        if sh("groupadd", group).returncode != 0:
            pytest.skip("groupadd refused")
        made.append(("groupdel", group))
        for user in users:
            if sh("useradd", "-M", "-N", "-s", "/bin/sh", "-G", group, user).returncode != 0:
                pytest.skip("useradd refused")
            made.insert(0, ("userdel", user))
        yield group, *users
    finally:
        for argv in made:
            sh(*argv)


@pytest.fixture
def server() -> Iterator[Path]:
    """Stands for the server's file system: a folder every user may traverse."""
    root = Path(tempfile.mkdtemp(prefix="icp-server-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_readme_steps_give_a_database_the_whole_group_can_use(
    installed: Path, staff: tuple[str, str, str], server: Path
) -> None:
    group, alice, bob = staff
    if not reachable_by_all((installed.parent / "python").resolve()):
        pytest.skip("no Python 3.11+ here that other users may run (the venv's base)")
    steps = readme_block("shared-server")
    # The README's steps are the ones done here (with temporary paths for /srv and /etc).
    for step in (
        "groupadd icp-staff",
        "usermod -aG icp-staff",
        "install -d -m 2770 -g icp-staff /srv/icp ",
        'database = "/srv/icp/filings.json"',
        'data_dir = "/srv/icp/data"',
        "runuser -u alice -- sh -c 'umask 007 && icp-tui init'",
    ):
        assert step in steps, step

    srv = server / "srv-icp"
    for folder in (srv, srv / "data"):
        done = sh("install", "-d", "-m", "2770", "-g", group, str(folder))
        assert done.returncode == 0, done.stderr
    config = server / "config.toml"
    config.write_text(f'database = "{srv}/filings.json"\ndata_dir = "{srv}/data"\n')
    config.chmod(0o644)

    def as_user(user: str, command: str) -> subprocess.CompletedProcess[str]:
        env = f"ICP_TUI_CONFIG={config} HOME={server}"
        return sh("runuser", "-u", user, "--", "sh", "-c", f"umask 007 && {env} {command}")

    icp = f"{installed} --now {NOW}"
    done = as_user(alice, f"{icp} init")
    assert done.returncode == 0, done.stderr
    done = as_user(bob, f"{icp} add --domain example.cn --entity 某某 --province 浙江")
    assert done.returncode == 0, done.stderr
    filing = done.stdout.strip()
    done = as_user(alice, f"{icp} note {filing} checked")
    assert done.returncode == 0, done.stderr
    done = as_user(bob, f"{icp} advance {filing}")
    assert done.returncode == 0, done.stderr

    shown = json.loads(as_user(alice, f"{icp} show {filing} --json").stdout)
    assert {entry["by"] for entry in shown["history"]} >= {alice, bob}
    gid = grp.getgrnam(group).gr_gid
    for path in srv.iterdir():
        if path.is_file():
            mode = path.stat().st_mode
            assert path.stat().st_gid == gid, path  # the setgid folder's group
            assert not mode & stat.S_IRWXO, (path, oct(mode))  # never world-readable

    # The backup line, run as root as written (it becomes a member) while the other member
    # keeps writing. Run by root itself, flock would leave a root-owned lock if there was none.
    backup_line = readme_block("backup").strip()
    assert backup_line.startswith("runuser -u alice -- sh -c 'umask 007 && flock "), backup_line
    assert "flock /srv/icp/filings.json.lock cp -p " in backup_line, backup_line
    backup = server / "backup"
    backup.mkdir(mode=0o770)
    shutil.chown(backup, group=group)
    backup.chmod(0o2770)
    writer = subprocess.Popen(
        [
            "runuser", "-u", bob, "--", "sh", "-c",
            f"for i in 1 2 3 4 5 6 7 8 9 10; do ICP_TUI_CONFIG={config} {icp} note {filing} n$i;"
            " done",
        ]
    )  # fmt: skip
    try:
        command = (
            backup_line.replace("/srv/icp", str(srv))
            .replace("/backup/", f"{backup}/")
            .replace("runuser -u alice ", f"runuser -u {alice} ")
        )
        done = sh("sh", "-c", command)
        assert done.returncode == 0, done.stderr
    finally:
        assert writer.wait(timeout=120) == 0
    lock = (srv / "filings.json.lock").stat()
    assert lock.st_uid != 0 and lock.st_gid == gid, lock
    assert stat.S_IMODE(lock.st_mode) == 0o660, oct(lock.st_mode)
    done = as_user(alice, f"ICP_TUI_DB={backup}/filings.json {icp} list --json")
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)] == [filing]
