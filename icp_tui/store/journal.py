"""The on-disk format of a filing database: a base file, its journal, its summary sidecar, and
safe replacement.

A database at path P is three files:

* P, the *base*: valid TinyDB JSON, laid out one filing per line so it can be read without
  building one 50 MB object tree::

      {"_meta": {"1": {"schema_version": 1, "generation": 7}},
      "filings": {
      "1": {...record...},
      "2": {...record...}
      }}

  Any tables other than "filings" (e.g. added by a staff script) sit on the first line.
* P.journal: JSON lines. A header ``{"journal": 2, "generation": G, "crc32": c}`` then one
  line ``{"put": <full record>, "doc_id": n, "crc32": c}`` per change, where each c is the
  CRC-32 of its line's bytes before ``, "crc32": ``, so a changed byte that still leaves valid
  JSON (a note's text, a stage, the generation) is found too. A change is committed once its
  line, newline included, is fsynced; a last line without newline is a torn, uncommitted write
  and is ignored. Any other damage (a whole line that does not parse, whose checksum does not
  match or that has none, a missing or cut header) is refused, and the file left as it is,
  for `icp-tui repair` or a backup. A batch of new filings saved together (an import) is one
  line ``{"batch": [{"put": <record>, "doc_id": n}, ...], "crc32": c}``, so a torn batch is
  dropped whole and a reader sees all of it or none. A journal of format 1 (written before the
  checksums) has no checksum on any line, and one of format 2 no batch line; both are still
  read, and a writer compacts an older journal before its first change, so lines of this
  format never join it (and a reader that knows only format 2 refuses the journal as newer,
  rather than take a batch for damage).
* P.summary, the *sidecar*: one JSON object ::

      {"summary": ROW_FORMAT,
       "base": {"generation": G, "size": s, "mtime_ns": m, "ino": i, "crc32": c},
       "rows": [<FilingSummary row>, ...]}

  with one row (domain/summary.py, FilingSummary.to_row) per record line of the base, in the
  same order, so record line k is described by row k. It is an optional cache: only a writer
  holding the lock writes it, just after it put a base in place (create, compaction, a TinyDB
  script's write), from filings it had checked; it never holds anything the base does not.
  A compaction adds, before the rows, what it folded into the base::

      "folded": {"base": [ino, mtime_ns, size], "generation": G, "journal": ino, "lines": n,
                 "changed": [doc_id, line, ...], "docs": [doc_id, ...], "places": [place, ...]}

  that is: the base of generation G it had read, and that base's journal (by inode) up to its
  line n, nothing else; the line that last changed each document the journal changed; and
  where each document's record lies in the new base (see `place`). It holds numbers only and
  comes before the rows, so it is read without them (read_fold).

The journal applies to the base of the same generation. Compaction writes base G+1, then its
sidecar, then an empty journal G+1, each by atomic replacement, so a crash between the base and
the journal leaves a stale journal (G < G+1) that readers ignore because the base already holds
its changes; a crash before the sidecar leaves the old one, which no longer matches the base.

Taking up a compaction. A handle whose state is that base and journal up to line k <= n
(having seen, in the journal it follows, all but the changes after line k) takes up the new
base from the sidecar alone: its records are those it holds, now at the places given, except
the documents changed after line k, which it reads from the new base and checks. It does so
only if the sidecar describes the base it opened (generation, size, mtime, inode: a file of
ours is replaced, never rewritten, and every read of a record checks that still holds); else,
or if anything does not add up, it reads the database again as below. A compaction puts its
journal in place last: a handle that finds a new base beside the journal it follows keeps
following that journal (the new base holds nothing more) until the journal is replaced.

Reading with the sidecar. A reader uses the sidecar only if it describes exactly the bytes it
read of the base: same generation, and the same size, mtime, inode and CRC-32 as the open file
those bytes came from; the base must be in our layout and of this schema, with as many record
lines as there are rows. The sidecar then proves the base is byte for byte what our checking
writer wrote, so the reader takes each filing's summary from its row, keeps the record's raw
bytes, and neither parses nor validates the records; a record is decoded and checked when it
is first needed (FilingStore.get), and a bad one (damage the checks above cannot see) is
reported then as DatabaseCorrupt naming the file and the filing. A missing, stale or unreadable
sidecar, or any row that is not a valid summary, is simply ignored: the reader parses and
validates every record as it would without a sidecar, so a broken base is refused at once, and
the next writer's compaction writes a fresh sidecar. Journal entries are always validated.

This module only reads and writes bytes; locking and bookkeeping live in filing_store.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from icp_tui.domain.collector import gc_paused
from icp_tui.domain.summary import ROW_FORMAT
from icp_tui.store.errors import (
    DatabaseCorrupt,
    DatabaseMissing,
    ForeignFile,
    JournalDamaged,
    NewerSchema,
    StoreError,
)
from icp_tui.store.files import (
    LOCK_SUFFIX,
    MODE,
    SAFE,
    SUMMARY,
    SUMMARY_SUFFIX,
    Policy,
    apply_policy,
    is_own_leftover,
    open_file,
    policy,
    writers_lock,
)

#: Version of the record layout; a file with a higher one was written by a newer icp-tui.
SCHEMA_VERSION = 1
#: Version of the journal line format: 2 since each line carries the CRC-32 of its content,
#: 3 since a batch of changes can be one line.
JOURNAL_FORMAT = 3
#: The first journal format whose every line has a checksum.
CHECKSUMMED_FORMAT = 2
#: Version of the summary sidecar's layout; a reader ignores a sidecar of any other.
SUMMARY_FORMAT = ROW_FORMAT  # the domain owns the row layout
FILINGS = "filings"
META = "_meta"

Migration = Callable[[dict[str, Any]], dict[str, Any]]
#: MIGRATIONS[n] turns a whole database (TinyDB tables, journal already applied) of schema n
#: into schema n + 1. Empty while 1 is the only schema.
MIGRATIONS: dict[int, Migration] = {}

#: A file's identity for change detection: device, inode, mtime (ns) and size.
FileId = tuple[int, int, int, int]
#: A record as a handle keeps it: its raw JSON bytes (a journal entry, a change of its own, a
#: record of a base not in our layout), or an int saying where its bytes lie in the base file
#: the handle read (`place`). At 100,000 filings the bytes of the base's records are 140 MB;
#: their places are 4 MB.
Stored = bytes | int
#: The low bits of a place hold the record's length, the high bits its offset.
_LENGTH_BITS = 32
LENGTH_MASK = (1 << _LENGTH_BITS) - 1
#: How many times a reader re-reads when it raced a compaction.
READ_RETRIES = 8

_TABLE_LINE = b'"filings": {'
_END_LINE = b"}}"
_HEADER_PROBE = 128  # a journal header is about 40 bytes
#: What comes before a journal line's checksum (a JSON string cannot hold it: its quotes
#: would be escaped).
CRC_MARK = b', "crc32": '


def file_id(st: os.stat_result) -> FileId:
    """What tells us the file is still the one we read (a replacement has a new inode)."""
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def journal_path(path: Path) -> Path:
    """The journal that goes with the base file `path`."""
    return path.with_name(path.name + ".journal")


def lock_path(path: Path) -> Path:
    """The lock file that serialises writers of `path`."""
    return path.with_name(path.name + LOCK_SUFFIX)


def summary_path(path: Path) -> Path:
    """The summary sidecar that goes with the base file `path`."""
    return path.with_name(path.name + SUMMARY_SUFFIX)


def database_files(path: Path) -> list[Path]:
    """The base file `path` and every companion file beside it."""
    return [path, journal_path(path), summary_path(path), lock_path(path)]


def empty_message(path: Path) -> str:
    """What to say about a 0-byte base file."""
    return (
        f"{path} is empty (0 bytes), which is not a database; restore it from a backup, "
        "or remove it and create one with `icp-tui init` or `icp-tui demo`"
    )


# --------------------------------------------------------------------------- reading the base


def place(start: int, length: int) -> int:
    """Where a record lies in its base file, as one int (see Stored)."""
    return start << _LENGTH_BITS | length


def span(where: int) -> tuple[int, int]:
    """The offset and length of the record at `where` (a place)."""
    return where >> _LENGTH_BITS, where & LENGTH_MASK


class BaseChanged(StoreError):
    """The base file was rewritten in place (by a person or a script) since it was read, so
    its records no longer lie where they were: read the database again."""


class BaseRecords:
    """Reads records, by their places, out of the one version of a base file they were
    found in.

    It keeps a descriptor on the inode that was read. Every writer of ours replaces the base
    by renaming a new file over it (compaction, a TinyDB script's write), which leaves that
    inode as it was: a handle reads its records from the version its state was built from,
    whatever other processes did since. Only a rewrite in place changes them, so every read
    checks that the file is still as it was read and raises BaseChanged if not.
    """

    __slots__ = ("__weakref__", "_close", "fd", "ident", "path")

    def __init__(self, path: Path, fd: int, ident: FileId) -> None:
        """Take over `fd`, open on the version of `path` whose identity was `ident` when
        its bytes were read."""
        self.path = path
        self.fd = fd
        self.ident = ident
        self._close = weakref.finalize(self, os.close, fd)

    def read(self, where: int) -> bytes:
        """The bytes of the record at `where` (a place in this file)."""
        start, length = span(where)
        return self._checked(os.pread(self.fd, length, start), length)

    def whole(self) -> bytes:
        """The whole file, as it was read."""
        return self._checked(os.pread(self.fd, self.ident[3], 0), self.ident[3])

    def _checked(self, data: bytes, length: int) -> bytes:
        # After the read: a rewrite in place stamps the file before it changes any byte.
        if len(data) != length or file_id(os.fstat(self.fd)) != self.ident:
            raise BaseChanged(
                f"{self.path} was changed in place since it was read (not by icp-tui, "
                "which replaces it whole); read it again"
            )
        return data

    def close(self) -> None:
        """Let go of the file now rather than when this is collected."""
        self._close()

    def let_go(self) -> None:
        """Close the file without waiting: the last descriptor on a replaced base takes the
        kernel's cached copy of it along (about 0.15 s for 140 MB), which a poll need not
        wait for."""
        threading.Thread(target=self._close, name="close a replaced base", daemon=True).start()


@dataclass(slots=True)
class BaseFile:
    """A parsed base file. Records stay raw JSON (their places in `data`); they are decoded by
    whoever needs them."""

    path: Path
    ident: FileId
    schema_version: int
    generation: int
    #: Every table except "filings" (so "_meta" and anything a script added), kept verbatim.
    tables: dict[str, Any]
    #: (doc_id, record, line number in the file or None if not one per line). In our layout
    #: the record is its place in `data`; in a reformatted file, its bytes (see Stored).
    records: list[tuple[int, Stored, int | None]]
    #: True if the file has our one-record-per-line layout (a person may have reformatted it).
    laid_out: bool
    #: The whole file as read, while the records are taken out of it.
    data: bytes = b""
    #: Parsed records for a reformatted file, so they are not parsed twice.
    parsed: dict[int, Any] | None = None
    #: Reads the records out of the very file read, later (read_snapshot opens it).
    reader: BaseRecords | None = None

    def raw(self, stored: Stored) -> bytes:
        """The bytes of one of `records`' records."""
        if isinstance(stored, bytes):
            return stored
        start, length = span(stored)
        return self.data[start : start + length]


def read_bytes(path: Path, *, remade: str | None = None) -> tuple[bytes, os.stat_result]:
    """The whole file and the identity of the inode those bytes came from (`remade` as for
    files.open_file)."""
    data, st, fd = open_bytes(path, remade=remade)
    os.close(fd)
    return data, st


def open_bytes(path: Path, *, remade: str | None = None) -> tuple[bytes, os.stat_result, int]:
    """As read_bytes, and a descriptor on the inode the bytes came from (the caller closes it).

    Writers replace files rather than change them, but a person (or a script) may rewrite one
    in place: if the file changed while we read it, it is read again.
    """
    try:
        fd = open_file(path, os.O_RDONLY, remade=remade)
    except FileNotFoundError:
        raise DatabaseMissing(
            f"no database at {path}: create one with `icp-tui init` or `icp-tui demo`"
        ) from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "rb", closefd=False) as handle:
            st = os.fstat(fd)
            for _ in range(READ_RETRIES):
                data = handle.read()
                after = os.fstat(fd)
                if file_id(after) == file_id(st) and len(data) == st.st_size:
                    break
                handle.seek(0)
                st = after
        return data, st, fd
    except OSError as error:
        os.close(fd)
        raise StoreError(f"cannot read {path}: {error.strerror}") from None
    except BaseException:
        os.close(fd)
        raise


