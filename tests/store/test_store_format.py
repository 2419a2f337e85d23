"""The file format: layout, torn journal tails, interrupted compaction, reformatting, migration."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import tinydb
from store_helpers import edit_journal, fid, make_filing, new_db, noter, snapshot_files

from icp_tui.domain.filing import to_record
from icp_tui.store import (
    FilingStore,
    JournalDamaged,
    StoreError,
    filing_store,
    journal,
    journal_path,
    state,
    storage,
)
from icp_tui.store.journal import atomic_write, base_chunks, journal_header
from icp_tui.store.state import read_record


def test_base_is_one_record_per_line_tinydb_json(tmp_path: Path) -> None:
    path = new_db(tmp_path, 2)
    lines = path.read_text().splitlines()
    assert lines[0] == '{"_meta": {"1": {"schema_version": 1, "generation": 1}},'
    assert lines[1] == '"filings": {'
    assert lines[2].startswith('"1": {"id":"ICP-2026-00001"') and lines[2].endswith("},")
    assert lines[3].startswith('"2": {') and lines[3].endswith("}")
    assert lines[4:] == ["}}"]
    assert journal_path(path).read_text() == journal_header(1).decode()
    # Plain TinyDB (and plain JSON) read it.
    db = tinydb.TinyDB(path)
    try:
        assert db.table("filings").all() == [to_record(make_filing(1)), to_record(make_filing(2))]
    finally:
        db.close()
    assert json.loads(path.read_text())["_meta"]["1"]["generation"] == 1


def test_empty_database_layout(tmp_path: Path) -> None:
    path = tmp_path / "filings.json"
    FilingStore.create(path)
    assert path.read_text() == (
        '{"_meta": {"1": {"schema_version": 1, "generation": 1}},\n"filings": {\n}}\n'
    )
    assert FilingStore(path).load() == 0
    assert json.loads(path.read_text())["filings"] == {}


def test_torn_tail_is_ignored_then_cut_by_the_next_writer(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    saved = FilingStore(path).commit(fid(1), noter("committed"))
    jpath = journal_path(path)
    committed = jpath.read_bytes()
    half = b'{"put": {"id": "ICP-2026-00002", "version": 2, "dom'
    with open(jpath, "ab") as handle:
        handle.write(half)  # a writer killed mid-line
    watcher = FilingStore(path)
    assert watcher.load() == 3
    assert watcher.get(fid(1)) == saved
    assert watcher.get(fid(2)).version == 1
    assert watcher.poll() == []

    again = FilingStore(path).commit(fid(2), noter("next"))
    data = jpath.read_bytes()
    assert data.startswith(committed) and half not in data
    assert all(orjson.loads(line) for line in data.splitlines())
    assert watcher.poll() == [again]


def test_a_whole_last_line_that_does_not_parse_is_refused_and_kept(tmp_path: Path) -> None:
    """It ends in its newline, so it was written whole and may have been acknowledged."""
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("committed"))
    jpath = journal_path(path)
    damaged = jpath.read_bytes() + b"\x00\x00\x00\x00\n"
    jpath.write_bytes(damaged)
    with pytest.raises(JournalDamaged, match=rf"{re.escape(str(jpath))} line 3: not JSON"):
        FilingStore(path).load()
    with pytest.raises(JournalDamaged, match="icp-tui repair"):
        FilingStore(path).commit(fid(1), noter("next"))
    assert jpath.read_bytes() == damaged


def test_every_cut_of_the_journal_loads_a_prefix_of_the_changes(tmp_path: Path) -> None:
    path = new_db(tmp_path, 1)
    store = FilingStore(path)
    for i in range(3):
        store.commit(fid(1), noter(f"change {i}"))
    jpath = journal_path(path)
    full = jpath.read_bytes()
    ends = [i + 1 for i, byte in enumerate(full) if byte == ord("\n")]
    cuts = set(range(0, len(full) + 1, 13)) | {e + d for e in ends for d in (-1, 0, 1)}
    header_end = ends[0]
    for cut in sorted(c for c in cuts if 0 <= c <= len(full)):
        jpath.write_bytes(full[:cut])
        loaded = FilingStore(path)
        if cut < header_end:  # journals are put in place whole: a cut header is damage
            with pytest.raises(JournalDamaged, match="line 1"):
                loaded.load()
            continue
        loaded.load()
        whole_changes = max(0, sum(1 for e in ends if e <= cut) - 1)
        assert loaded.get(fid(1)).version == 1 + whole_changes, cut


def test_compaction_interrupted_between_base_and_journal(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store = FilingStore(path)
    store.commit(fid(1), noter("a"))
    store.commit(fid(1), noter("b"))
    # Do the first half of a compaction by hand: base generation 2, journal still generation 1.
    state = store._state
    assert state is not None
    records = [
        (doc, read_record(state, stored)) for doc, (_, stored) in sorted(state.by_doc.items())
    ]
    atomic_write(path, base_chunks({}, 2, records), tmp_for=path)
    stale = journal_path(path).read_bytes()
    assert stale.startswith(journal_header(1))
    fresh = FilingStore(path)
    fresh.load()
    assert [n.text for n in fresh.get(fid(1)).notes] == ["a", "b"]  # not applied twice
    assert fresh.get(fid(1)).version == 3
    # The next writer replaces the stale journal with one for generation 2.
    fresh.commit(fid(1), noter("c"))
    assert journal_path(path).read_bytes().startswith(journal_header(2))
    assert [n.text for n in FilingStore(path).get(fid(1)).notes] == ["a", "b", "c"]
    assert store.poll() is not None
    assert store.get(fid(1)).version == 4


def test_a_reformatted_file_loads_and_is_laid_out_again(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("j"))
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4, ensure_ascii=False))
    store = FilingStore(path)
    assert store.load() == 3
    assert store.get(fid(1)).notes[0].text == "j"
    assert store.compact_if_due() is True
    assert path.read_text().splitlines()[1] == '"filings": {'
    assert FilingStore(path).get(fid(1)).version == 2


def test_other_tables_survive_compaction(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    db = tinydb.TinyDB(path)  # a script adding its own table with plain TinyDB
    db.table("settings").insert({"theme": "dark"})
    db.close()
    store = FilingStore(path)
    assert store.load() == 3
    store.commit(fid(1), noter("x"))
    store.compact()
    document = json.loads(path.read_text())
    assert document["settings"] == {"1": {"theme": "dark"}}
    assert document["_meta"]["1"]["generation"] == 2
    assert FilingStore(path).load() == 3


@pytest.fixture
def old_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A schema 1 database, then an "upgrade": the code now knows schema 2, whose migration
    renames "site" (schema 1) to "domain"."""
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("before the upgrade"))
    path.write_text(path.read_text().replace('"domain":', '"site":'))
    edit_journal(path, lambda line: line.replace(b'"domain":', b'"site":'))
    for module in (journal, filing_store, state, storage):
        monkeypatch.setattr(module, "SCHEMA_VERSION", 2)

    def rename(tables: dict[str, Any]) -> dict[str, Any]:
        for record in tables["filings"].values():
            record["domain"] = record.pop("site")
        return tables

    monkeypatch.setitem(journal.MIGRATIONS, 1, rename)
    return path


