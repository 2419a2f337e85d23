"""The summary sidecar: written by every writer of a base, used to open without decoding the
records while it matches the base byte for byte, ignored (and rewritten) otherwise."""

from __future__ import annotations

import os
import re
import stat
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import tinydb
from store_helpers import T0, fid, make_filing, new_db, noter, snapshot_files

from icp_tui.domain import filing as filing_module
from icp_tui.domain.errors import UnknownFiling
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.summary import ROW_FORMAT, FilingSummary, summarize
from icp_tui.domain.transitions import advance, assign, record_ticket
from icp_tui.store import (
    DatabaseCorrupt,
    FilingStore,
    JournaledStorage,
    filing_store,
    journal_path,
    summary_path,
)
from icp_tui.store import state as store_state
from icp_tui.store.journal import atomic_write, base_chunks
from icp_tui.store.state import read_record


def varied_filing(n: int) -> Filing:
    """A filing moved along the happy path n % 6 times (so some have review stretches), some
    assigned or with a ticket."""
    filing = make_filing(n)
    at = T0
    for _ in range(n % 6):
        at += timedelta(hours=20)
        filing = advance(filing, at, "bob")
    if n % 3 == 0:
        filing = assign(filing, at + timedelta(minutes=1), "bob", "carol")
    if n % 4 == 0:
        filing = record_ticket(filing, at + timedelta(minutes=2), "bob", f"T{n}")
    return filing


def varied_db(folder: Path, count: int = 12) -> tuple[Path, list[Filing]]:
    path = folder / "filings.json"
    filings = [varied_filing(n) for n in range(1, count + 1)]
    FilingStore.create(path, filings)
    return path, filings


def sidecar(path: Path) -> dict[str, Any]:
    document = orjson.loads(summary_path(path).read_bytes())
    assert isinstance(document, dict)
    return document


def record_line_ids(path: Path) -> list[str]:
    """The filing id in each record line of the base, in file order."""
    return re.findall(r'^"\d+": \{"id":"([^"]+)"', path.read_text(), flags=re.MULTILINE)


class Decodes:
    """Counts calls of from_record made by the store (the slow path calls it per record)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        # Loading decodes in state.py, writing checks in filing_store.py.
        monkeypatch.setattr(store_state, "from_record", self)
        monkeypatch.setattr(filing_store, "from_record", self)

    def __call__(self, record: Any) -> Filing:
        self.calls += 1
        if self.fail:
            raise AssertionError("from_record called while loading")
        return filing_module.from_record(record)


def assert_consistent(store: FilingStore) -> None:
    """Each summary is what the stored record says."""
    for filing_id in store.ids():
        assert store.summary(filing_id) == summarize(store.get(filing_id)), filing_id


def used_sidecar(store: FilingStore) -> bool:
    state = store._state
    assert state is not None
    return state.summary_id is not None


# --------------------------------------------------------------------------------- writing it


def test_create_writes_a_sidecar_that_describes_the_base(tmp_path: Path) -> None:
    path, filings = varied_db(tmp_path)
    document = sidecar(path)
    st = os.stat(path)
    assert document["summary"] == ROW_FORMAT
    assert document["base"] == {
        "generation": 1,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ino": st.st_ino,
        "crc32": zlib.crc32(path.read_bytes()),
    }
    assert document["rows"] == [summarize(f).to_row() for f in filings]
    assert [row[0] for row in document["rows"]] == record_line_ids(path)
    assert any(row[9] for row in document["rows"])  # some filings have review stretches
    assert stat.S_IMODE(os.stat(summary_path(path)).st_mode) == stat.S_IMODE(st.st_mode)


def test_an_empty_database_has_a_sidecar_too(tmp_path: Path) -> None:
    path = tmp_path / "filings.json"
    FilingStore.create(path)
    assert sidecar(path)["rows"] == []
    store = FilingStore(path)
    assert store.load() == 0
    assert used_sidecar(store)
    assert store.compact_if_due() is False


def test_compaction_writes_a_fresh_sidecar_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, filings = varied_db(tmp_path)
    store = FilingStore(path)
    saved = store.commit(fid(5), noter("x"))
    added = store.add(lambda existing: varied_filing(13))
    decodes = Decodes(monkeypatch, fail=True)
    store.compact()  # no record is decoded to write the summaries
    assert decodes.calls == 0
    monkeypatch.undo()
    document = sidecar(path)
    assert document["base"]["generation"] == 2
    assert document["base"]["size"] == path.stat().st_size
    expected = [summarize(f) for f in filings]
    expected[4] = summarize(saved)
    expected.append(summarize(added))
    assert document["rows"] == [s.to_row() for s in expected]
    assert [row[0] for row in document["rows"]] == record_line_ids(path)
    fresh = FilingStore(path)
    fresh.load()
    assert used_sidecar(fresh)
    assert_consistent(fresh)


def test_the_sidecar_gets_the_database_mode(tmp_path: Path) -> None:
    """Neither the old sidecar's mode nor the base's: 0660, the database's policy."""
    path = new_db(tmp_path)
    os.chmod(path, 0o600)
    os.chmod(summary_path(path), 0o666)
    FilingStore(path).compact()
    assert stat.S_IMODE(os.stat(summary_path(path)).st_mode) == 0o660