def parse_base(path: Path, data: bytes, st: os.stat_result) -> BaseFile:
    """Parse base-file bytes; DatabaseCorrupt names the file and what is wrong with it."""
    if not data:
        raise DatabaseCorrupt(empty_message(path))
    with gc_paused():
        laid_out = _parse_laid_out(data)
        records: list[tuple[int, Stored, int | None]]
        if laid_out is not None:
            tables, records = laid_out
            parsed = None
        else:
            tables, parsed = _parse_whole(path, data)
            records = [(doc_id, orjson.dumps(rec), None) for doc_id, rec in parsed.items()]
    schema_version, generation = _meta(path, tables)
    return BaseFile(
        path=path,
        ident=file_id(st),
        schema_version=schema_version,
        generation=generation,
        tables=tables,
        records=records,
        laid_out=laid_out is not None,
        data=data,
        parsed=parsed,
    )


def _parse_laid_out(
    data: bytes,
) -> tuple[dict[str, Any], list[tuple[int, Stored, int | None]]] | None:
    """Fast path: split our one-record-per-line layout without parsing the records.

    Returns None if the framing is not exactly ours; the caller then parses the whole file,
    which also produces the precise error message for a broken file. When the framing matches,
    the file is valid JSON exactly when every record slice is, because a JSON string cannot
    span lines, so each line break falls between tokens.
    """
    head = _laid_out_head(data)
    if head is None:
        return None
    tables, end = head
    records: list[tuple[int, Stored, int | None]] = []
    line_no = 3
    comma_pending = False  # the previous record line ended with a comma
    while True:
        pos = end + 1
        end = data.find(b"\n", pos)
        if end < 0:
            end = len(data)
        if end - pos == len(_END_LINE) and data.startswith(_END_LINE, pos):  # no copy
            rest = data[end:]
            if comma_pending or rest not in (b"", b"\n"):
                return None
            return tables, records
        if end == len(data) or data[pos] != 0x22:  # '"'
            return None
        if records and not comma_pending:
            return None
        colon = data.find(b'": ', pos, end)
        if colon < 0:
            return None
        key = data[pos + 1 : colon]
        if not key.isdigit():
            return None
        comma_pending = data[end - 1] == 0x2C  # ","
        start = colon + 3
        records.append((int(key), place(start, end - comma_pending - start), line_no))
        line_no += 1


