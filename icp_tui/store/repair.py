"""Mending a damaged journal, on request (`icp-tui repair`), never on the way.

A damaged journal is refused by every reader and writer (journal.py), because its damaged
lines may hold acknowledged changes: only a person can decide to give them up. Repair keeps a
copy of the journal exactly as it was, then folds every change it can still read into a new
base (a compaction), so nothing readable is lost and the damaged lines stay in the copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import Filing, from_record
from icp_tui.domain.naming import counted
from icp_tui.domain.summary import summarize
from icp_tui.store.errors import DatabaseCorrupt, StoreError
from icp_tui.store.files import policy
from icp_tui.store.journal import (
    CHECKSUMMED_FORMAT,
    CRC_MARK,
    SCHEMA_VERSION,
    LineDamage,
    check_crc,
    journal_entries,
    journal_path,
    load_record,
    parse_base,
    read_bytes,
    write_copy,
    write_database,
)


@dataclass(frozen=True, slots=True)
class Repaired:
    """What a repair did: where the damaged journal was kept, and what came of its lines."""

    journal: Path
    #: The copy of the damaged journal; None if the journal read fine (nothing was done).
    copy: Path | None = None
    #: Changes read from the journal and saved into the new base.
    kept: int = 0
    #: Line numbers that could not be read (or contradict the database); they are in the copy.
    dropped: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        if self.copy is None:
            return f"{self.journal} reads fine: nothing to repair"
        word = "line" if len(self.dropped) == 1 else "lines"
        lines = ", ".join(map(str, self.dropped)) or "none"
        return (
            f"repaired {self.journal}: saved {counted(self.kept, 'change')} from it, "
            f"dropped {word} {lines}; "
            f"the damaged journal is kept as {self.copy}"
        )


def mend_journal(path: Path) -> Repaired:
    """Repair the damaged journal of the database at `path` (the caller holds the writers'
    lock and found the damage)."""
    journal = journal_path(path)
    data, st = read_bytes(path)
    base = parse_base(path, data, st)
    if base.schema_version != SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema {base.schema_version}; repair needs schema {SCHEMA_VERSION}: "
            "restore the journal from a backup instead"
        )
    filings: dict[int, Filing] = {}
    raws: dict[int, bytes] = {}
    for doc_id, stored, line in base.records:
        raw = base.raw(stored)
        record = base.parsed[doc_id] if base.parsed is not None else None
        try:
            filings[doc_id] = from_record(
                record if record is not None else load_record(path, doc_id, raw, line)
            )
        except InvalidRecord as error:
            raise DatabaseCorrupt(f"{path}: {error}; repair mends only the journal") from None
        raws[doc_id] = raw
    damaged, _ = read_bytes(journal)
    header, entries, dropped = _readable_lines(damaged)
    kept = 0
    for line, doc_id, record in entries:
        try:
            filing = from_record(record)
        except InvalidRecord:
            dropped.append(line)
            continue
        held = filings.get(doc_id)
        elsewhere = any(f.id == filing.id for d, f in filings.items() if d != doc_id)
        if (held is not None and held.id != filing.id) or elsewhere:
            dropped.append(line)
        elif held is None or filing.version > held.version:
            # Whole records, in order: the newest readable one of each filing wins. An older
            # one is already in the base (a stale journal), so it is neither kept nor dropped.
            filings[doc_id], raws[doc_id] = filing, orjson.dumps(record)
            kept += 1
    stamp = f"damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    copy = write_copy(journal, damaged, stamp, policy(path))
    order = sorted(filings)
    write_database(
        path,
        generation=max(base.generation, header or 0) + 1,
        tables=base.tables,
        records=[(doc_id, raws[doc_id]) for doc_id in order],
        rows=[summarize(filings[doc_id]).to_row() for doc_id in order],
    )
    return Repaired(journal, copy, kept, sorted(dropped))


def _readable_lines(
    data: bytes,
) -> tuple[int | None, list[tuple[int, int, dict[str, Any]]], list[int]]:
    """The header's generation (None if unreadable), the readable entries (line, doc_id,
    record) and the numbers of the whole lines that are not. A torn last line is neither.

    Each line gets the readers' own check (journal_entries), checksum included. Without a
    readable header, the journal counts as checksummed if any line has a checksum.
    """
    header: int | None = None
    checksummed: bool | None = None
    entries: list[tuple[int, int, dict[str, Any]]] = []
    dropped: list[int] = []
    whole = data.split(b"\n")[:-1]  # what follows the last newline is a torn write
    if not whole:
        return None, [], [1]  # an empty or cut journal: its header is gone
    lines = enumerate(whole, 1)
    try:
        first = orjson.loads(whole[0])
    except orjson.JSONDecodeError:
        first = None
    if isinstance(first, dict) and "journal" in first:
        next(lines)
        version, generation = first.get("journal"), first.get("generation")
        try:
            if type(version) is not int:
                raise LineDamage("no format")
            check_crc(whole[0], first, checksummed=version >= CHECKSUMMED_FORMAT)
        except LineDamage:
            dropped.append(1)  # neither its format nor its generation can be believed
        else:
            checksummed = version >= CHECKSUMMED_FORMAT
            header = generation if type(generation) is int and generation >= 0 else None
    if checksummed is None:
        checksummed = any(CRC_MARK in text for text in whole)
    for number, text in lines:
        try:
            puts = journal_entries(text, checksummed=checksummed)
        except LineDamage:
            dropped.append(number)
        else:
            entries.extend((number, doc_id, record) for doc_id, record in puts)
    return header, entries, dropped
