"""A bad database file is named and explained, and left exactly as it was."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from store_helpers import edit_journal, fid, new_db, noter, snapshot_files, temp_files

from icp_tui.store import (
    DatabaseCorrupt,
    DatabaseMissing,
    FilingStore,
    NewerSchema,
    StoreError,
    journal_path,
)
from icp_tui.store.journal import journal_header


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _missing(path: Path) -> None:
    path.unlink()
    journal_path(path).unlink()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 3 + os.urandom(100))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _top_level_list(path: Path) -> None:
    path.write_text("[1, 2, 3]\n")


def _no_filings_table(path: Path) -> None:
    path.write_text('{"_meta": {"1": {"schema_version": 1, "generation": 1}}, "_default": {}}')


def _no_meta(path: Path) -> None:
    document = json.loads(path.read_text())
    del document["_meta"]
    path.write_text(json.dumps(document))


def _filings_is_a_list(path: Path) -> None:
    path.write_text('{"_meta": {"1": {"schema_version": 1}}, "filings": []}')


def _unknown_stage(path: Path) -> None:
    _replace_once(path, '"stage":"preliminary_review"', '"stage":"foo"')


def _impossible_history(path: Path) -> None:
    # Straight from preliminary review to approved, and the stage to match.
    _replace_once(
        path,
        '"stage":"preliminary_review"',
        '"stage":"approved"',
    )
    _replace_once(
        path,
        '"reason":"submitted"}]',
        '"reason":"submitted"},{"at":"2026-11-20T15:00:00+08:00","by":"bob",'
        '"from":"preliminary_review","to":"approved","reason":""}]',
    )


def _duplicate_ids(path: Path) -> None:
    _replace_once(path, f'"id":"{fid(2)}"', f'"id":"{fid(1)}"')


def _naive_datetime(path: Path) -> None:
    _replace_once(
        path, '"entered_at":"2026-11-20T14:03:00+08:00"', '"entered_at":"2026-11-20T14:03:00"'
    )


def _bad_record_in_reformatted_file(path: Path) -> None:
    document = json.loads(path.read_text())
    document["filings"]["3"]["stage"] = "foo"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))


def _journal_garbage_in_the_middle(path: Path) -> None:
    journal = journal_path(path)
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) == 3  # header and two changes (see the fixture)
    journal.write_bytes(lines[0] + b"this is not json\n" + lines[1] + lines[2])


def _journal_bad_record(path: Path) -> None:
    """A bad record on a line whose checksum matches (a writer's bug, not a flipped byte)."""
    edit_journal(
        path, lambda line: line.replace(b'"stage":"preliminary_review"', b'"stage":"foo"', 1)
    )


def _journal_bad_header(path: Path) -> None:
    journal = journal_path(path)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b'{"hello": 1}\n' + b"".join(lines[1:]))


def _journal_newer_than_base(path: Path) -> None:
    """A genuine journal of generation 9 (its header's checksum matches): the base is older."""
    journal = journal_path(path)
    header, rest = journal.read_bytes().split(b"\n", 1)
    assert header + b"\n" == journal_header(1)
    journal.write_bytes(journal_header(9) + rest)


def _newer_schema_unreadable(path: Path) -> None:
    _replace_once(path, '"schema_version": 1', '"schema_version": 7')
    _unknown_stage(path)