def _laid_out_head(data: bytes) -> tuple[dict[str, Any], int] | None:
    """The other tables on the first line of a base in our layout, and where its second line
    (the "filings" line) ends; None if `data` does not start as our layout does."""
    end = data.find(b"\n")
    if end < 0:
        return None
    first = data[:end]
    if not (first.startswith(b"{") and first.endswith(b",")):
        return None
    try:
        tables = orjson.loads(first[:-1] + b"}")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(tables, dict) or not tables or FILINGS in tables:
        return None
    pos = end + 1
    end = data.find(b"\n", pos)
    if end < 0 or data[pos:end] != _TABLE_LINE:
        return None
    return tables, end


def _parse_whole(path: Path, data: bytes) -> tuple[dict[str, Any], dict[int, Any]]:
    """Slow path for a file a person reformatted: parse it whole and check its shape."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise not_json(path, error.lineno, error.colno) from None
    if not isinstance(document, dict):
        raise DatabaseCorrupt(
            f"{path}: not a TinyDB database (the top level is {_kind(document)}, not an object)"
        )
    if FILINGS not in document:
        raise DatabaseCorrupt(f'{path}: no "filings" table')
    table = document.pop(FILINGS)
    if not isinstance(table, dict):
        raise DatabaseCorrupt(f'{path}: the "filings" table is {_kind(table)}, not an object')
    records: dict[int, Any] = {}
    for key, record in table.items():
        if not key.isdigit():
            raise DatabaseCorrupt(f'{path}: "filings" has a document key {key!r}, not a number')
        if int(key) in records:
            raise DatabaseCorrupt(f'{path}: "filings" has document {int(key)} twice')
        records[int(key)] = record
    return document, records


def _meta(path: Path, tables: dict[str, Any]) -> tuple[int, int]:
    """Schema version and generation from the "_meta" table."""
    meta = tables.get(META)
    if not isinstance(meta, dict) or not meta:
        raise DatabaseCorrupt(
            f'{path}: no "_meta" table with a schema_version, so not an icp-tui database '
            "(or its first line was removed)"
        )
    doc = meta.get("1", next(iter(meta.values())))
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if type(version) is not int or version < 1:
        raise DatabaseCorrupt(f'{path}: "_meta" has no valid schema_version (found {version!r})')
    generation = doc.get("generation", 0)
    if type(generation) is not int or generation < 0:
        raise DatabaseCorrupt(
            f'{path}: "_meta" generation must be a whole number, not {generation!r}'
        )
    return version, generation


def load_record(path: Path, doc_id: int, raw: bytes, line: int | None) -> Any:
    """Parse one record slice of the base; the error points at its line and column."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        column = error.colno + len(b'"%d": ' % doc_id)  # the slice starts after the key
        raise not_json(path, line, column) from None