def test_a_tinydb_script_write_writes_a_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = varied_db(tmp_path)
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        db.table("filings").update({"assignee": "dave"}, doc_ids=[3])
    assert sidecar(path)["base"]["generation"] == 2
    Decodes(monkeypatch, fail=True)
    store = FilingStore(path)
    store.load()
    assert used_sidecar(store)
    assert store.summary(fid(3)).assignee == "dave"
    assert store.summary(fid(3)).version == varied_filing(3).version + 1  # raised by the write
    monkeypatch.undo()
    assert_consistent(store)


# ---------------------------------------------------------------------------------- using it


def test_load_takes_summaries_from_the_sidecar_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, filings = varied_db(tmp_path, 40)
    decodes = Decodes(monkeypatch, fail=True)
    store = FilingStore(path)
    visited: list[FilingSummary] = []
    assert store.load(visited.append) == 40
    assert decodes.calls == 0
    assert visited == [summarize(f) for f in filings]
    assert store.summary(fid(7)) == summarize(filings[6])
    files = (path, summary_path(path), journal_path(path))
    assert store.bytes_read == sum(f.stat().st_size for f in files)
    monkeypatch.undo()
    assert store.get(fid(7)) == filings[6]  # decoded on demand
    assert_consistent(store)
    assert store.compact_if_due() is False


def test_journal_entries_are_always_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = varied_db(tmp_path, 20)
    writer = FilingStore(path)
    first = writer.commit(fid(2), noter("a"))
    second = writer.commit(fid(2), noter("b"))
    added = writer.add(lambda existing: varied_filing(21))
    decodes = Decodes(monkeypatch)
    store = FilingStore(path)
    visited: list[FilingSummary] = []
    assert store.load(visited.append) == 21
    assert decodes.calls == 3  # the journal lines, not the 20 base records
    assert used_sidecar(store)
    assert first.version + 1 == second.version
    assert store.summary(fid(2)) == summarize(second)
    assert visited[1] == summarize(second)  # current summaries, in document order
    assert visited[-1] == summarize(added)
    assert len(visited) == 21


def test_summary_follows_commits_and_polls(tmp_path: Path) -> None:
    path, _ = varied_db(tmp_path)
    mine, theirs = FilingStore(path), FilingStore(path)
    theirs.load()
    saved = mine.commit(fid(1), lambda f: assign(f, T0 + timedelta(days=9), "bob", "erin"))
    assert mine.summary(fid(1)) == summarize(saved)
    assert theirs.summary(fid(1)).assignee is None  # until it polls
    assert theirs.poll() == [saved]
    assert theirs.summary(fid(1)).assignee == "erin"
    with pytest.raises(UnknownFiling, match=f"no filing ICP-2026-99999 in {re.escape(str(path))}"):
        mine.summary("ICP-2026-99999")


def test_poll_after_a_compaction_decodes_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = varied_db(tmp_path, 30)
    writer, watcher = FilingStore(path), FilingStore(path)
    watcher.load()
    saved = writer.commit(fid(9), noter("x"))
    writer.compact()
    decodes = Decodes(monkeypatch)
    before = watcher.bytes_read
    assert watcher.poll() == [saved]
    assert decodes.calls == 2  # the changed filing: to summarize it, then to return it
    assert used_sidecar(watcher)
    # Taken up from what the compaction says it folded: the new base's records are not read.
    assert watcher.bytes_read - before < path.stat().st_size
    assert watcher.summary(fid(9)) == summarize(saved)
    assert watcher.poll() == []


# --------------------------------------------------------------------------- not using it


