"""Files planted in a shared folder: links, folders, FIFOs, hard links and leftovers.

A member of the group can put anything at any name of the database. A link or a file that is
not a regular file of the database is refused, naming it, and the file it points to is never
read or written; new files take the database's mode whatever the umask. Real files only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from store_helpers import fid, new_db, noter, snapshot_files

from icp_tui.store import (
    FilingStore,
    ForeignFile,
    database_files,
    journal_path,
    lock_path,
    sharing_problems,
    summary_path,
)
from icp_tui.store.journal import temp_prefix


@pytest.fixture
def private(tmp_path: Path) -> Path:
    """Someone's private database elsewhere, with a change in its journal."""
    path = new_db(tmp_path / "private", 2)
    FilingStore(path).commit(fid(1), noter("private note"))
    for file in database_files(path):
        file.chmod(0o600)
    return path


def _state(path: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, mode and mtime of every file of a database: proof it was neither read into
    ours nor written."""
    return {
        f.name: (f.read_bytes(), f.stat().st_mode, f.stat().st_mtime_ns)
        for f in database_files(path)
        if f.exists()
    }


FILES: dict[str, Callable[[Path], Path]] = {
    "base": lambda p: p,
    "journal": journal_path,
    "summary": summary_path,
    "lock": lock_path,
}


@pytest.mark.parametrize("which", FILES.values(), ids=FILES.keys())
def test_a_planted_symlink_is_refused_and_its_target_untouched(
    tmp_path: Path, private: Path, which: Callable[[Path], Path]
) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("shared note"))
    planted = which(path)
    planted.unlink()
    planted.symlink_to(which(private))
    theirs = _state(private)

    attempts: list[Callable[[], object]] = [
        lambda: FilingStore(path).commit(fid(1), noter("next")),
        lambda: FilingStore(path).compact(),
    ]
    if planted != lock_path(path):  # readers never touch the lock
        attempts.insert(0, lambda: FilingStore(path).load())
    for attempt in attempts:
        with pytest.raises(ForeignFile, match=f"^{planted} is a symbolic link") as refused:
            attempt()
        _assert_advice(planted, str(refused.value))
    assert planted.is_symlink()
    assert _state(private) == theirs


def test_a_link_planted_under_an_open_dashboard_is_replaced_not_followed(
    tmp_path: Path, private: Path
) -> None:
    """A handle that loaded before the link was planted still never writes through it."""
    path = new_db(tmp_path)
    open_store = FilingStore(path)
    open_store.load()
    for which in (journal_path, summary_path):
        which(path).unlink()
        which(path).symlink_to(which(private))
    theirs = _state(private)
    with pytest.raises(ForeignFile):
        open_store.commit(fid(1), noter("next"))
    assert _state(private) == theirs


@pytest.mark.parametrize("kind", ["folder", "fifo", "hard link"])
@pytest.mark.parametrize(
    "which", [journal_path, summary_path, lock_path], ids=lambda which: which.__name__
)
def test_a_file_that_is_not_a_regular_file_of_ours_is_refused(
    tmp_path: Path, private: Path, kind: str, which: Callable[[Path], Path]
) -> None:
    path = new_db(tmp_path)
    planted = which(path)
    planted.unlink()
    if kind == "folder":
        planted.mkdir()
    elif kind == "fifo":
        os.mkfifo(planted)  # opening it for reading would block forever
    else:
        os.link(which(private), planted)
    theirs = _state(private)
    expected = {"folder": "is a folder", "fifo": "is a FIFO", "hard link": "hard links"}[kind]
    with pytest.raises(ForeignFile, match=f"^{planted} .*{expected}") as refused:
        FilingStore(path).commit(fid(1), noter("next"))
    _assert_advice(planted, str(refused.value))
    assert _state(private) == theirs


def _assert_advice(planted: Path, message: str) -> None:
    """The base and journal are restored from a backup; the lock and the summary, which
    icp-tui makes again, are only removed."""
    assert "\n" not in message
    if planted.name.endswith((".lock", ".summary")):
        assert "remove it" in message and "backup" not in message, message
        made = "an empty file" if planted.name.endswith(".lock") else "rebuilds from the base"
        assert made in message, message
    else:
        assert "restore the real file from a backup" in message, message


@pytest.mark.parametrize("which", [summary_path, lock_path], ids=["summary", "lock"])
def test_the_sharing_report_says_to_remove_a_planted_lock_or_summary(
    tmp_path: Path, private: Path, which: Callable[[Path], Path]
) -> None:
    path = new_db(tmp_path)
    planted = which(path)
    planted.unlink()
    planted.symlink_to(which(private))
    said = [p for p in sharing_problems(database_files(path)) if str(planted) in p]
    assert len(said) == 1, said
    _assert_advice(planted, said[0])


def test_a_symlinked_base_is_not_replaced_by_init(tmp_path: Path, private: Path) -> None:
    path = tmp_path / "shared" / "filings.json"
    path.parent.mkdir()
    path.symlink_to(private)
    theirs = _state(private)
    with pytest.raises(ForeignFile, match="symbolic link"):
        FilingStore.create(path, overwrite=True)
    assert path.is_symlink() and _state(private) == theirs


@pytest.mark.parametrize("kind", ["folder", "symlink", "fifo"])
def test_leftovers_that_are_not_our_temp_files_block_nobody(
    tmp_path: Path, private: Path, kind: str
) -> None:
    path = new_db(tmp_path)
    leftover = path.parent / f"{temp_prefix(path)}x"
    if kind == "folder":
        leftover.mkdir()
        (leftover / "inside").write_text("kept")
    elif kind == "symlink":
        leftover.symlink_to(private)
    else:
        os.mkfifo(leftover)
    theirs = _state(private)
    store = FilingStore(path)
    store.commit(fid(1), noter("saved"))
    store.compact()
    assert [n.text for n in FilingStore(path).get(fid(1)).notes] == ["saved"]
    assert os.path.lexists(leftover)  # someone else's: left where it is
    assert _state(private) == theirs


def test_our_own_temp_files_are_still_cleaned(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    orphan = path.parent / f"{temp_prefix(path)}12345-dead"
    orphan.write_bytes(b"a killed writer's half file")
    FilingStore(path).commit(fid(1), noter("saved"))
    assert not orphan.exists()


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o000])
def test_new_files_are_0660_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    with _umask(mask):
        path = new_db(tmp_path)
        FilingStore(path).commit(fid(1), noter("x"))
    for file in database_files(path):
        assert stat.S_IMODE(file.stat().st_mode) == 0o660, file


def test_compaction_tightens_a_world_readable_database(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    for file in database_files(path):
        file.chmod(0o644)
    store = FilingStore(path)
    store.commit(fid(1), noter("x"))
    store.compact()
    for file in (path, journal_path(path), summary_path(path)):
        assert stat.S_IMODE(file.stat().st_mode) & 0o007 == 0, file


@pytest.mark.parametrize("old", [0o644, 0o640, 0o600, 0o664], ids=lambda m: f"{m:04o}")
def test_compaction_makes_every_file_0660_whatever_the_old_base_mode(
    tmp_path: Path, old: int
) -> None:
    """The mode comes from the database's policy, never from the old base: a base left 0644
    used to make the new base, journal and summary 0640, and the team read-only."""
    path = new_db(tmp_path)
    path.chmod(old)
    store = FilingStore(path)
    store.commit(fid(1), noter("x"))
    store.compact()
    for file in (path, journal_path(path), summary_path(path)):
        assert stat.S_IMODE(file.stat().st_mode) == 0o660, (file, oct(file.stat().st_mode))


def test_nothing_of_the_database_changes_when_a_link_is_refused(
    tmp_path: Path, private: Path
) -> None:
    path = new_db(tmp_path)
    summary_path(path).unlink()
    summary_path(path).symlink_to(summary_path(private))
    before = snapshot_files(path)
    with pytest.raises(ForeignFile):
        FilingStore(path).commit(fid(1), noter("x"))
    assert snapshot_files(path) == before