def not_json(path: Path, line: int | None, column: int) -> DatabaseCorrupt:
    """The refusal of a database file that does not parse: where it breaks (the place to
    look in a damaged or hand-edited file), but not the parser's jargon; nothing more for a
    file that is not JSON from its first character (the wrong file, most likely). A record
    without a line was written anew from parsed JSON, so it never gets here."""
    if line is None or (line, column) == (1, 1):
        return DatabaseCorrupt(f"{path}: not a JSON database")
    return DatabaseCorrupt(
        f"{path}: not a JSON database (the JSON breaks at line {line}, column {column})"
    )


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


# ------------------------------------------------------------------------- reading the journal


@dataclass(slots=True)
class JournalEntry:
    """One committed change: the full record of a filing stored as document `doc_id`."""

    line: int
    doc_id: int
    record: dict[str, Any]
    raw: bytes


@dataclass(slots=True)
class JournalRead:
    """What a read of the journal found, and where the next incremental read starts."""

    path: Path
    #: (st_dev, st_ino) of the journal read, None if there is none.
    ino: tuple[int, int] | None = None
    #: Generation in the header; None if missing or not even a whole header line (treated as
    #: absent: a writer replaces it).
    generation: int | None = None
    #: Format in the header (JOURNAL_FORMAT, or older); None like `generation`.
    format: int | None = None
    entries: list[JournalEntry] = field(default_factory=list)
    #: Offset just past the last committed line, and the number of lines before it.
    end: int = 0
    lines: int = 0
    #: Size of the file as read (> end if it has a torn tail).
    size: int = 0
    bytes_read: int = 0
    #: True if this read continued from the given position rather than from the start.
    resumed: bool = False


#: What to do about a damaged journal (its damage may hold acknowledged changes).
JOURNAL_ADVICE = (
    "nothing was changed; restore the journal from a backup, or run `icp-tui repair` "
    "(it keeps a copy and saves the changes it can read)"
)


def journal_damage(path: Path, line: int, problem: str) -> JournalDamaged:
    """The refusal of a journal with a damaged line: the file, the line, what to do."""
    return JournalDamaged(f"{path} line {line}: {problem}; {JOURNAL_ADVICE}")


def read_journal(
    path: Path,
    *,
    resume: tuple[tuple[int, int], int, int, int] | None = None,
) -> JournalRead:
    """Read the journal afresh: whole, or from `resume` = (ino, end, lines, generation).

    A resumed read checks the header first, so a new journal that happens to reuse the inode
    is noticed (its generation differs) and read from the start instead. Damage is refused
    (JournalDamaged) only if a second read finds it too: a read racing a writer that cuts a
    killed writer's torn tail and appends in its place can glue the two into one bad line.
    """
    try:
        return _read_journal(path, resume)
    except JournalDamaged:
        return _read_journal(path, resume)


def _read_journal(path: Path, resume: tuple[tuple[int, int], int, int, int] | None) -> JournalRead:
    result = JournalRead(path)
    try:
        fd = open_file(path, os.O_RDONLY)
    except FileNotFoundError:
        return result
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from None
    try:
        st = os.fstat(fd)
        result.ino = (st.st_dev, st.st_ino)
        if resume is not None and resume[0] == result.ino:
            _, start, start_line, generation = resume
            probe = os.pread(fd, _HEADER_PROBE, 0)
            result.bytes_read += len(probe)
            header = _header(path, probe)
            if header is not None and header[1] == generation:
                result.format, result.generation = header
                result.resumed = True
                chunk = _read_from(fd, start)
                result.bytes_read += len(chunk)
                result.size = start + len(chunk)
                _parse_lines(path, chunk, start, start_line, result)
                return result
        data = _read_from(fd, 0)
    finally:
        os.close(fd)
    result.bytes_read += len(data)
    result.size = len(data)
    newline = data.find(b"\n")
    if newline < 0:
        # Journals are put in place whole, header first: a cut one lost committed changes.
        problem = "the file is empty" if not data else "the journal header is cut short"
        raise journal_damage(path, 1, problem)
    header = _header(path, data[: newline + 1])
    if header is not None:
        result.format, result.generation = header
    _parse_lines(path, data[newline + 1 :], newline + 1, 1, result)
    return result


