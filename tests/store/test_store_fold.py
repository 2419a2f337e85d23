"""A compaction writes, in its sidecar, what it folded into the new base and where each record
now lies: a handle that had read that base and its journal takes up the new base without
reading it, and reads from it only the changes it had not seen. Anything that does not add up
means the database is read again, as before; while a compaction is under way (its base in
place, its journal not yet), a handle keeps following the journal it reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from store_helpers import fid, make_filing, new_db, noter

from icp_tui.store import FilingStore, StoreError, journal_path, summary_path
from icp_tui.store import filing_store as filing_store_module
from icp_tui.store import journal as journal_module
from icp_tui.store.journal import file_id


def base_read(store: FilingStore, path: Path, before: int) -> bool:
    """Whether `store` read at least a whole base's worth of bytes since `before`."""
    return store.bytes_read - before >= path.stat().st_size


def current(store: FilingStore, path: Path) -> None:
    """`store` is on the base now at `path`, and holds what a fresh handle reads."""
    state = store._state
    assert state is not None
    assert state.base_id == file_id(os.stat(path))
    fresh = FilingStore(path)
    assert store.ids() == fresh.ids()
    for filing_id in fresh.ids():
        assert store.get(filing_id) == fresh.get(filing_id)
        assert store.summary(filing_id) == fresh.summary(filing_id)


def test_a_handle_that_saw_every_change_takes_up_the_new_base_without_reading_it(
    tmp_path: Path,
) -> None:
    path = new_db(tmp_path, 40, padding=200)
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    theirs.commit(fid(3), noter("a"))
    theirs.commit(fid(30), noter("b"))
    assert [f.id for f in mine.poll() or []] == [fid(3), fid(30)]
    theirs.compact()
    before = mine.bytes_read
    assert mine.poll() == []  # a compaction changes no filing
    assert not base_read(mine, path, before)
    current(mine, path)
    state = mine._state
    assert state is not None
    assert all(type(stored) is int for _, stored in state.by_doc.values())  # in the new base
    assert state.summary_id is not None and mine.compact_if_due() is False


def test_changes_a_handle_had_not_seen_are_read_from_the_new_base(tmp_path: Path) -> None:
    path = new_db(tmp_path, 20, padding=100)
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    theirs.commit(fid(1), noter("seen"))
    assert mine.poll() is not None
    # Then, unseen: a change, a new filing, a batch of two, and the first filing again.
    changed = [theirs.commit(fid(2), noter("x"))]
    changed += [theirs.add(lambda ids: make_filing(21))]
    changed += theirs.add_many(lambda ids: [make_filing(22), make_filing(23)])
    changed += [theirs.commit(fid(1), noter("again"))]
    theirs.compact()
    before = mine.bytes_read
    seen = mine.poll()
    assert seen is not None
    assert sorted(seen, key=lambda f: f.id) == sorted(changed, key=lambda f: f.id)
    assert not base_read(mine, path, before)
    current(mine, path)
    assert mine.ids()[-3:] == [fid(21), fid(22), fid(23)]


def test_a_handle_two_compactions_behind_reads_the_database_again(tmp_path: Path) -> None:
    path = new_db(tmp_path, 10, padding=100)
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    saved = [theirs.commit(fid(4), noter("a"))]
    theirs.compact()
    saved.append(theirs.commit(fid(5), noter("b")))
    theirs.compact()  # folds a base `mine` never read
    before = mine.bytes_read
    assert sorted(mine.poll() or [], key=lambda f: f.id) == saved
    assert base_read(mine, path, before)
    current(mine, path)


@pytest.mark.parametrize(
    "tamper",
    ["a place", "a document", "the journal's lines", "the base folded"],
)
def test_a_fold_that_does_not_add_up_means_reading_the_database_again(
    tmp_path: Path, tamper: str
) -> None:
    path = new_db(tmp_path, 10, padding=100)
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    theirs.commit(fid(2), noter("a"))
    assert mine.poll() is not None
    theirs.commit(fid(6), noter("b"))
    theirs.compact()
    sidecar = summary_path(path)
    document: dict[str, Any] = orjson.loads(sidecar.read_bytes())
    folded = document["folded"]
    if tamper == "a place":
        folded["places"][4] += 1  # one byte longer than the record it says is there
    elif tamper == "a document":
        folded["docs"][9] = 99  # a document that does not exist; 10 is missing
    elif tamper == "the journal's lines":
        folded["lines"] = 1  # as if it had folded fewer lines than the handle has seen
    else:
        folded["base"][0] += 1
    stat = os.stat(sidecar)
    sidecar.write_bytes(orjson.dumps(document))
    os.utime(sidecar, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    before = mine.bytes_read
    assert [f.id for f in mine.poll() or []] == [fid(6)]
    assert base_read(mine, path, before)
    current(mine, path)


def test_while_a_compaction_is_under_way_a_handle_follows_its_journal_and_a_writer_never_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = new_db(tmp_path, 10, padding=100)
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    loaded = file_id(os.stat(path))
    last = theirs.commit(fid(7), noter("just before"))
    real_write = journal_module.atomic_write

    def die_before_the_journal(target: Path, *args: Any, **kwargs: Any) -> Any:
        if target == journal_path(path):
            raise OSError(5, "killed")
        return real_write(target, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(journal_module, "atomic_write", die_before_the_journal)
        with pytest.raises(StoreError):
            theirs.compact()  # its base and sidecar are in place, its journal is not
    assert file_id(os.stat(path)) != loaded
    before = mine.bytes_read
    assert mine.poll() == [last]  # from the journal it follows: the base is not read
    assert not base_read(mine, path, before)
    assert mine._state is not None and mine._state.base_id == loaded
    # A writer takes the new base up (the old journal is stale beside it): its change is seen.
    saved = theirs.commit(fid(8), noter("after"))
    assert FilingStore(path).get(fid(8)) == saved
    assert mine.poll() == [saved]
    current(mine, path)


def test_a_new_base_beside_the_journal_is_read_after_a_grace_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = new_db(tmp_path, 10, padding=100)
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    theirs.commit(fid(3), noter("x"))
    real_write = journal_module.atomic_write

    def no_journal(target: Path, *args: Any, **kwargs: Any) -> Any:
        if target == journal_path(path):
            raise OSError(5, "killed")
        return real_write(target, *args, **kwargs)

    monkeypatch.setattr(journal_module, "atomic_write", no_journal)
    with pytest.raises(StoreError):
        theirs.compact()
    monkeypatch.setattr(filing_store_module, "COMPACTION_GRACE", 0.0)
    assert [f.id for f in mine.poll() or []] == [fid(3)]
    current(mine, path)  # past the grace time: on the new base
