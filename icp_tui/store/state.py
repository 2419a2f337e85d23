"""What a FilingStore handle knows, built from what was read: pure, no files, no locks.

Given a snapshot (the base's raw records, the sidecar's rows, the journal's entries; see
journal.py), `build_state` makes the documents, ids and summaries a handle keeps, reusing what
an earlier state knows of byte-for-byte unchanged records. `apply_journal` adds journal entries
read since, and `decode` turns one kept record into a validated Filing. The reading, the locking
and the writing stay in filing_store.py.

A base record is kept as its place in the base file, not as its bytes (see journal.Stored):
the state keeps that file version open (`records`) and `decode` reads the record from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from icp_tui.domain.asof import Record, read_for_rebuild
from icp_tui.domain.errors import InvalidRecord, UnknownFiling
from icp_tui.domain.filing import Filing, from_record
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.store.errors import DatabaseCorrupt, JournalDamaged, NewerSchema, StoreError
from icp_tui.store.journal import (
    FILINGS,
    JOURNAL_ADVICE,
    LENGTH_MASK,
    SCHEMA_VERSION,
    BaseChanged,
    BaseFile,
    BaseRecords,
    FileId,
    Fold,
    JournalEntry,
    JournalRead,
    Snapshot,
    Stored,
    journal_path,
    load_record,
    merged_tables,
    span,
    summary_path,
)

Docs = dict[int, tuple[str, Stored]]  # doc_id -> (filing id, its record or where it lies)
Summaries = dict[str, FilingSummary]  # filing id -> summary of its current version
Check = Callable[[Any, str], Filing]  # validate a record; the str says where it was read


@dataclass(slots=True)
class StoreState:
    """What a handle knows, and exactly which file contents it reflects."""

    base_id: FileId
    generation: int
    schema_version: int
    laid_out: bool
    tables: dict[str, Any]  # the base's other tables, written back by compaction
    by_doc: Docs
    by_id: dict[str, int]
    summaries: Summaries
    #: Identity of the sidecar we wrote, or read and used, for the base; None if the base has
    #: no usable sidecar, which makes a compaction due.
    summary_id: FileId | None = None
    #: The base file version the places in `by_doc` point into (None if none does).
    records: BaseRecords | None = None
    journal_ino: tuple[int, int] | None = None
    journal_gen: int | None = None
    journal_format: int | None = None
    journal_end: int = 0
    journal_lines: int = 0
    journal_size: int = 0
    #: The line of the live journal that last changed each document it changed (what a
    #: compaction tells other handles it folded, see journal.Folded).
    journal_docs: dict[int, int] = field(default_factory=dict)

    def follow(self, read: JournalRead) -> None:
        """Remember where the journal read ended, to continue from there next time."""
        self.journal_ino, self.journal_gen = read.ino, read.generation
        self.journal_format = read.format
        self.journal_end, self.journal_lines, self.journal_size = read.end, read.lines, read.size

    @property
    def journal_live(self) -> bool:
        """The journal we follow belongs to our base (not stale, headerless or missing)."""
        return self.journal_ino is not None and self.journal_gen == self.generation


def build_state(
    path: Path, snapshot: Snapshot, previous: StoreState | None
) -> tuple[StoreState, list[str]]:
    """Turn a snapshot of the database at `path` into a state; reuse what `previous` knows of
    unchanged records.

    Base records are taken through the sidecar's rows when it describes the base, else
    parsed and validated. Returns the state and the ids whose stored form differs from
    `previous`.
    """
    base = snapshot.base
    check = checker(path, base.schema_version)
    tables = base.tables
    entries = snapshot.live_entries
    earlier = Earlier(previous)
    docs = None
    if snapshot.summary.rows is not None:
        docs = docs_from_rows(base, snapshot.summary.rows, earlier)
    # A sidecar counts only if it was used: one whose rows this code cannot read (say,
    # from another version) is as good as stale, and the next compaction replaces it.
    summary_id = snapshot.summary.ident if docs is not None else None
    if docs is None:
        records, parsed = base.records, base.parsed
        if base.schema_version < SCHEMA_VERSION:
            # Migrate the merged view; the journal of an old base holds old-schema records.
            tables = merged_tables(snapshot)
            parsed = {int(key): rec for key, rec in tables.pop(FILINGS).items()}
            records = [(doc_id, orjson.dumps(rec), None) for doc_id, rec in parsed.items()]
            entries = []
        docs = docs_from_records(path, records, base, parsed, earlier, check)
    by_doc, by_id, summaries = docs
    updates, new_ids, finals = journal_updates(path, by_doc, by_id, entries, check)
    by_doc.update(updates)
    by_id.update(new_ids)
    for filing in finals.values():
        summaries[filing.id] = summarize(filing)
    # A base record was compared as the documents were made; a journal entry is compared now.
    changed = [
        fid
        for doc_id, (fid, stored) in by_doc.items()
        if not (
            doc_id in earlier.same
            if doc_id not in updates
            else earlier.docs and earlier.holds(doc_id, fid, base, stored)
        )
    ]
    state = StoreState(
        base_id=base.ident,
        generation=base.generation,
        schema_version=base.schema_version,
        laid_out=base.laid_out,
        tables=tables,
        by_doc=by_doc,
        by_id=by_id,
        summaries=summaries,
        summary_id=summary_id,
        records=base.reader,
    )
    state.follow(snapshot.journal)
    state.journal_docs = {entry.doc_id: entry.line for entry in entries}
    return state, changed


class Earlier:
    """What an earlier state of the same handle held, to tell which records are byte for
    byte as they were (whose summaries can be kept, and which the poll need not report)."""

    def __init__(self, previous: StoreState | None) -> None:
        self.docs: Docs = previous.by_doc if previous is not None else {}
        self.summaries: Summaries = previous.summaries if previous is not None else {}
        #: The base records found the same, by document (so each is compared once).
        self.same: set[int] = set()
        self._records = previous.records if previous is not None else None
        self._base: bytes | None = None  # its base file, read whole when first needed

    def holds(self, doc_id: int, filing_id: str, base: BaseFile, stored: Stored) -> bool:
        """Whether document `doc_id` held filing `filing_id` as exactly the bytes of `stored`
        (a record of `base`)."""
        old = self.docs.get(doc_id)
        if old is None or old[0] != filing_id:
            return False
        if isinstance(stored, bytes):
            data, start, length = stored, 0, len(stored)
        else:
            data = base.data
            start, length = span(stored)
        was = old[1]
        if isinstance(was, bytes):
            return len(was) == length and data.startswith(was, start)
        was_start, was_length = span(was)
        if was_length != length:
            return False
        if self._base is None:
            if self._records is None:
                return False
            try:
                self._base = self._records.whole()
            except (BaseChanged, OSError):
                self._records = None  # rewritten in place: nothing of it can be vouched for
                return False
        return data.startswith(self._base[was_start : was_start + length], start)


def docs_from_rows(
    base: BaseFile,
    rows: list[Any],
    earlier: Earlier,
) -> tuple[Docs, dict[str, int], Summaries] | None:
    """The fast path: summaries from the sidecar's rows (record k has row k), records kept
    unread and unchecked. None if any row is bad or the rows contradict each other: the
    caller then reads the records themselves. Consumes `rows` (each is freed once used, which
    leaves about 13 MB less memory held at 50,000 filings)."""
    from_row = FilingSummary.from_row
    by_doc: Docs = {}
    by_id: dict[str, int] = {}
    summaries: Summaries = {}
    try:
        for k, (doc_id, stored, _) in enumerate(base.records):
            row, rows[k] = rows[k], None  # free each row as we go: less memory kept
            fid = row[0]
            if earlier.docs and earlier.holds(doc_id, fid, base, stored):
                earlier.same.add(doc_id)
                summary = earlier.summaries[fid]  # unchanged since we read it
            else:
                summary = from_row(row)
            del row
            if doc_id in by_doc or summary.id in summaries:
                return None  # let the full read name the duplicate
            by_doc[doc_id] = (summary.id, stored)
            by_id[summary.id] = doc_id
            summaries[summary.id] = summary
    except (InvalidRecord, LookupError, TypeError):
        return None
    return by_doc, by_id, summaries


def docs_from_records(
    path: Path,
    records: list[tuple[int, Stored, int | None]],
    base: BaseFile,
    parsed: dict[int, Any] | None,
    earlier: Earlier,
    check: Check,
) -> tuple[Docs, dict[str, int], Summaries]:
    """The full path: parse and validate every record (of `base`, at `path`) not known
    unchanged."""
    by_doc: Docs = {}
    by_id: dict[str, int] = {}
    summaries: Summaries = {}
    where = str(path)
    for doc_id, stored, line in records:
        if doc_id in by_doc:
            raise DatabaseCorrupt(f'{path}: "filings" has document {doc_id} twice')
        old = earlier.docs.get(doc_id)
        if old is not None and earlier.holds(doc_id, old[0], base, stored):
            earlier.same.add(doc_id)
            by_doc[doc_id] = (old[0], stored)  # checked (or vouched for by a sidecar) before
            summary = earlier.summaries[old[0]]
        else:
            raw = base.raw(stored)
            record = parsed[doc_id] if parsed is not None else load_record(path, doc_id, raw, line)
            filing = check(record, where)
            by_doc[doc_id] = (filing.id, stored)
            summary = summarize(filing)
        fid = by_doc[doc_id][0]
        other = by_id.setdefault(fid, doc_id)
        if other != doc_id:
            raise DatabaseCorrupt(
                f"{path}: filing {fid!r} appears twice (documents {other} and {doc_id})"
            )
        summaries[fid] = summary
    return by_doc, by_id, summaries


def checker(path: Path, schema_version: int) -> Check:
    """Validation that names the file (and line) of a bad record of the database at `path`."""

    def check(record: Any, where: str) -> Filing:
        try:
            return from_record(record)
        except InvalidRecord as error:
            if schema_version > SCHEMA_VERSION:
                detail = error if where == str(path) else f"{where}: {error}"
                raise NewerSchema(
                    f"{path} was written by a newer icp-tui (schema {schema_version}, "
                    f"this one knows {SCHEMA_VERSION}) and cannot be read: {detail}"
                ) from None
            if where != str(path):  # a journal line: repair can drop it
                raise JournalDamaged(f"{where}: {error}; {JOURNAL_ADVICE}") from None
            raise DatabaseCorrupt(f"{where}: {error}") from None

    return check


def journal_updates(
    path: Path,
    by_doc: Docs,
    by_id: dict[str, int],
    entries: list[JournalEntry],
    check: Check,
) -> tuple[Docs, dict[str, int], dict[int, Filing]]:
    """Validate journal entries against the current documents, without changing them."""
    journal = journal_path(path)
    updates: Docs = {}
    new_ids: dict[str, int] = {}
    finals: dict[int, Filing] = {}
    for entry in entries:
        where = f"{journal} line {entry.line}"
        filing = check(entry.record, where)
        held = updates.get(entry.doc_id) or by_doc.get(entry.doc_id)
        if held is not None and held[0] != filing.id:
            raise JournalDamaged(
                f"{where}: puts filing {filing.id!r} into document {entry.doc_id}, "
                f"which holds {held[0]!r}; {JOURNAL_ADVICE}"
            )
        if held is None:
            other = new_ids.get(filing.id, by_id.get(filing.id))
            if other is not None:
                raise JournalDamaged(
                    f"{where}: adds filing {filing.id!r} again (it is document {other}); "
                    f"{JOURNAL_ADVICE}"
                )
            new_ids[filing.id] = entry.doc_id
        updates[entry.doc_id] = (filing.id, entry.raw)
        finals[entry.doc_id] = filing
    return updates, new_ids, finals


def apply_journal(path: Path, state: StoreState, read: JournalRead) -> list[str]:
    """Add the entries of a journal read that continues where `state` stopped; return the ids
    they change. Nothing changes if an entry is bad."""
    check = checker(path, state.schema_version)
    updates, new_ids, finals = journal_updates(path, state.by_doc, state.by_id, read.entries, check)
    state.by_doc.update(updates)
    state.by_id.update(new_ids)
    for filing in finals.values():
        state.summaries[filing.id] = summarize(filing)
    state.journal_docs.update((entry.doc_id, entry.line) for entry in read.entries)
    state.follow(read)
    return [fid for fid, _raw in updates.values()]


def take_fold(path: Path, state: StoreState, fold: Fold) -> list[str] | None:
    """Move `state` onto the compacted base of `fold` without reading what it already holds
    (see journal.py, "Taking up a compaction"); return the ids whose records differ from what
    `state` held, or None, with `state` as it was, if `fold` did not fold exactly what `state`
    reflects (or a little more of its journal)."""
    known = state.journal_lines
    if not (
        state.schema_version == SCHEMA_VERSION
        and state.journal_live
        and state.journal_ino is not None
        and fold.base == state.base_id[1:]
        and fold.generation == state.generation
        and fold.journal == state.journal_ino[1]
        and known <= fold.lines
    ):
        return None
    by_doc, by_id = state.by_doc, state.by_id
    unseen = {doc_id for doc_id, line in fold.changed.items() if line > known}
    later: list[tuple[int, int]] = []  # documents changed on lines this state has not seen
    moved: list[tuple[int, tuple[str, Stored]]] = []
    for doc_id, where in zip(fold.docs, fold.places, strict=True):
        if doc_id in unseen:
            later.append((doc_id, where))
            continue
        old = by_doc.get(doc_id)
        if old is None:
            return None
        fid, stored = old
        # The same record, so the same length: a cheap check that the places are for it.
        if (
            len(stored) if isinstance(stored, bytes) else stored & LENGTH_MASK
        ) != where & LENGTH_MASK:
            return None
        moved.append((doc_id, (fid, where)))
    if len(set(fold.docs)) != len(fold.docs):
        return None
    held = len(moved)
    # The records of `later`, read from the new base and checked as journal entries are.
    check = checker(path, SCHEMA_VERSION)
    news: list[tuple[int, Filing, int]] = []
    new_ids: set[str] = set()
    try:
        for doc_id, where in later:
            filing = check(orjson.loads(fold.records.read(where)), str(path))
            old = by_doc.get(doc_id)
            if old is not None:
                held += 1
                if old[0] != filing.id:
                    return None
            elif filing.id in by_id or filing.id in new_ids:
                return None
            new_ids.add(filing.id)
            news.append((doc_id, filing, where))
    except (orjson.JSONDecodeError, StoreError, OSError):
        return None
    if held != len(by_doc):
        return None  # the new base lacks documents this state holds
    by_doc.update(moved)
    del moved
    for doc_id, filing, where in news:
        by_doc[doc_id] = (filing.id, where)
        by_id[filing.id] = doc_id
        state.summaries[filing.id] = summarize(filing)
    old_records, state.records = state.records, fold.records
    if old_records is not None:
        old_records.let_go()
    state.base_id, state.generation = fold.records.ident, fold.new_generation
    state.tables, state.laid_out, state.summary_id = fold.tables, True, fold.summary_id
    # The new base's journal is yet to be read (it may be stale still, or hold changes).
    state.journal_ino = state.journal_gen = state.journal_format = None
    state.journal_end = state.journal_lines = state.journal_size = 0
    state.journal_docs = {}
    return [filing.id for _, filing, _ in news]


def decode(path: Path, state: StoreState, filing_id: str) -> Filing:
    """Decode and validate a filing's kept record (a base record read through the sidecar is
    checked only now); UnknownFiling if `state` has none of that id."""
    doc_id = state.by_id.get(filing_id)
    if doc_id is None:
        raise UnknownFiling(f"no filing {filing_id} in {path}")
    raw = read_record(state, state.by_doc[doc_id][1])
    try:
        filing = from_record(orjson.loads(raw))
    except orjson.JSONDecodeError:
        raise DatabaseCorrupt(
            f"{path}: filing {filing_id!r} (document {doc_id}) is damaged: its record is not JSON"
        ) from None
    except InvalidRecord as error:
        raise DatabaseCorrupt(f"{path}: {error}") from None
    summary = state.summaries[filing_id]
    if filing.id != filing_id or filing.version != summary.version:
        raise DatabaseCorrupt(
            f"{path}: document {doc_id} holds filing {filing.id!r} version "
            f"{filing.version}, but {summary_path(path)} lists {filing_id!r} version "
            f"{summary.version} there"
        )
    return filing


def decode_for_rebuild(path: Path, state: StoreState, filing_id: str) -> Record | Filing:
    """A filing's kept record as a step in time reads it: the common, valid record as an
    `asof.Record` (checked as `decode` checks it, at a fraction of the cost), anything else
    as `decode` reads it (or refuses it)."""
    doc_id = state.by_id.get(filing_id)
    if doc_id is not None:
        try:
            record = read_for_rebuild(orjson.loads(read_record(state, state.by_doc[doc_id][1])))
        except orjson.JSONDecodeError:
            record = None
        if (
            record is not None
            and record.id == filing_id
            and record.version == state.summaries[filing_id].version
        ):
            return record
    return decode(path, state, filing_id)


def read_record(state: StoreState, stored: Stored) -> bytes:
    """The bytes of a record `state` keeps (BaseChanged if its base was rewritten in place)."""
    if isinstance(stored, bytes):
        return stored
    assert state.records is not None, "a place without the file it is in"
    return state.records.read(stored)
