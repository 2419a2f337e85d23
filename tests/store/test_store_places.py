"""A handle keeps each base record as its place in the base file version it read, not as its
bytes, and reads it from that very version when asked: whatever other processes did to the
database since (compacting it, so that every record moved), a record comes from the state it
belongs to, whole; and a base rewritten in place is read again rather than misread."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from store_helpers import fid, make_filing, new_db, noter, worker

from icp_tui.store import FilingStore, journal_path, summary_path
from icp_tui.store.journal import Stored


def kept(store: FilingStore) -> list[Stored]:
    state = store._state
    assert state is not None
    return [stored for _, stored in state.by_doc.values()]


def deleted_bases(path: Path) -> list[str]:
    """The replaced (deleted) versions of the base file this process still holds open."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target == f"{path} (deleted)":
            held.append(target)
    return held


def test_a_loaded_handle_keeps_places_and_a_compaction_points_them_at_the_new_base(
    tmp_path: Path,
) -> None:
    path = new_db(tmp_path, 5)
    store = FilingStore(path)
    store.load()
    assert all(type(stored) is int for stored in kept(store))
    saved = store.commit(fid(2), noter("called"))
    assert sum(type(stored) is bytes for stored in kept(store)) == 1  # the change, held
    store.compact()
    assert all(type(stored) is int for stored in kept(store))  # read back from the new base
    assert store.get(fid(2)) == saved
    assert [store.get(fid(n)) for n in (1, 3, 4, 5)] == [make_filing(n) for n in (1, 3, 4, 5)]
    assert FilingStore(path).get(fid(2)) == saved


def test_after_other_processes_compact_a_handle_reads_the_records_it_loaded(
    tmp_path: Path,
) -> None:
    path = new_db(tmp_path, 6, padding=300)
    store = FilingStore(path)
    store.load()
    loaded = os.stat(path).st_ino
    # Notes to filings 1 to 3 make their records longer: every later record moves.
    writer = worker("notes", str(path), "1", "60")
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert os.stat(path).st_ino != loaded  # compacted: the base was replaced
    assert FilingStore(path).get(fid(1)).version > 1
    # Still the state loaded, every record whole and of the version its summary says.
    for n in range(1, 7):
        assert store.get(fid(n)) == make_filing(n, padding=300)
    changed = store.poll()
    assert changed is not None
    assert sorted(f.id for f in changed) == [fid(1), fid(2), fid(3)]
    assert [store.get(f.id) for f in changed] == changed
    assert [n.text for n in store.get(fid(1)).notes] == [f"p1-{i}" for i in range(0, 60, 3)]
    assert store.get(fid(6)) == make_filing(6, padding=300)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_handle_lets_go_of_a_replaced_base_once_it_caught_up(tmp_path: Path) -> None:
    path = new_db(tmp_path, 3)
    store = FilingStore(path)
    store.load()
    other = FilingStore(path)
    other.commit(fid(1), noter("a"))
    other.compact()
    assert deleted_bases(path)  # `store` still reads the version it loaded
    assert store.poll() is not None
    other.commit(fid(2), noter("b"))
    other.compact()  # and `other` let go of the base it replaced itself
    assert store.poll() is not None
    deadline = time.monotonic() + 30  # `store` closes the base it read in the background
    while deleted_bases(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert deleted_bases(path) == []


def test_a_base_rewritten_in_place_is_read_again_not_misread(tmp_path: Path) -> None:
    path = new_db(tmp_path, 4, padding=200)
    store = FilingStore(path)
    store.load()
    # Elsewhere, filing 1 gets a note and the database is compacted: records 2 to 4 move.
    elsewhere = tmp_path / "elsewhere" / path.name
    shutil.copytree(path.parent, elsewhere.parent)
    changed = FilingStore(elsewhere)
    saved = changed.commit(fid(1), noter("called"))
    changed.compact()
    # A script writes that database over this one in place, as plain file writes do.
    for name in (journal_path(elsewhere), summary_path(elsewhere)):
        shutil.copyfile(name, path.parent / name.name)
    with open(path, "r+b") as base:
        base.truncate(0)
        base.write(elsewhere.read_bytes())
    assert store.get(fid(3)) == make_filing(3, padding=200)  # read again, from its new place
    assert store.get(fid(1)) == saved
    assert store.commit(fid(4), noter("x")).version == 2
