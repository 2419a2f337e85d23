"""Copying a queue between the file store and PostgreSQL (`icp-tui migrate`), both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import fid, make_filing, noter

from icp_tui.domain.filing import to_record
from icp_tui.store import FilingStore, open_store
from icp_tui.store.copying import CopyMismatch, copy_queue
from icp_tui.store.postgres import PostgresStore


def records(location: Path | str) -> list[dict[str, object]]:
    store = open_store(location)
    store.load()
    return [to_record(store.get(i)) for i in store.ids()]


def test_file_to_postgresql_and_back_keeps_every_record(tmp_path: Path, postgres_uri: str) -> None:
    path = tmp_path / "filings.json"
    store = FilingStore.create(path, [make_filing(n) for n in (1, 2, 3)])
    store.commit(fid(2), noter("with history"))
    report = copy_queue(path, postgres_uri)
    assert (report.copied, report.already_there, report.verified) == (3, 0, 3)
    assert "copied 3 filings" in report.line() and "\n" not in report.line()
    assert records(postgres_uri) == records(path)
    again = copy_queue(path, postgres_uri)
    assert (again.copied, again.already_there, again.target_total) == (0, 3, 3)
    back = tmp_path / "back" / "filings.json"
    assert copy_queue(postgres_uri, back).copied == 3
    assert records(back) == records(path)


def test_an_interrupted_copy_is_finished_and_a_conflict_overwrites_nothing(
    tmp_path: Path, postgres_uri: str
) -> None:
    path = tmp_path / "filings.json"
    FilingStore.create(path, [make_filing(n) for n in (1, 2, 3, 4)])
    target = PostgresStore.create(postgres_uri, [make_filing(1), make_filing(2)])
    target.close()
    report = copy_queue(path, postgres_uri)
    assert (report.copied, report.already_there) == (2, 2)
    assert records(postgres_uri) == records(path)
    changed = PostgresStore(postgres_uri)
    changed.commit(fid(3), noter("changed in the target only"))
    changed.close()
    FilingStore(path).add(lambda existing: make_filing(5))
    with pytest.raises(CopyMismatch, match="ICP-2026-00003 differs"):
        copy_queue(path, postgres_uri)
    assert fid(5) not in [r["id"] for r in records(postgres_uri)]
