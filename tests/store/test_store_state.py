"""Building a store's state from what was read (store/state.py), without any file: snapshots
are made in memory, so each rule of the loader is checked on its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from store_helpers import T0, fid, make_filing

from icp_tui.domain.asof import Record
from icp_tui.domain.errors import UnknownFiling
from icp_tui.domain.filing import Filing, to_record
from icp_tui.domain.summary import summarize
from icp_tui.domain.transitions import add_note
from icp_tui.store import DatabaseCorrupt, JournalDamaged, NewerSchema
from icp_tui.store.journal import (
    SCHEMA_VERSION,
    BaseFile,
    JournalEntry,
    JournalRead,
    Snapshot,
    SummaryRead,
    journal_path,
)
from icp_tui.store.state import apply_journal, build_state, decode, decode_for_rebuild

PATH = Path("/nowhere/filings.json")  # only named in messages: nothing is opened
GENERATION = 3


def raw(filing: Filing) -> bytes:
    return orjson.dumps(to_record(filing))


def snapshot(
    filings: list[Filing],
    *,
    rows: bool = True,
    entries: tuple[tuple[int, Filing], ...] = (),
    records: list[tuple[int, bytes, int | None]] | None = None,
    schema_version: int = SCHEMA_VERSION,
    ident: tuple[int, int, int, int] = (1, 1, 1, 1),
) -> Snapshot:
    """A base of `filings` (documents 1..n), with the sidecar rows if `rows`, and a journal of
    the same generation holding `entries` (document id, filing)."""
    if records is None:
        records = [(n, raw(f), n + 1) for n, f in enumerate(filings, 1)]
    base = BaseFile(
        path=PATH,
        ident=ident,
        schema_version=schema_version,
        generation=GENERATION,
        tables={"_meta": {"1": {"schema_version": schema_version, "generation": GENERATION}}},
        records=records,
        laid_out=True,
    )
    journal = JournalRead(
        path=journal_path(PATH),
        ino=(9, 9),
        generation=GENERATION,
        format=2,
        entries=[
            JournalEntry(line, doc_id, to_record(f), raw(f))
            for line, (doc_id, f) in enumerate(entries, 2)
        ],
        end=100 + len(entries),
        lines=1 + len(entries),
        size=100 + len(entries),
    )
    summary = SummaryRead(
        rows=[summarize(f).to_row() for f in filings] if rows else None,
        ident=(2, 2, 2, 2) if rows else None,
    )
    return Snapshot(base=base, journal=journal, bytes_read=0, summary=summary)


def noted(filing: Filing, text: str = "called the applicant") -> Filing:
    return add_note(filing, T0 + timedelta(minutes=5), "bob", text)


FILINGS = [make_filing(n) for n in (1, 2, 3)]


@pytest.mark.parametrize("rows", [True, False], ids=["through the sidecar", "records read"])
def test_a_snapshot_becomes_documents_ids_and_summaries(rows: bool) -> None:
    state, changed = build_state(PATH, snapshot(FILINGS, rows=rows), None)
    assert state.by_id == {fid(1): 1, fid(2): 2, fid(3): 3}
    assert state.summaries == {f.id: summarize(f) for f in FILINGS}
    assert [decode(PATH, state, f.id) for f in FILINGS] == FILINGS
    assert changed == [f.id for f in FILINGS]
    assert (state.summary_id is not None) is rows
    assert (state.generation, state.journal_ino, state.journal_end) == (GENERATION, (9, 9), 100)


def test_through_the_sidecar_a_bad_record_is_refused_only_when_decoded() -> None:
    records = [(1, b'{"id": "ICP-2026-00001", "broken', 2)]
    state, _ = build_state(PATH, snapshot(FILINGS[:1], records=records), None)
    assert state.summaries[fid(1)] == summarize(FILINGS[0])
    damaged = r"ICP-2026-00001.*is damaged: its record is not JSON$"
    with pytest.raises(DatabaseCorrupt, match=damaged):
        decode(PATH, state, fid(1))


def test_a_step_in_time_reads_a_record_as_decode_does_and_refuses_what_it_refuses() -> None:
    """`decode_for_rebuild`: the light record of a valid filing (its summary the filing's),
    and for a damaged one decode's own refusal, not a summary of the damage."""
    state, _ = build_state(PATH, snapshot(FILINGS), None)
    light = decode_for_rebuild(PATH, state, fid(2))
    assert isinstance(light, Record) and summarize(light) == summarize(FILINGS[1])
    records = [(1, b'{"id": "ICP-2026-00001", "broken', 2), (2, raw(noted(FILINGS[1])), 3)]
    state, _ = build_state(PATH, snapshot(FILINGS[:2], records=records), None)
    with pytest.raises(DatabaseCorrupt, match=r"ICP-2026-00001.*is damaged: its record is not"):
        decode_for_rebuild(PATH, state, fid(1))
    # A record of another version than its summary says: decode names the mismatch.
    with pytest.raises(DatabaseCorrupt, match=r"holds filing 'ICP-2026-00002' version 2"):
        decode_for_rebuild(PATH, state, fid(2))
    with pytest.raises(UnknownFiling):
        decode_for_rebuild(PATH, state, fid(7))


def test_without_the_sidecar_a_bad_record_is_refused_with_its_line() -> None:
    records = [(1, raw(FILINGS[0]), 2), (2, b'{"id": 1,}', 3)]
    breaks = r"filings\.json: not a JSON database \(the JSON breaks at line 3, column"
    with pytest.raises(DatabaseCorrupt, match=breaks):
        build_state(PATH, snapshot(FILINGS[:2], rows=False, records=records), None)


def test_rows_that_contradict_the_records_fall_back_to_reading_them() -> None:
    bad_rows = snapshot(FILINGS)
    assert bad_rows.summary.rows is not None
    bad_rows.summary.rows[1] = bad_rows.summary.rows[0]  # the same filing twice
    state, _ = build_state(PATH, bad_rows, None)
    assert state.summary_id is None  # a sidecar not used does not count: compaction is due
    assert state.summaries == {f.id: summarize(f) for f in FILINGS}


def test_a_filing_in_two_documents_is_refused() -> None:
    twice = [(1, raw(FILINGS[0]), 2), (2, raw(FILINGS[0]), 3)]
    with pytest.raises(DatabaseCorrupt, match=r"ICP-2026-00001' appears twice \(documents 1 and 2"):
        build_state(PATH, snapshot(FILINGS[:1], rows=False, records=twice), None)


def test_a_bad_record_of_a_newer_schema_says_so() -> None:
    bad = to_record(FILINGS[0]) | {"stage": "somewhere new"}
    records = [(1, orjson.dumps(bad), 2)]
    with pytest.raises(NewerSchema, match=r"newer icp-tui \(schema 99, this one knows"):
        build_state(PATH, snapshot([], rows=False, records=records, schema_version=99), None)


def test_journal_entries_replace_and_add_documents() -> None:
    changed_one, added = noted(FILINGS[0]), make_filing(4)
    read = snapshot(FILINGS, entries=((1, changed_one), (4, added)))
    state, _ = build_state(PATH, read, None)
    assert state.by_id[fid(4)] == 4
    assert decode(PATH, state, fid(1)) == changed_one
    assert state.summaries[fid(1)] == summarize(changed_one)
    assert state.summaries[fid(4)] == summarize(added)
    assert state.journal_lines == 3


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ((2, make_filing(1)), r"line 2: puts filing 'ICP-2026-00001' into document 2, which holds"),
        ((7, make_filing(3)), r"line 2: adds filing 'ICP-2026-00003' again \(it is document 3\)"),
    ],
    ids=["into another's document", "added twice"],
)
def test_a_journal_entry_that_contradicts_the_base_is_damage(
    entry: tuple[int, Filing], message: str
) -> None:
    with pytest.raises(JournalDamaged, match=message):
        build_state(PATH, snapshot(FILINGS, entries=(entry,)), None)


