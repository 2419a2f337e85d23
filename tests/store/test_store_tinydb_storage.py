"""JournaledStorage: staff scripts using TinyDB see the truth and write safely."""

from __future__ import annotations

from pathlib import Path

import pytest
import tinydb
from store_helpers import fid, make_filing, new_db, noter, snapshot_files

from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import to_record
from icp_tui.store import DatabaseChanged, FilingStore, JournaledStorage, ReadOnlyDatabase


def test_read_includes_the_journal(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    saved = FilingStore(path).commit(fid(2), noter("only in the journal"))
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        record = db.table("filings").get(doc_id=2)
        assert record == to_record(saved)
        assert len(db.table("filings")) == 3
        assert db.table("_meta").get(doc_id=1) == {"schema_version": 1, "generation": 1}
    # Plain TinyDB sees only the base: that is why scripts should use JournaledStorage.
    with tinydb.TinyDB(path) as db:
        old = db.table("filings").get(doc_id=2)
        assert isinstance(old, dict) and old["version"] == 1


def test_update_is_a_validated_compaction_that_dashboards_notice(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    dashboard = FilingStore(path)
    dashboard.load()
    FilingStore(path).commit(fid(1), noter("in the journal"))
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        db.table("filings").update({"assignee": "dave"}, doc_ids=[3])
    # Written as a compaction: a new base generation and an empty journal.
    assert path.read_text().startswith('{"_meta": {"1": {"schema_version": 1, "generation": 2}},')
    assert path.with_name(path.name + ".journal").read_text().count("\n") == 1
    changed = dashboard.poll()
    assert changed is not None
    assert sorted(f.id for f in changed) == [fid(1), fid(3)]
    third = dashboard.get(fid(3))
    assert third.assignee == "dave"
    assert third.version == 2  # raised so an open dashboard's stale edit is refused
    assert dashboard.get(fid(1)).notes[0].text == "in the journal"


def test_invalid_write_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    before = snapshot_files(path)
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        with pytest.raises(InvalidRecord, match="nothing was written: filing 'ICP-2026-00002'"):
            db.table("filings").update({"stage": "foo"}, doc_ids=[2])
        with pytest.raises(InvalidRecord, match="ICP-2026-00001' is in documents 1 and 4"):
            db.table("filings").insert(to_record(make_filing(1)))
    assert snapshot_files(path) == before


def test_a_save_between_read_and_write_is_not_overwritten(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    script = JournaledStorage(path)
    data = script.read()
    assert data is not None
    FilingStore(path).commit(fid(1), noter("by a dashboard"))
    before = snapshot_files(path)
    data["filings"]["2"]["assignee"] = "erin"
    with pytest.raises(DatabaseChanged, match="changed since it was read"):
        script.write(data)
    assert snapshot_files(path) == before
    # Read again, redo, and it goes through with both changes kept.
    data = script.read()
    assert data is not None
    data["filings"]["2"]["assignee"] = "erin"
    script.write(data)
    store = FilingStore(path)
    store.load()
    assert store.get(fid(1)).notes[0].text == "by a dashboard"
    assert store.get(fid(2)).assignee == "erin"


def test_a_new_database_through_tinydb(tmp_path: Path) -> None:
    path = tmp_path / "filings.json"
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        assert db.table("filings").all() == []
        db.table("filings").insert(to_record(make_filing(1)))
    store = FilingStore(path)
    assert store.load() == 1
    assert store.commit(fid(1), noter("x")).version == 2


def test_newer_schema_is_not_written(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    path.write_text(path.read_text().replace('"schema_version": 1', '"schema_version": 5', 1))
    before = snapshot_files(path)
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        assert len(db.table("filings")) == 3
        with pytest.raises(ReadOnlyDatabase, match=r"newer icp-tui \(schema 5"):
            db.table("filings").update({"assignee": "x"}, doc_ids=[1])
    assert snapshot_files(path) == before


def test_removing_a_filing_makes_poll_say_reload(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    dashboard = FilingStore(path)
    dashboard.load()
    with tinydb.TinyDB(path, storage=JournaledStorage) as db:
        db.table("filings").remove(doc_ids=[2])
    assert dashboard.poll() is None
    assert dashboard.ids() == [fid(1), fid(3)]
    assert dashboard.poll() == []


def test_the_readme_snippet_reads_what_the_journal_holds(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("<!-- tinydb-reader -->\n```python\n", 1)[1].split("```", 1)[0]
    path = new_db(tmp_path)
    saved = FilingStore(path).commit(fid(2), noter("only in the journal"))
    scope: dict[str, object] = {}
    exec(snippet.replace("/srv/icp/filings.json", str(path)), scope)
    filings = scope["filings"]
    assert isinstance(filings, list) and to_record(saved) in filings
