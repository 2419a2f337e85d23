"""FilingStore in one process: create, load, commit, add, conflicts, polling, compaction."""

from __future__ import annotations

import gc
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from store_helpers import fid, make_filing, new_db, noter, snapshot_files

from icp_tui.domain.errors import InvalidRecord, UnknownFiling
from icp_tui.domain.filing import Filing
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.store import (
    DatabaseExists,
    DuplicateFiling,
    FilingStore,
    ReadOnlyDatabase,
    StaleChange,
    journal_path,
    lock_path,
)


def test_create_then_load_gives_back_the_filings(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "filings.json"  # the folder is created
    progress: list[int] = []
    filings = [make_filing(n) for n in range(1, 2501)]
    created = FilingStore.create(path, filings, progress=progress.append)
    assert progress == [1000, 2000, 2500]
    assert len(created) == 2500
    visited: list[FilingSummary] = []
    store = FilingStore(path)
    assert store.load(visited.append) == 2500
    assert visited == [summarize(filing) for filing in filings]
    assert store.summary(fid(7)) == summarize(filings[6])
    assert store.ids()[:2] == [fid(1), fid(2)]
    assert fid(7) in store and "ICP-2026-99999" not in store
    assert store.get(fid(7)) == filings[6]
    assert gc.isenabled()  # the load paused the collector and turned it back on
    assert not store.read_only


def test_create_refuses_to_overwrite_a_database(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("kept"))
    before = snapshot_files(path)
    with pytest.raises(DatabaseExists, match="already exists; it was left as it is"):
        FilingStore.create(path, [make_filing(9)])
    assert snapshot_files(path) == before
    # With overwrite, the old journal's changes must not reappear in the new database.
    FilingStore.create(path, [make_filing(1)], overwrite=True)
    store = FilingStore(path)
    assert store.load() == 1
    assert store.get(fid(1)).notes == ()


def test_create_replaces_a_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "filings.json"
    path.write_bytes(b"")
    FilingStore.create(path, [make_filing(1)])
    assert FilingStore(path).load() == 1


def test_create_refuses_duplicate_and_invalid_filings(tmp_path: Path) -> None:
    path = tmp_path / "filings.json"
    with pytest.raises(DuplicateFiling):
        FilingStore.create(path, [make_filing(1), make_filing(1)])
    bad = replace(make_filing(2), history=())
    with pytest.raises(InvalidRecord, match="empty history"):
        FilingStore.create(path, [bad])
    assert not path.exists()


def test_created_files_are_not_world_readable(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        path = new_db(tmp_path)
        FilingStore(path).commit(fid(1), noter("x"))
    finally:
        os.umask(old_umask)
    for file in (path, journal_path(path), lock_path(path)):
        mode = stat.S_IMODE(os.stat(file).st_mode)
        assert mode & 0o007 == 0, (file, oct(mode))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660  # 0o660 before the umask


def test_replacing_the_base_gives_it_the_database_mode(tmp_path: Path) -> None:
    """0660 whatever the old base had: its mode is not the database's policy."""
    path = new_db(tmp_path)
    os.chmod(path, 0o600)
    store = FilingStore(path)
    store.commit(fid(1), noter("x"))
    store.compact()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660


def test_commit_returns_the_saved_filing_and_others_see_it(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    mine, theirs = FilingStore(path), FilingStore(path)
    theirs.load()
    saved = mine.commit(fid(2), noter("called the applicant"), expected_version=1)
    assert saved.version == 2 and saved.notes[-1].text == "called the applicant"
    assert FilingStore(path).get(fid(2)) == saved
    assert theirs.get(fid(2)).version == 1  # until it polls
    assert theirs.poll() == [saved]
    assert theirs.get(fid(2)) == saved
    assert theirs.poll() == []


def test_stale_change_names_who_changed_it_and_writes_nothing(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    alice, bob = FilingStore(path), FilingStore(path)
    alice.load()
    bob.load()
    alice.commit(fid(1), noter("mine", by="alice"), expected_version=1)
    before = snapshot_files(path)
    with pytest.raises(StaleChange) as caught:
        bob.commit(fid(1), noter("too late", by="bob"), expected_version=1)
    assert str(caught.value) == (
        "ICP-2026-00001 was changed by alice at 2026-11-20 14:08 (now version 2); "
        "your change was not saved"
    )
    assert caught.value.current.notes[-1].text == "mine"
    assert snapshot_files(path) == before
    # Acting on the current version (the CLI's expected_version=None) goes through.
    assert bob.commit(fid(1), noter("on top", by="bob")).version == 3


def test_commit_refuses_a_change_that_breaks_the_rules(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store = FilingStore(path)
    before = snapshot_files(path)
    with pytest.raises(ValueError, match="must return it at version 2"):
        store.commit(fid(1), lambda f: replace(f, domain="other.cn"))
    with pytest.raises(InvalidRecord, match="empty history"):
        store.commit(fid(1), lambda f: replace(f, version=2, history=()))
    with pytest.raises(UnknownFiling, match=f"no filing ICP-2026-99999 in {path}"):
        store.commit("ICP-2026-99999", lambda f: f)
    with pytest.raises(UnknownFiling, match=f"no filing ICP-2026-99999 in {path}"):
        store.get("ICP-2026-99999")
    assert snapshot_files(path) == before


def test_add_appends_a_new_document(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store, other = FilingStore(path), FilingStore(path)
    other.load()

    def make(existing: set[str]) -> Filing:
        return make_filing(len(existing) + 1)

    added = store.add(make)
    assert added.id == fid(4)
    assert other.poll() == [added]
    assert other.ids()[-1] == fid(4)
    with pytest.raises(DuplicateFiling, match="ICP-2026-00001 already exists"):
        store.add(lambda existing: make_filing(1))
    store.compact()
    assert '"4": {"id":"ICP-2026-00004"' in path.read_text()


def test_poll_reads_only_the_new_journal_line(tmp_path: Path) -> None:
    path = new_db(tmp_path, 200, padding=900)
    writer, watcher = FilingStore(path), FilingStore(path)
    watcher.load()
    before = watcher.bytes_read
    assert watcher.poll() == []
    assert watcher.bytes_read == before  # nothing changed: nothing opened
    journal_before = journal_path(path).stat().st_size
    saved = writer.commit(fid(150), noter("x" * 200))
    line = journal_path(path).stat().st_size - journal_before
    assert line > 1000
    assert watcher.poll() == [saved]
    read = watcher.bytes_read - before
    assert line <= read <= line + 128  # the new line, and the header to check it is the same file
    assert read < path.stat().st_size / 50


def test_poll_after_someone_else_compacted_lists_only_what_changed(tmp_path: Path) -> None:
    path = new_db(tmp_path, 20)
    writer, watcher = FilingStore(path), FilingStore(path)
    watcher.load()
    saved = writer.commit(fid(3), noter("x"))
    writer.compact()
    assert watcher.poll() == [saved]
    assert watcher.poll() == []
    assert watcher.get(fid(3)) == saved
    # The watcher can write at once against the new base and journal.
    assert watcher.commit(fid(3), noter("y"), expected_version=2).version == 3
    assert writer.poll() is not None
    assert writer.get(fid(3)).version == 3


def test_poll_includes_changes_caught_up_by_a_commit(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    a, b = FilingStore(path), FilingStore(path)
    a.load()
    b.load()
    theirs = a.commit(fid(1), noter("theirs"))
    mine = b.commit(fid(2), noter("mine"))  # catches up with fid(1) under the lock
    assert sorted(b.poll() or [], key=lambda f: f.id) == [theirs, mine]


def test_compaction_is_due_by_size_and_keeps_everything(tmp_path: Path) -> None:
    path = new_db(tmp_path, 50, padding=800)
    store = FilingStore(path)
    store.load()
    assert store.compact_if_due() is False
    base_size = path.stat().st_size
    compactions = 0
    for i in range(120):
        store.commit(fid(i % 50 + 1), noter(f"note {i} " + "n" * 300))
        compactions += store.compact_if_due()
    assert compactions >= 1
    journal_size = journal_path(path).stat().st_size
    assert journal_size <= max(64 * 1024, path.stat().st_size / 10) + 2000
    assert path.stat().st_size > base_size
    fresh = FilingStore(path)
    fresh.load()
    assert sum(len(fresh.get(fid(n)).notes) for n in range(1, 51)) == 120
    assert [n.text[:7] for n in fresh.get(fid(1)).notes] == ["note 0 ", "note 50", "note 10"]


def test_write_cost_is_amortised_within_twenty_times_the_record(tmp_path: Path) -> None:
    path = new_db(tmp_path, 400, padding=900)
    store = FilingStore(path)
    store.load()
    changes = 300
    for i in range(changes):
        store.commit(fid(i % 400 + 1), noter("n"))
        store.compact_if_due()
    record = len(path.read_bytes()) / 400
    assert store.bytes_written / changes < 20 * record


def test_read_only_when_the_files_may_not_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = new_db(tmp_path)
    real_access = os.access

    def access(target: object, mode: int, **kwargs: object) -> bool:
        if Path(str(target)) == path and mode & os.W_OK:
            return False
        return real_access(target, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    before = snapshot_files(path)
    store = FilingStore(path)
    assert store.load() == 3
    assert store.read_only
    reason = f"you may not write {path}, so it is open read-only"  # the path said once
    assert store.read_only_reason == reason
    with pytest.raises(ReadOnlyDatabase, match="is open read-only"):
        store.commit(fid(1), noter("x"))
    with pytest.raises(ReadOnlyDatabase):
        store.compact()
    assert store.compact_if_due() is False
    assert snapshot_files(path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_read_only_file_on_disk(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    os.chmod(path, 0o444)
    store = FilingStore(path)
    store.load()
    assert store.read_only
    with pytest.raises(ReadOnlyDatabase):
        store.commit(fid(1), noter("x"))


def test_newer_schema_opens_read_only(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    text = path.read_text().replace('"schema_version": 1', '"schema_version": 2', 1)
    path.write_text(text)
    before = snapshot_files(path)
    store = FilingStore(path)
    assert store.load() == 3
    assert store.read_only_reason == (
        f"{path} was written by a newer icp-tui (schema 2, this one knows 1): opened read-only"
    )
    with pytest.raises(ReadOnlyDatabase, match=r"newer icp-tui \(schema 2"):
        store.commit(fid(1), noter("x"))
    assert store.compact_if_due() is False
    assert snapshot_files(path) == before


def test_times_in_the_stale_message_are_beijing_time(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    path = new_db(tmp_path)
    a, b = FilingStore(path), FilingStore(path)
    b.load()
    a.commit(fid(1), noter("x", by="carol", at=datetime(2026, 11, 20, 7, 30, tzinfo=UTC)))
    with pytest.raises(StaleChange, match="changed by carol at 2026-11-20 15:30"):
        b.commit(fid(1), noter("y"), expected_version=1)