def _read_from(fd: int, offset: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _header(path: Path, data: bytes) -> tuple[int, int] | None:
    """The format and generation in a journal header line (None if the line is not whole
    yet)."""
    newline = data.find(b"\n")
    if newline < 0:
        return None
    try:
        header = orjson.loads(data[:newline])
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or type(header.get("journal")) is not int:
        raise journal_damage(path, 1, "not a journal header")
    try:
        # Before the format is believed: a changed byte there could make it say "newer".
        check_crc(data[:newline], header, checksummed=header["journal"] >= CHECKSUMMED_FORMAT)
    except LineDamage as error:
        raise journal_damage(path, 1, str(error)) from None
    if header["journal"] > JOURNAL_FORMAT:
        raise NewerSchema(
            f"{path} was written by a newer icp-tui (journal format {header['journal']}, "
            f"this one knows {JOURNAL_FORMAT})"
        )
    generation = header.get("generation")
    if type(generation) is not int or generation < 0:
        raise journal_damage(path, 1, "the journal header has no valid generation")
    return header["journal"], generation


def _parse_lines(path: Path, chunk: bytes, offset: int, line: int, result: JournalRead) -> None:
    """Parse whole lines of `chunk` (which starts a line); stop before a torn tail.

    Only a last line without its newline can be a torn write: a line is written whole in one
    write, newline last, so one that ends in its newline was written whole, and may have been
    acknowledged. Damage to it is refused, never dropped.
    """
    pos = 0
    result.end, result.lines = offset, line
    checksummed = (result.format or 0) >= CHECKSUMMED_FORMAT
    while True:
        newline = chunk.find(b"\n", pos)
        if newline < 0:
            return  # an unfinished line: a write in progress or killed
        line += 1
        try:
            puts = journal_entries(chunk[pos:newline], checksummed=checksummed)
        except LineDamage as error:
            raise journal_damage(path, line, str(error)) from None
        result.entries.extend(JournalEntry(line, d, put, orjson.dumps(put)) for d, put in puts)
        pos = newline + 1
        result.end, result.lines = offset + pos, line


class LineDamage(ValueError):
    """A whole journal line that is not a committed change; the message says why."""


def journal_entries(text: bytes, *, checksummed: bool) -> list[tuple[int, dict[str, Any]]]:
    """The document ids and records of one whole journal line (without its newline): one for
    a change, several for a batch; or LineDamage. The one check of a line, for readers and
    for `icp-tui repair` alike.

    A line that carries a checksum must match it, in a journal of any format; one without is
    damage in a `checksummed` journal (format 2 on), whose writer gave every line one.
    """
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise LineDamage("not JSON") from None  # the parser's words would not help
    if not isinstance(entry, dict):
        raise LineDamage("not a journal entry")
    check_crc(text, entry, checksummed=checksummed)
    batch = entry.get("batch")
    if "put" in entry or not isinstance(batch, list) or not batch:
        return [_put(entry)]
    return [_put(item) for item in batch]


def _put(entry: Any) -> tuple[int, dict[str, Any]]:
    put = entry.get("put") if isinstance(entry, dict) else None
    doc_id = entry.get("doc_id") if isinstance(entry, dict) else None
    if not isinstance(put, dict) or type(doc_id) is not int or doc_id < 1:
        raise LineDamage("not a journal entry")
    return doc_id, put


def check_crc(text: bytes, parsed: dict[str, Any], *, checksummed: bool) -> None:
    """LineDamage unless the line `text` (JSON object `parsed`) matches its checksum, or has
    none where that is allowed (not `checksummed`)."""
    crc = parsed.get("crc32")
    if crc is None:
        if checksummed:
            raise LineDamage("it has no checksum, which every line of this journal has")
        return
    mark = text.rfind(CRC_MARK)
    # The whole line is covered: its content by the CRC, the rest by its exact form.
    if (
        type(crc) is not int
        or mark < 0
        or zlib.crc32(text[:mark]) != crc
        or text[mark:] != _crc_tail(crc)
    ):
        raise LineDamage(
            "its checksum does not match its content, so it was changed after it was written"
        )


def _crc_tail(crc: int) -> bytes:
    return CRC_MARK + b"%d}" % crc


def _sealed(content: bytes) -> bytes:
    """`content` (a JSON object without its closing brace) with its checksum, as one line."""
    return content + _crc_tail(zlib.crc32(content)) + b"\n"


# ------------------------------------------------------------------------ a consistent snapshot


@dataclass(slots=True)
class SummaryRead:
    """What a read of the sidecar found."""

    #: One row per record of the base, in order; None if the sidecar is missing, stale,
    #: unreadable or not for this base. The rows themselves are checked by the caller.
    rows: list[Any] | None = None
    #: Identity of the sidecar file the rows came from.
    ident: FileId | None = None
    bytes_read: int = 0


@dataclass(slots=True)
class Snapshot:
    """A base file and the journal that goes with it, read without any lock."""

    base: BaseFile
    journal: JournalRead
    bytes_read: int
    #: The sidecar, if it was asked for (its rows are None unless it describes exactly the
    #: base bytes read).
    summary: SummaryRead = field(default_factory=SummaryRead)

    @property
    def live_entries(self) -> list[JournalEntry]:
        """The journal entries to apply: none if the journal is stale or absent."""
        if self.journal.generation == self.base.generation:
            return self.journal.entries
        return []


def read_snapshot(path: Path, *, summaries: bool = False) -> Snapshot:
    """Read the base (and, if `summaries`, its sidecar), then its journal; re-read if a
    compaction happened in between."""
    journal = journal_path(path)
    bytes_read = 0
    for _ in range(READ_RETRIES):
        data, st, fd = open_bytes(path)
        reader = BaseRecords(path, fd, file_id(st))
        bytes_read += len(data)
        base = parse_base(path, data, st)
        del data
        if base.laid_out:
            base.reader = reader  # its records are read by their places later
        else:
            reader.close()  # they are kept as bytes
        crc = zlib.crc32(base.data) if summaries and _may_have_summary(base) else None
        sidecar = read_summary(path, base, crc) if crc is not None else SummaryRead()
        bytes_read += sidecar.bytes_read
        read = read_journal(journal)
        bytes_read += read.bytes_read
        if read.generation is None or read.generation <= base.generation:
            return Snapshot(base, read, bytes_read, sidecar)
        # The journal is newer than the base we read: a compaction replaced both meanwhile.
        reader.close()
    raise DatabaseCorrupt(
        f"{journal}: journal generation {read.generation} is newer than the database's "
        f"({base.generation}); was {path} restored from an older copy? Move the journal "
        "aside to open the database as it is"
    )


def summary_base(generation: int, st: os.stat_result, crc: int) -> dict[str, int]:
    """How a sidecar names the base file it describes (see the format above)."""
    return {
        "generation": generation,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ino": st.st_ino,
        "crc32": crc,
    }


def _may_have_summary(base: BaseFile) -> bool:
    """Only a base in our layout and of this schema is read through a sidecar."""
    return base.laid_out and base.schema_version == SCHEMA_VERSION


def read_summary(path: Path, base: BaseFile, crc: int) -> SummaryRead:
    """The sidecar's rows if it describes exactly the bytes read of `base` (CRC-32 `crc`).

    Anything wrong with the sidecar only means it is not used: the caller then reads the
    records themselves.
    """
    result = SummaryRead()
    if not _may_have_summary(base):
        return result
    try:
        raw, st = read_bytes(summary_path(path), remade=SUMMARY)
    except ForeignFile:
        raise  # planted: say so, as for any file of the database
    except (OSError, StoreError):
        return result
    result.bytes_read = len(raw)
    try:
        document = _unfolded(raw)
    except orjson.JSONDecodeError:
        return result
    del raw
    if not isinstance(document, dict) or document.get("summary") != SUMMARY_FORMAT:
        return result
    rows = document.get("rows")
    if not isinstance(rows, list) or len(rows) != len(base.records):
        return result
    _, ino, mtime_ns, size = base.ident
    described = document.get("base")
    if not (
        isinstance(described, dict)
        and described.get("generation") == base.generation
        and described.get("size") == size
        and described.get("mtime_ns") == mtime_ns
        and described.get("ino") == ino
        # Cheap (about 10 ms for 60 MB) and catches an edit in place that kept the size
        # within the file system's timestamp granularity.
        and described.get("crc32") == crc
    ):
        return result
    result.rows, result.ident = rows, file_id(st)
    return result


#: What ends the head of a sidecar: orjson writes no spaces, and nothing before "rows" holds a
#: string, so its first occurrence is that key; the same holds for "folded".
_ROWS_KEY = b',"rows":'
_FOLDED_KEY = b',"folded":'


def _unfolded(raw: bytes) -> Any:
    """The sidecar `raw` parsed, but for what a compaction folded (2.5 MB of numbers at
    100,000 filings, which opening has no use for)."""
    folded = raw.find(_FOLDED_KEY)
    rows = raw.find(_ROWS_KEY, folded)
    if folded < 0 or rows < 0 or not raw.endswith(b"}"):
        return orjson.loads(raw)
    document = orjson.loads(raw[:folded] + b"}")
    if isinstance(document, dict):
        document["rows"] = orjson.loads(memoryview(raw)[rows + len(_ROWS_KEY) : -1])
    return document


_HEAD_STEP = 4096


@dataclass(slots=True)
class Fold:
    """A compacted base, as a handle that knows what the compaction folded into it can take it
    up without reading its records (see read_fold)."""

    #: What was folded, as in Folded: the base read (inode, mtime, size), its generation, the
    #: inode of its journal, how many of the journal's lines, and the line that last changed
    #: each document.
    base: tuple[int, int, int]
    generation: int
    journal: int
    lines: int
    changed: dict[int, int]
    #: The documents of the new base, in order, and where each one's record lies in it.
    docs: list[int]
    places: list[int]
    #: The new base, open, and what its first line says.
    new_generation: int
    tables: dict[str, Any]
    records: BaseRecords
    summary_id: FileId
    bytes_read: int


def base_generation(path: Path) -> int | None:
    """The generation of the base at `path`, from its first line alone (None if it cannot be
    read that way)."""
    try:
        fd = open_file(path, os.O_RDONLY)
    except (OSError, StoreError):
        return None
    try:
        head = _base_head(path, fd)
    except (OSError, StoreError):
        return None
    finally:
        os.close(fd)
    return head[2] if head is not None else None


def read_fold(path: Path) -> Fold | None:
    """What the compaction that wrote the base now at `path` folded into it, if the sidecar
    says so and describes that very base (its generation, size, mtime and inode); else None,
    and the base must be read. Only the base's first two lines and the sidecar's head are
    read: the records stay where the sidecar says they are, in the base kept open."""
    try:
        fd = open_file(path, os.O_RDONLY)
    except (OSError, StoreError):
        return None
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    records = BaseRecords(path, fd, file_id(st))
    fold = None
    with suppress(OSError, StoreError):
        fold = _fold(path, records)
    if fold is None:
        records.close()
    return fold


def _fold(path: Path, records: BaseRecords) -> Fold | None:
    head = _base_head(path, records.fd)
    if head is None or head[1] != SCHEMA_VERSION:
        return None
    tables, _, generation, _ = head
    fd = open_file(summary_path(path), os.O_RDONLY, remade=SUMMARY)
    try:
        data = _read_until(fd, lambda data: _ROWS_KEY in data)
        bytes_read = len(data) + len(head[3])
        summary_id = file_id(os.fstat(fd))
    finally:
        os.close(fd)
    end = data.find(_ROWS_KEY)
    if end < 0:
        return None
    try:
        document = orjson.loads(data[:end] + b"}")
    except orjson.JSONDecodeError:
        return None
    del data
    if not isinstance(document, dict) or document.get("summary") != SUMMARY_FORMAT:
        return None
    described, folded = document.get("base"), document.get("folded")
    if not (isinstance(described, dict) and isinstance(folded, dict)):
        return None
    _, ino, mtime_ns, size = records.ident
    if [described.get(key) for key in ("generation", "size", "mtime_ns", "ino")] != [
        generation,
        size,
        mtime_ns,
        ino,
    ]:
        return None  # a sidecar for another base: the compaction died before writing its own
    lists: list[Any] = [folded.get(key) for key in ("base", "changed", "docs", "places")]
    numbers: list[Any] = [folded.get(key) for key in ("generation", "journal", "lines")]
    base, changed, docs, places = lists
    if not (
        _ints(base)
        and len(base) == 3
        and _ints(changed)
        and len(changed) % 2 == 0
        and _ints(docs)
        and _ints(places)
        and len(docs) == len(places)
        and _ints(numbers)
    ):
        return None
    folded_generation, journal, lines = numbers
    return Fold(
        base=(base[0], base[1], base[2]),
        generation=folded_generation,
        journal=journal,
        lines=lines,
        changed=dict(zip(changed[::2], changed[1::2], strict=True)),
        docs=docs,
        places=places,
        new_generation=generation,
        tables=tables,
        records=records,
        summary_id=summary_id,
        bytes_read=bytes_read,
    )


def _ints(value: Any) -> bool:
    return isinstance(value, list) and set(map(type, value)) <= {int}


def _base_head(path: Path, fd: int) -> tuple[dict[str, Any], int, int, bytes] | None:
    """The other tables, schema version and generation on the first line of the base open as
    `fd`, if it is in our layout (DatabaseCorrupt if its "_meta" is bad), and the bytes read."""
    data = _read_until(fd, lambda data: data.count(b"\n") >= 2)
    head = _laid_out_head(data)
    if head is None:
        return None
    tables = head[0]
    return (tables, *_meta(path, tables), data)


def _read_until(fd: int, enough: Callable[[bytes], bool]) -> bytes:
    """The start of the file open as `fd`, read in ever larger steps until it is `enough` (or
    the file ends)."""
    data = b""
    step = _HEAD_STEP
    while not enough(data):
        more = os.pread(fd, step, len(data))
        if not more:
            break
        data += more
        step *= 2
    return data


def merged_tables(snapshot: Snapshot) -> dict[str, Any]:
    """The current database as TinyDB tables: base plus journal, migrated to SCHEMA_VERSION.

    Records are parsed but not validated, so a script can read (and repair) a bad filing.
    """
    base = snapshot.base
    with gc_paused():
        if base.parsed is not None:
            filings = {str(doc_id): rec for doc_id, rec in base.parsed.items()}
        else:
            filings = {
                str(doc_id): load_record(base.path, doc_id, base.raw(stored), line)
                for doc_id, stored, line in base.records
            }
        for entry in snapshot.live_entries:
            filings[str(entry.doc_id)] = entry.record
    tables = dict(base.tables)
    tables[FILINGS] = filings
    return migrate(base.path, tables, base.schema_version)


def migrate(path: Path, tables: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring a database of schema `version` up to SCHEMA_VERSION, in memory."""
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StoreError(f"{path}: no migration from schema {version} to {version + 1}")
        tables = step(tables)
        version += 1
    return tables


# ----------------------------------------------------------------------------------- writing


def journal_header(generation: int) -> bytes:
    """The first line of a fresh journal for base generation `generation`."""
    return _sealed(b'{"journal": %d, "generation": %d' % (JOURNAL_FORMAT, generation))


def journal_line(doc_id: int, raw: bytes) -> bytes:
    """One committed change: the whole record, so a reader needs nothing else, and the CRC-32
    of all that (one pass over the record: cheap beside the fsync)."""
    return _sealed(b'{"put": ' + raw + b', "doc_id": %d' % doc_id)


def batch_line(changes: Sequence[tuple[int, bytes]]) -> bytes:
    """Several changes committed together as one line (doc_id, raw record each): a torn
    write loses all of them, never some."""
    puts = b",".join(b'{"put": ' + raw + b', "doc_id": %d}' % doc_id for doc_id, raw in changes)
    return _sealed(b'{"batch": [' + puts + b"]")


#: A record's raw JSON as a writer is given it: bytes, or a view into a base read whole.
Raw = bytes | memoryview


def base_chunks(
    tables: dict[str, Any],
    generation: int,
    records: Iterable[tuple[int, Raw]],
    places: list[int] | None = None,
) -> Iterator[bytes]:
    """The base file, one record per line (`tables` = every table but "filings"); the place
    of each record in it is added to `places`, if given."""
    head = dict(tables)
    meta = dict(head.get(META) or {})
    meta["1"] = {"schema_version": SCHEMA_VERSION, "generation": generation}
    head = {META: meta, **{k: v for k, v in head.items() if k not in (META, FILINGS)}}
    # The stdlib encoder gives the spaced first line people expect to read; it is tiny.
    first = json.dumps(head, ensure_ascii=False)[:-1].encode() + b",\n" + _TABLE_LINE + b"\n"
    yield first
    offset = len(first)
    previous: bytes | None = None
    for doc_id, raw in records:
        if previous is not None:
            yield previous + b",\n"
        key = b'"%d": ' % doc_id
        if places is not None:
            places.append(place(offset + len(key), len(raw)))
        offset += len(key) + len(raw) + 2  # and the comma or the newline
        previous = key + raw
    if previous is not None:
        yield previous + b"\n"
    yield _END_LINE + b"\n"


def temp_prefix(path: Path) -> str:
    """Names of our temporary files for `path`; only a lock holder creates them."""
    return f".{path.name}.tmp-"


def clean_temp_files(path: Path) -> int:
    """Remove temporary files a killed writer left (call only while holding the lock)."""
    removed = 0
    prefix = temp_prefix(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return 0
    for name in names:
        # Only our own regular files: a folder or a link of that name is someone else's,
        # and in the way of nobody (our temporary names are random).
        if name.startswith(prefix) and is_own_leftover(path.parent / name):
            with suppress(OSError):
                os.unlink(path.parent / name)
                removed += 1
    return removed


@contextmanager
def writers_held(path: Path, timeout: float) -> Iterator[None]:
    """Hold the writers' lock of the database at `path` for the block (StoreBusy after
    `timeout` seconds); clear away temporary files a killed writer left. A failing disk
    (OSError) becomes a StoreError that says nothing was changed."""
    try:
        with writers_lock(lock_path(path), timeout, database=path):
            clean_temp_files(path)  # only lock holders write them: any found are orphans
            yield
    except OSError as error:
        raise StoreError(
            f"could not save to {path}: {error.strerror or error}; nothing was changed"
        ) from error


def atomic_write(
    target: Path,
    chunks: Iterable[bytes],
    *,
    tmp_for: Path,
    rule: Policy | None = None,
) -> tuple[os.stat_result, int, int]:
    """Replace `target` with `chunks` so a reader sees the whole old or the whole new file.

    The new file gets the mode and group of the database's policy `rule` (by default that of
    the database `tmp_for` as it is now); the rename replaces whatever is at `target` (a
    planted link, say) without touching what it points to. Returns the stat of the new file,
    the bytes written and their CRC-32.
    """
    tmp = target.parent / f"{temp_prefix(tmp_for)}{os.getpid()}-{secrets.token_hex(4)}"
    if target != tmp_for:
        tmp = tmp.with_name(tmp.name + target.name[len(tmp_for.name) :])
    written = crc = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE, MODE)
        with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
            apply_policy(fd, rule or policy(tmp_for))
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
                crc = zlib.crc32(chunk, crc)
            handle.flush()
            os.fsync(fd)
            st = os.fstat(fd)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
    return st, written, crc


def write_copy(original: Path, data: bytes, suffix: str, rule: Policy) -> Path:
    """Keep `data` (a damaged file's bytes) as a new file beside `original`; its path."""
    for n in range(1000):
        copy = original.with_name(f"{original.name}.{suffix}" + (f"-{n}" if n else ""))
        try:
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE, MODE)
        except FileExistsError:
            continue
        try:
            apply_policy(fd, rule)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            with suppress(OSError):
                os.unlink(copy)
            raise
        os.close(fd)
        fsync_dir(copy.parent)
        return copy
    raise StoreError(f"cannot keep a copy of {original}: too many copies beside it")


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort where the platform cannot)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(slots=True)
class Written:
    """Where a freshly written database stands (for the writer's bookkeeping)."""

    base: os.stat_result
    journal: os.stat_result
    journal_end: int
    bytes_written: int
    #: Where each record went in the new base, in the order given.
    places: list[int]
    #: Reads them back from the new base; None if it could not be opened as the file just
    #: written (the caller keeps the records it has).
    reader: BaseRecords | None