CASES: list[tuple[str, Callable[[Path], None], type[StoreError], str]] = [
    ("missing", _missing, DatabaseMissing, r"no database at {P}: create one with `icp-tui init`"),
    ("0 bytes", _empty, DatabaseCorrupt, r"{P} is empty \(0 bytes\), which is not a database"),
    ("random bytes", _random_bytes, DatabaseCorrupt, r"{P}: not a JSON database$"),
    (
        "truncated",
        _truncated,
        DatabaseCorrupt,
        r"{P}: not a JSON database \(the JSON breaks at line \d+, column \d+\)$",
    ),
    ("a list", _top_level_list, DatabaseCorrupt, r"{P}: not a TinyDB database \(the top level"),
    ("no filings", _no_filings_table, DatabaseCorrupt, r'{P}: no "filings" table'),
    ("no _meta", _no_meta, DatabaseCorrupt, r'{P}: no "_meta" table'),
    ("filings list", _filings_is_a_list, DatabaseCorrupt, r'{P}: the "filings" table is a list'),
    (
        "unknown stage",
        _unknown_stage,
        DatabaseCorrupt,
        r"{P}: filing 'ICP-2026-00001': 'stage' must be a known stage, not 'foo'",
    ),
    (
        "impossible history",
        _impossible_history,
        DatabaseCorrupt,
        r"{P}: filing 'ICP-2026-00001': history has a move preliminary_review -> approved",
    ),
    (
        "duplicate ids",
        _duplicate_ids,
        DatabaseCorrupt,
        r"{P}: filing 'ICP-2026-00001' appears twice \(documents 1 and 2\)",
    ),
    (
        "naive datetime",
        _naive_datetime,
        DatabaseCorrupt,
        r"{P}: filing 'ICP-2026-00001': 'entered_at' must be a time with a time zone offset",
    ),
    (
        "reformatted, bad record",
        _bad_record_in_reformatted_file,
        DatabaseCorrupt,
        r"{P}: filing 'ICP-2026-00003': 'stage' must be a known stage",
    ),
    (
        "journal garbage mid-file",
        _journal_garbage_in_the_middle,
        DatabaseCorrupt,
        r"{J} line 2: not JSON",
    ),
    (
        "journal bad record",
        _journal_bad_record,
        DatabaseCorrupt,
        r"{J} line 2: filing 'ICP-2026-00001': 'stage' must be a known stage",
    ),
    (
        "journal bad header",
        _journal_bad_header,
        DatabaseCorrupt,
        r"{J} line 1: not a journal header",
    ),
    (
        "journal newer than base",
        _journal_newer_than_base,
        DatabaseCorrupt,
        r"{J}: journal generation 9 is newer than the database's \(1\)",
    ),
    (
        "newer schema, unreadable",
        _newer_schema_unreadable,
        NewerSchema,
        r"{P} was written by a newer icp-tui \(schema 7, this one knows 1\) and cannot be read",
    ),
]


@pytest.mark.parametrize(
    ("spoil", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file_is_named_and_left_untouched(
    tmp_path: Path,
    spoil: Callable[[Path], None],
    error: type[StoreError],
    message: str,
) -> None:
    path = new_db(tmp_path)
    writer = FilingStore(path)
    writer.commit(fid(1), noter("one"))
    writer.commit(fid(2), noter("two"))
    spoil(path)
    before = snapshot_files(path)
    pattern = message.format(P=_escaped(path), J=_escaped(journal_path(path)))

    with pytest.raises(error, match=pattern):
        FilingStore(path).load()
    # Writers refuse too, before touching anything.
    with pytest.raises(error, match=pattern):
        FilingStore(path).commit(fid(1), noter("three"))
    with pytest.raises(error, match=pattern):
        FilingStore(path).compact()
    with pytest.raises(error, match=pattern):
        FilingStore(path).compact_if_due()
    assert snapshot_files(path) == before
    assert temp_files(path) == []


def test_an_open_store_reports_a_file_gone_bad_and_keeps_its_data(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store = FilingStore(path)
    store.load()
    _unknown_stage(path)
    before = snapshot_files(path)
    with pytest.raises(DatabaseCorrupt, match="must be a known stage"):
        store.poll()
    with pytest.raises(DatabaseCorrupt, match="must be a known stage"):
        store.commit(fid(2), noter("x"))
    # The handle keeps what it read of the queue. Full records are read from the base file
    # when needed, and this one was rewritten in place: its old records are gone from disk,
    # so reading one says what is wrong with the file now, rather than give a stale record.
    assert store.summary(fid(1)).stage.value == "preliminary_review"
    with pytest.raises(DatabaseCorrupt, match="must be a known stage"):
        store.get(fid(1))
    assert snapshot_files(path) == before


def _escaped(path: Path) -> str:
    return re.escape(str(path))