def test_an_invalid_journal_entry_names_its_line() -> None:
    broken = replace(FILINGS[0], version=0)
    with pytest.raises(JournalDamaged, match=r"filings\.json\.journal line 2: .*repair"):
        build_state(PATH, snapshot(FILINGS, entries=((1, broken),)), None)


@pytest.mark.parametrize("rows", [True, False], ids=["through the sidecar", "records read"])
def test_a_rebuild_reuses_unchanged_documents_and_lists_only_changes(rows: bool) -> None:
    previous, _ = build_state(PATH, snapshot(FILINGS, rows=rows), None)
    newer = [FILINGS[0], noted(FILINGS[1]), FILINGS[2]]
    state, changed = build_state(PATH, snapshot(newer, rows=rows, ident=(1, 2, 1, 1)), previous)
    assert changed == [fid(2)]
    assert state.summaries[fid(1)] is previous.summaries[fid(1)]
    assert state.summaries[fid(3)] is previous.summaries[fid(3)]
    assert state.summaries[fid(2)] == summarize(newer[1])


def test_apply_journal_adds_what_was_read_since_and_follows_it() -> None:
    state, _ = build_state(PATH, snapshot(FILINGS), None)
    later = snapshot(FILINGS, entries=((2, noted(FILINGS[1])), (4, make_filing(4)))).journal
    later.end = 250
    assert apply_journal(PATH, state, later) == [fid(2), fid(4)]
    assert state.summaries[fid(2)] == summarize(noted(FILINGS[1]))
    assert fid(4) in state.by_id
    assert state.journal_end == 250


def test_apply_journal_changes_nothing_if_an_entry_is_bad() -> None:
    state, _ = build_state(PATH, snapshot(FILINGS), None)
    before = (dict(state.by_doc), dict(state.by_id), dict(state.summaries), state.journal_end)
    bad = snapshot(FILINGS, entries=((4, make_filing(4)), (1, make_filing(2)))).journal
    with pytest.raises(JournalDamaged):
        apply_journal(PATH, state, bad)
    assert (state.by_doc, state.by_id, state.summaries, state.journal_end) == before


def test_decode_refuses_an_unknown_id_and_a_record_its_summary_contradicts() -> None:
    state, _ = build_state(PATH, snapshot(FILINGS), None)
    with pytest.raises(UnknownFiling, match="no filing ICP-2026-00009"):
        decode(PATH, state, fid(9))
    state.by_doc[1] = (fid(1), raw(noted(FILINGS[0])))  # version 2 where the row says 1
    with pytest.raises(DatabaseCorrupt, match=r"version 2, but .*summary lists .* version 1"):
        decode(PATH, state, fid(1))