def slow_load(path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> FilingStore:
    """Load `path`, checking that every base record was decoded (no sidecar used)."""
    decodes = Decodes(monkeypatch)
    store = FilingStore(path)
    assert store.load() == count
    assert decodes.calls >= count
    assert not used_sidecar(store)
    monkeypatch.undo()
    assert_consistent(store)
    return store


def heals(path: Path, store: FilingStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compaction is due, writes a sidecar, and the next load uses it."""
    assert store.compact_if_due() is True
    assert store.compact_if_due() is False
    fresh = FilingStore(path)
    Decodes(monkeypatch, fail=True)
    fresh.load()
    assert used_sidecar(fresh)
    monkeypatch.undo()
    assert_consistent(fresh)


def test_a_database_without_a_sidecar_is_read_whole_then_gets_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = varied_db(tmp_path)
    summary_path(path).unlink()  # as an older icp-tui left it
    store = slow_load(path, monkeypatch, 12)
    heals(path, store, monkeypatch)


def test_a_sidecar_removed_while_open_makes_compaction_due(tmp_path: Path) -> None:
    path, _ = varied_db(tmp_path)
    store = FilingStore(path)
    store.load()
    assert store.compact_if_due() is False
    summary_path(path).unlink()
    assert store.compact_if_due() is True
    assert summary_path(path).exists()


@pytest.mark.parametrize("how", ["mtime", "appended byte", "same size and mtime"])
def test_a_stale_sidecar_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    path, _ = varied_db(tmp_path)
    st = os.stat(path)
    if how == "mtime":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    elif how == "appended byte":
        with open(path, "ab") as handle:
            handle.write(b"\n")
    else:  # an edit in place the size and time checks cannot see: caught by the CRC
        text = path.read_text()
        assert text.count('"by":"bob"') > 1
        path.write_text(text.replace('"by":"bob"', '"by":"eve"', 1))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert file_stat(path) == file_stat_of(st)
    store = slow_load(path, monkeypatch, 12)
    if how == "same size and mtime":
        assert any(n.by == "eve" for f in map(store.get, store.ids()) for n in f.history)
    heals(path, store, monkeypatch)


def file_stat(path: Path) -> tuple[int, int, int]:
    return file_stat_of(os.stat(path))


def file_stat_of(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def test_a_sidecar_of_another_generation_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = varied_db(tmp_path)
    document = sidecar(path)
    document["base"]["generation"] = 7  # otherwise exactly right
    summary_path(path).write_bytes(orjson.dumps(document))
    slow_load(path, monkeypatch, 12)
    # And an old generation's sidecar put back after a compaction.
    old = summary_path(path).read_bytes()
    FilingStore(path).compact()
    summary_path(path).write_bytes(old)
    store = slow_load(path, monkeypatch, 12)
    heals(path, store, monkeypatch)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json at all",
        b"[1, 2, 3]",
        b'{"summary": 2}',
        b'{"summary": 1, "base": {}, "rows": []}',
    ],
)
def test_a_garbage_sidecar_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    path, _ = varied_db(tmp_path)
    summary_path(path).write_bytes(garbage)
    store = slow_load(path, monkeypatch, 12)
    heals(path, store, monkeypatch)


@pytest.mark.parametrize(
    "spoil",
    ["bad row", "row not a list", "duplicate id", "one row short", "newer row layout"],
)
def test_a_sidecar_with_bad_rows_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoil: str
) -> None:
    path, _ = varied_db(tmp_path)
    document = sidecar(path)  # the header stays right: only the rows are wrong
    rows = document["rows"]
    if spoil == "bad row":
        rows[3][6] = "no_such_stage"
    elif spoil == "row not a list":
        rows[3] = "ICP-2026-00004"
    elif spoil == "duplicate id":
        rows[3][0] = rows[2][0]
    elif spoil == "one row short":
        rows.pop()
    else:
        rows[0].append("a field this version does not know")
    summary_path(path).write_bytes(orjson.dumps(document))
    store = slow_load(path, monkeypatch, 12)
    heals(path, store, monkeypatch)


def test_a_reformatted_base_with_a_matching_sidecar_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = varied_db(tmp_path)
    data = orjson.dumps(orjson.loads(path.read_bytes()), option=orjson.OPT_INDENT_2)
    path.write_bytes(data)
    document = sidecar(path)
    st = os.stat(path)
    document["base"].update(size=st.st_size, mtime_ns=st.st_mtime_ns, crc32=zlib.crc32(data))
    summary_path(path).write_bytes(orjson.dumps(document))  # matches, but not our layout
    store = slow_load(path, monkeypatch, 12)
    heals(path, store, monkeypatch)


# ------------------------------------------------------------------------ bad bases, crashes


def test_a_hand_edited_bad_record_is_refused_as_before(tmp_path: Path) -> None:
    path, _ = varied_db(tmp_path)
    text = path.read_text()
    path.write_text(text.replace('"stage":"preliminary_review"', '"stage":"foo"', 1))
    before = snapshot_files(path)
    message = rf"{re.escape(str(path))}: filing 'ICP-2026-\d+': 'stage' must be a known stage"
    with pytest.raises(DatabaseCorrupt, match=message):
        FilingStore(path).load()
    with pytest.raises(DatabaseCorrupt, match=message):
        FilingStore(path).compact_if_due()
    assert snapshot_files(path) == before


def forge_sidecar(path: Path) -> None:
    """Make the sidecar describe the base as it now is (damage the checks cannot see)."""
    document = sidecar(path)
    data = path.read_bytes()
    st = os.stat(path)
    document["base"].update(size=st.st_size, mtime_ns=st.st_mtime_ns, crc32=zlib.crc32(data))
    summary_path(path).write_bytes(orjson.dumps(document))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"stage":"preliminary_review"',
            '"stage":"foo"',
            r"{P}: filing 'ICP-2026-00006': 'stage' must be a known stage, not 'foo'",
        ),
        ('"id":"ICP-2026-00006",', '"id":"ICP-2026-00006" ', r"{P}: filing 'ICP-2026-00006' "),
        (
            '"id":"ICP-2026-00006","version":2',
            '"id":"ICP-2026-00006","version":4',
            r"{P}: document 6 holds filing 'ICP-2026-00006' version 4, but {S} lists "
            r"'ICP-2026-00006' version 2",
        ),
    ],
    ids=["invalid", "not json", "other version"],
)
def test_a_bad_record_the_sidecar_vouches_for_is_refused_when_read(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path, _ = varied_db(tmp_path)
    assert varied_filing(6).version == 2  # assigned once
    text = path.read_text()
    line = next(n for n in text.splitlines() if n.startswith('"6": '))
    assert old in line
    path.write_text(text.replace(line, line.replace(old, new, 1)))
    forge_sidecar(path)
    before = snapshot_files(path)
    store = FilingStore(path)
    assert store.load() == 12  # the sidecar says the base is what our writer wrote
    pattern = message.format(P=re.escape(str(path)), S=re.escape(str(summary_path(path))))
    with pytest.raises(DatabaseCorrupt, match=pattern):
        store.get(fid(6))
    with pytest.raises(DatabaseCorrupt, match=pattern):
        store.commit(fid(6), noter("x"))
    assert snapshot_files(path) == before
    assert store.get(fid(5)).id == fid(5)  # the others are fine
    assert store.commit(fid(5), noter("x")).version == store.summary(fid(5)).version


def test_killed_between_base_and_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = varied_db(tmp_path)
    store = FilingStore(path)
    saved = store.commit(fid(1), noter("a"))
    # The first step of a compaction only: base generation 2, sidecar and journal still 1.
    state = store._state
    assert state is not None
    records = [
        (doc, read_record(state, stored)) for doc, (_, stored) in sorted(state.by_doc.items())
    ]
    atomic_write(path, base_chunks({}, 2, records), tmp_for=path)
    assert sidecar(path)["base"]["generation"] == 1
    fresh = slow_load(path, monkeypatch, 12)
    assert fresh.get(fid(1)) == saved  # from the new base; the stale journal is not re-applied
    assert fresh.summary(fid(1)) == summarize(saved)
    # The next write catches up; the next compaction writes a sidecar for generation 3.
    assert fresh.commit(fid(2), noter("b")).version >= 2
    heals(path, fresh, monkeypatch)
    assert sidecar(path)["base"]["generation"] == 3
    assert store.poll() is not None
    assert_consistent(store)


def test_a_failed_sidecar_write_leaves_a_whole_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from icp_tui.store import StoreError, journal

    path, _ = varied_db(tmp_path)
    store = FilingStore(path)
    saved = store.commit(fid(4), noter("kept"))

    def fail(*args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal, "write_summary", fail)
    with pytest.raises(StoreError, match="could not save"):
        store.compact()
    monkeypatch.undo()
    fresh = slow_load(path, monkeypatch, 12)
    assert fresh.get(fid(4)) == saved
    assert store.get(fid(4)) == saved
    heals(path, store, monkeypatch)


def test_loading_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    import gc

    path, _ = varied_db(tmp_path)
    FilingStore(path).load()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        FilingStore(path).load()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_summaries_of_every_stage_round_trip(tmp_path: Path) -> None:
    path, filings = varied_db(tmp_path, 24)
    assert {f.stage for f in filings} >= {Stage.PRELIMINARY_REVIEW, Stage.PHOTO_REVIEW}
    store = FilingStore(path)
    store.load()
    assert used_sidecar(store)
    for filing in filings:
        assert store.summary(filing.id) == summarize(filing)
        assert FilingSummary.from_row(summarize(filing).to_row()) == summarize(filing)
    assert make_filing(1).id == fid(1)
