"""Two members of one group on a setgid 2770 folder, with their own umasks, and a third who
plants files: real users, real processes.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import Staff, as_user, run_as, shared_folder, staff

from icp_tui.store import database_files, journal_path

ADD = (
    "add",
    "--domain",
    "shared.example.cn",
    "--entity",
    "杭州某某科技有限公司",
    "--province",
    "浙江",
)


@pytest.fixture(scope="module")
def team() -> Iterator[Staff]:
    with staff() as made:
        yield made


@pytest.fixture
def db(team: Staff) -> Iterator[Path]:
    with shared_folder(team) as folder:
        yield folder / "filings.json"


def _one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.mark.parametrize(("first", "second"), [(0o077, 0o022), (0o022, 0o077)])
def test_members_with_any_umask_can_all_write(
    team: Staff, db: Path, first: int, second: int
) -> None:
    created = run_as(team.alice, "init", db=db, umask=first)
    assert created.returncode == 0, created.stderr
    added = run_as(team.bob, *ADD, db=db, umask=second)
    assert added.returncode == 0, added.stderr
    filing_id = added.stdout.strip()
    noted = run_as(team.alice, "note", filing_id, "seen", db=db, umask=first)
    assert noted.returncode == 0, noted.stderr
    for file in database_files(db):
        st = file.stat()
        assert stat.S_IMODE(st.st_mode) == 0o660, (file, oct(st.st_mode))
        assert st.st_gid == team.gid, file
    config = run_as(team.bob, "config", db=db, umask=second)
    assert "sharing            ok" in config.stdout, config.stdout


def test_a_symlink_to_a_private_journal_is_refused_and_never_written(team: Staff, db: Path) -> None:
    assert run_as(team.alice, "init", db=db).returncode == 0
    filing_id = run_as(team.alice, *ADD, db=db).stdout.strip()
    # Alice's private database, in her own folder, journal 0600.
    home = db.parent.parent / "alice-home"
    home.mkdir(mode=0o700)
    os.chown(home, team.uid(team.alice), -1)
    private = home / "private.json"
    assert run_as(team.alice, "init", db=private).returncode == 0
    assert run_as(team.alice, *ADD, db=private).returncode == 0
    journal_path(private).chmod(0o600)
    theirs = journal_path(private).read_bytes()

    shared = journal_path(db)
    as_user(
        team.bob,
        f"import os; os.unlink({str(shared)!r}); "
        f"os.symlink({str(journal_path(private))!r}, {str(shared)!r})",
    )

    line = _one_line(run_as(team.alice, "note", filing_id, "secret", db=db), str(shared))
    assert "symbolic link" in line and "restore" in line
    _one_line(run_as(team.alice, "list", db=db), str(shared), "symbolic link")
    assert journal_path(private).read_bytes() == theirs
    assert stat.S_IMODE(journal_path(private).stat().st_mode) == 0o600
    assert shared.is_symlink()


def test_a_file_a_member_gave_his_own_group_is_refused(team: Staff, db: Path) -> None:
    assert run_as(team.alice, "init", db=db).returncode == 0
    shared = journal_path(db)
    bob = pwd.getpwnam(team.bob)
    as_user(
        team.bob,
        f"import os; os.unlink({str(shared)!r}); "
        f"fd = os.open({str(shared)!r}, os.O_WRONLY | os.O_CREAT, 0o644); "
        f'os.write(fd, b\'{{"journal": 1, "generation": 1}}\\n\'); '
        f"os.fchown(fd, -1, {bob.pw_gid}); os.close(fd)",
    )
    planted = shared.read_bytes()
    line = _one_line(run_as(team.alice, "list", db=db), str(shared), "belongs to")
    assert team.group in line
    _one_line(run_as(team.alice, *ADD, db=db), str(shared))
    assert shared.read_bytes() == planted


def test_config_reports_files_other_staff_cannot_write(team: Staff, db: Path) -> None:
    assert run_as(team.alice, "init", db=db).returncode == 0
    db.chmod(0o640)  # as the old version left it under umask 022
    journal_path(db).chmod(0o644)
    said = run_as(team.bob, "config", db=db).stdout
    assert f"{db} (mode 0640): other staff cannot write it" in said, said
    assert f"{journal_path(db)} (mode 0644) is open to everyone" in said, said
    assert "sharing            ok" not in said


def test_a_0644_base_leaves_every_member_able_to_write_after_compaction(
    team: Staff, db: Path
) -> None:
    assert run_as(team.alice, "init", db=db, umask=0o007).returncode == 0
    filing_id = run_as(team.alice, *ADD, db=db, umask=0o007).stdout.strip()
    db.chmod(0o644)
    os.unlink(db.with_name(db.name + ".summary"))  # makes a compaction due
    noted = run_as(team.alice, "note", filing_id, "by alice", db=db, umask=0o007)
    assert noted.returncode == 0, noted.stderr
    for file in database_files(db):
        st = file.stat()
        assert st.st_gid == team.gid and stat.S_IMODE(st.st_mode) == 0o660, (file, oct(st.st_mode))
    by_bob = run_as(team.bob, "note", filing_id, "by bob", db=db, umask=0o007)
    assert by_bob.returncode == 0, by_bob.stderr
    config = run_as(team.bob, "config", db=db)
    assert "sharing            ok" in config.stdout, config.stdout


def test_config_names_each_file_other_staff_cannot_write(team: Staff, db: Path) -> None:
    assert run_as(team.alice, "init", db=db).returncode == 0
    for file in database_files(db)[:3]:
        file.chmod(0o640)
    said = run_as(team.bob, "config", db=db).stdout
    for file in database_files(db)[:3]:
        assert f"{file} (mode 0640): other staff cannot write it" in said, (file, said)


def test_compaction_keeps_the_group_and_drops_world_access(team: Staff, db: Path) -> None:
    assert run_as(team.alice, "init", db=db).returncode == 0
    filing_id = run_as(team.alice, *ADD, db=db).stdout.strip()
    for file in database_files(db):
        file.chmod(0o664)
    os.unlink(db.with_name(db.name + ".summary"))  # makes a compaction due
    assert run_as(team.bob, "note", filing_id, "x", db=db).returncode == 0
    for file in database_files(db)[:3]:
        st = file.stat()
        assert st.st_gid == team.gid and stat.S_IMODE(st.st_mode) == 0o660, file
