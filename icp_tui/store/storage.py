"""A TinyDB Storage over an icp-tui database, for scripts: TinyDB(P, storage=JournaledStorage).

Plain TinyDB would read only the base file and miss the journal, and its writes are neither
locked nor atomic. This storage reads the merged current view and writes the whole database
as a compaction under the same lock the dashboard uses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from icp_tui.domain.collector import gc_paused
from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import from_record
from icp_tui.domain.summary import summarize
from icp_tui.store.errors import (
    DatabaseChanged,
    DatabaseMissing,
    ReadOnlyDatabase,
)
from icp_tui.store.journal import (
    FILINGS,
    SCHEMA_VERSION,
    Snapshot,
    file_id,
    merged_tables,
    next_generation,
    read_snapshot,
    write_database,
    writers_held,
)

_Position = tuple[Any, ...]


class JournaledStorage(Storage):
    """TinyDB storage: read() = base + journal; write() = validated atomic full rewrite (with
    a fresh summary sidecar, like a compaction).

    read() does not validate filings, so a script can read (and repair) a bad record; write()
    refuses invalid filings, and refuses with DatabaseChanged if anyone saved since the read
    (TinyDB reads then writes, and an edit in between would otherwise be lost). A filing whose
    content a script changed without raising its version gets the next version, so open
    dashboards notice the change and do not overwrite it.
    """

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._read_any = False
        self._seen: _Position | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The current database as TinyDB tables, or None if there is no file yet."""
        try:
            snapshot = read_snapshot(self.path)
        except DatabaseMissing:
            self._read_any, self._seen = True, None
            return None
        self._read_any, self._seen = True, _position(snapshot)
        return merged_tables(snapshot)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the whole database with `data` (a compaction), under the lock."""
        with writers_held(self.path, self.lock_timeout):
            self._write_locked(data)

    def _write_locked(self, data: dict[str, dict[str, Any]]) -> None:
        try:
            current: Snapshot | None = read_snapshot(self.path)
        except DatabaseMissing:
            current = None
        position = _position(current) if current is not None else None
        if self._read_any and position != self._seen:
            raise DatabaseChanged(
                f"{self.path} changed since it was read (another icp-tui saved); "
                "nothing was written: read again and redo the change"
            )
        old: dict[str, Any] = {}
        if current is None:
            generation = next_generation(self.path)  # above any journal left behind
        else:
            if current.base.schema_version > SCHEMA_VERSION:
                raise ReadOnlyDatabase(
                    f"{self.path} was written by a newer icp-tui (schema "
                    f"{current.base.schema_version}, this one knows {SCHEMA_VERSION}): "
                    "nothing was written"
                )
            generation = max(current.base.generation, current.journal.generation or 0) + 1
            old = merged_tables(current).get(FILINGS) or {}
        for target in (self.path, self.path.parent):
            if target.exists() and not os.access(target, os.W_OK):
                raise ReadOnlyDatabase(f"you may not write {target}: nothing was written")
        with gc_paused():
            records, rows = self._records(data.get(FILINGS) or {}, old)
            tables = {name: table for name, table in data.items() if name != FILINGS}
            written = write_database(
                self.path, generation=generation, tables=tables, records=records, rows=rows
            )
        self._read_any = True
        self._seen = (
            file_id(written.base),
            (written.journal.st_dev, written.journal.st_ino),
            written.journal_end,
        )

    def _records(
        self, table: dict[str, Any], old: dict[str, Any]
    ) -> tuple[list[tuple[int, bytes]], list[Any]]:
        """Validated records in document order, versions raised where content changed, and
        their summary rows in the same order."""
        records: list[tuple[int, bytes, list[Any]]] = []
        seen: dict[str, int] = {}
        for key, given in table.items():
            if not str(key).isdigit():
                raise InvalidRecord(f"{self.path}: document key {key!r} is not a number")
            record = dict(given)
            before = old.get(str(key))
            if isinstance(before, dict) and before != record:
                was = before.get("version", 1)
                if type(was) is int and record.get("version", 1) <= was:
                    record["version"] = was + 1
            try:
                filing = from_record(record)
            except InvalidRecord as error:
                raise InvalidRecord(f"{self.path}: nothing was written: {error}") from None
            if filing.id in seen:
                raise InvalidRecord(
                    f"{self.path}: nothing was written: filing {filing.id!r} is in documents "
                    f"{seen[filing.id]} and {key}"
                )
            seen[filing.id] = int(key)
            records.append((int(key), orjson.dumps(record), summarize(filing).to_row()))
        records.sort(key=lambda item: item[0])
        return [(doc_id, raw) for doc_id, raw, _ in records], [row for _, _, row in records]


def _position(snapshot: Snapshot) -> _Position:
    """Which files (and how much journal) a read saw; any save since changes it."""
    return (snapshot.base.ident, snapshot.journal.ino, snapshot.journal.size)