@dataclass(frozen=True, slots=True)
class Folded:
    """What a compaction folds into the base it writes: the base it had read and that base's
    journal up to line `lines`, nothing else (see the sidecar's "folded" above)."""

    base: FileId
    generation: int
    journal: tuple[int, int]
    lines: int
    #: The journal line that last changed each document it changed.
    changed: dict[int, int]


def write_database(
    path: Path,
    *,
    generation: int,
    tables: dict[str, Any],
    records: Iterable[tuple[int, Raw]],
    rows: Sequence[Any],
    folded: Folded | None = None,
) -> Written:
    """Write base `generation`, its sidecar, then an empty journal of the same generation (lock
    held). `records` are in document order and `rows` are their summary rows, in the same order.
    A compaction says what it `folded`, so that other handles can take up the new base without
    reading it.

    The order matters: if we die after the base, the old journal has a lower generation than
    the new base and readers ignore it, and the old sidecar does not describe the new base.
    """
    places: list[int] = []
    docs: list[int] = []

    def counted() -> Iterator[tuple[int, Raw]]:
        for doc_id, raw in records:
            docs.append(doc_id)
            yield doc_id, raw
        if len(places) != len(rows):  # raised before the new base is put in place
            raise ValueError(f"{len(places)} records but {len(rows)} summary rows")

    rule = policy(path)  # 0660 in the group of the base being replaced, whatever its mode
    base_st, base_bytes, crc = atomic_write(
        path, base_chunks(tables, generation, counted(), places), tmp_for=path, rule=rule
    )
    reader = None
    with suppress(OSError, StoreError):
        # Describe the base as readers will see it, in case renaming it touched its times,
        # and keep it open to read its records back.
        fd = open_file(path, os.O_RDONLY)
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino, st.st_size) == (base_st.st_dev, base_st.st_ino, base_st.st_size):
            base_st = st
            reader = BaseRecords(path, fd, file_id(st))
        else:
            os.close(fd)
    fold = None
    if folded is not None:
        fold = {
            "base": [folded.base[1], folded.base[2], folded.base[3]],
            "generation": folded.generation,
            "journal": folded.journal[1],
            "lines": folded.lines,
            "changed": [n for doc_line in folded.changed.items() for n in doc_line],
            "docs": docs,
            "places": places,
        }
    sidecar_bytes = write_summary(path, generation, base_st, crc, rows, rule, fold)
    header = journal_header(generation)
    journal_st, journal_bytes, _ = atomic_write(
        journal_path(path), [header], tmp_for=path, rule=rule
    )
    written = base_bytes + sidecar_bytes + journal_bytes
    return Written(base_st, journal_st, len(header), written, places, reader)