def test_migration_runs_in_memory_until_compaction(old_db: Path) -> None:
    path = old_db
    before = snapshot_files(path)
    store = FilingStore(path)
    assert store.load() == 3
    assert store.get(fid(1)).domain == "site1.example.cn"
    assert store.get(fid(1)).notes[0].text == "before the upgrade"  # old journal migrated too
    assert not store.read_only
    assert snapshot_files(path) == before  # loading never rewrites
    assert store.compact_if_due() is True
    assert '"schema_version": 2' in path.read_text().splitlines()[0]
    assert '"site":' not in path.read_text()
    assert FilingStore(path).get(fid(1)).domain == "site1.example.cn"


def test_first_write_after_an_upgrade_migrates_the_file(old_db: Path) -> None:
    path = old_db
    store = FilingStore(path)
    store.commit(fid(2), noter("after the upgrade"))
    assert '"schema_version": 2' in path.read_text().splitlines()[0]
    assert b'"site":' not in journal_path(path).read_bytes()  # journal never mixes schemas
    fresh = FilingStore(path)
    fresh.load()
    assert fresh.get(fid(2)).notes[0].text == "after the upgrade"
    assert fresh.get(fid(1)).notes[0].text == "before the upgrade"


def test_missing_migration_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = new_db(tmp_path)
    for module in (journal, filing_store, state, storage):
        monkeypatch.setattr(module, "SCHEMA_VERSION", 2)
    with pytest.raises(StoreError, match="no migration from schema 1 to 2"):
        FilingStore(path).load()