def write_summary(
    path: Path,
    generation: int,
    base_st: os.stat_result,
    crc: int,
    rows: Sequence[Any],
    rule: Policy,
    folded: dict[str, Any] | None = None,
) -> int:
    """Write the sidecar of the base just written (stat `base_st`, CRC-32 `crc`), with the
    database's mode and group `rule`; return the bytes written."""
    document: dict[str, Any] = {
        "summary": SUMMARY_FORMAT,
        "base": summary_base(generation, base_st, crc),
    }
    if folded is not None:
        document["folded"] = folded
    document["rows"] = rows  # last: read_fold reads what comes before
    data = orjson.dumps(document)
    _, written, _ = atomic_write(summary_path(path), [data], tmp_for=path, rule=rule)
    return written


def start_journal(path: Path, generation: int) -> tuple[os.stat_result, int]:
    """Replace a missing, headerless or stale journal by an empty one for `generation`."""
    header = journal_header(generation)
    st, _, _ = atomic_write(journal_path(path), [header], tmp_for=path, rule=policy(path))
    return st, len(header)


def append_line(journal: Path, line: bytes, *, ino: tuple[int, int], end: int) -> None:
    """Append one committed change (lock held): cut a torn tail, one write, then fsync."""
    fd = open_file(journal, os.O_WRONLY | os.O_APPEND)
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != ino or st.st_size < end:
            raise StoreError(f"{journal} changed while locked; nothing was saved, try again")
        if st.st_size > end:
            os.ftruncate(fd, end)  # a killed writer's uncommitted half line
        # One write of the whole line: a reader sees all of it or an unfinished tail.
        try:
            if os.write(fd, line) != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(fd)
        except OSError:
            # Reported as not saved, so readers must not see it either (a failed fsync
            # leaves the line in the page cache).
            with suppress(OSError):
                os.ftruncate(fd, end)
            raise
    finally:
        os.close(fd)


def next_generation(path: Path) -> int:
    """A generation above any the files at `path` have used (for a fresh database)."""
    highest = 0
    with suppress(OSError, StoreError, ValueError):
        data, st = read_bytes(path)
        if data:
            highest = parse_base(path, data, st).generation
    with suppress(OSError, StoreError):
        highest = max(highest, read_journal(journal_path(path)).generation or 0)
    return highest + 1
