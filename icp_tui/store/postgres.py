"""PostgresStore: the queue in a PostgreSQL database, for a team on more than one server.

It keeps the store contract (contract.py) with the database's own guarantees instead of file
locks. The schema, in the connection's search_path:

* ``icp_meta(key, value)``: ``schema_version`` (as the file store's, migrated with the same
  MIGRATIONS), ``generation`` (raised when a database is replaced wholesale, so open
  dashboards reload) and ``change_seq``, the last change's number.
* ``filings``: one row per filing, the queue's summary (FilingSummary row as JSON), its current
  version, the change number that last touched it (``changed_seq``) and its place (``position``).
* ``filing_versions``: every version of every filing's whole record, appended and never
  rewritten: ``get`` reads the version the queue shows, and the audit trail stays in the
  database for other systems to read.

A change is one transaction: the filing's row is locked (SELECT ... FOR UPDATE) while its
version is checked, the new version appended and the row updated. Every writer then raises
``change_seq`` on its single row, which holds writers in commit order for the last few
milliseconds of their transaction: so change numbers become visible in order, and ``poll``
can ask for "changed_seq > the last I saw" without missing a change that committed late, after
a reconnect too. The commit also sends a NOTIFY on ``icp_tui_changes`` so dashboards that
LISTEN need not wait for their next poll.

Opening reads only ``filings`` (summaries, not records or histories). A role without the
rights to write, or a hot standby, opens read-only. The password of a connection URI is kept
out of every message: the store is named by `display_location`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads

from icp_tui.domain.asof import Record
from icp_tui.domain.errors import InvalidRecord, UnknownFiling
from icp_tui.domain.filing import Filing, from_record, to_record
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.store import journal
from icp_tui.store.errors import (
    DatabaseCorrupt,
    DatabaseExists,
    DatabaseMissing,
    DuplicateFiling,
    NewerSchema,
    ReadOnlyDatabase,
    StaleChange,
    StoreError,
)
from icp_tui.store.filing_store import POLL_LIST_LIMIT, _stale_message
from icp_tui.store.location import display_location

#: The channel a commit notifies; the payload is the change number.
CHANNEL = "icp_tui_changes"
#: How often a wait for a NOTIFY looks at its stop event (the dashboard leaving), in seconds:
#: as often as the file store's notifications do (watching.STEP_MS).
STOP_STEP = 0.1

_SCHEMA = """
CREATE TABLE icp_meta (
    key text PRIMARY KEY,
    value bigint NOT NULL
);
CREATE TABLE filings (
    position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id text PRIMARY KEY,
    version integer NOT NULL,
    summary jsonb NOT NULL,
    changed_seq bigint NOT NULL
);
CREATE INDEX filings_changed_seq ON filings (changed_seq);
CREATE TABLE filing_versions (
    filing_id text NOT NULL REFERENCES filings (id),
    version integer NOT NULL,
    record jsonb NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (filing_id, version)
);
"""
_TABLES = ("filing_versions", "filings", "icp_meta")
#: Serialises `init` against another `init` or a migration (pg_advisory_xact_lock key).
_SCHEMA_LOCK = 0x1C9_7E1
#: What the handle needs to know of the database besides its filings, read with them.
_STATE = (
    "SELECT current_user, pg_is_in_recovery(),"
    " has_table_privilege('filings', 'INSERT, UPDATE')"
    " AND has_table_privilege('filing_versions', 'INSERT')"
    " AND has_table_privilege('icp_meta', 'UPDATE')"
)

T = TypeVar("T")


class ConnectionLost(StoreError):
    """The connection to the server dropped (or could not be made again).

    `in_doubt` if it dropped while a change was being committed: the server may have saved it.
    """

    def __init__(self, message: str, *, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


class PostgresStore:
    """The filings of the PostgreSQL database at `uri`; see the module docstring.

    Thread-safe within a process (one connection, used under a lock). Constructing does no
    I/O; the first access connects and loads. A dropped connection is opened again at the
    next call; a change under way when it dropped is whole or absent (one transaction).
    """

    def __init__(self, uri: str, *, connect_timeout: float = 10.0) -> None:
        self._uri = uri  # may hold a password: never shown, logged or put in a message
        self.location = display_location(uri)
        self.connect_timeout = connect_timeout
        self.read_only = False
        self.read_only_reason: str | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._mutex = threading.RLock()
        #: A second connection, autocommit, that LISTENs; its own lock, so a dashboard thread
        #: waiting on it never holds up this handle's reads and saves.
        self._listener: psycopg.Connection[Any] | None = None
        self._listening = threading.Lock()
        self._loaded_once = False
        self._ids: list[str] = []
        self._summaries: dict[str, FilingSummary] = {}
        self._seq = 0
        self._generation = 0
        self._schema_version = journal.SCHEMA_VERSION
        #: (role, on a standby, may write) as last read with the filings.
        self._access: tuple[str, bool, bool] = ("", False, True)

    # ------------------------------------------------------------------------------ creating

    @classmethod
    def create(
        cls,
        uri: str,
        filings: Iterable[Filing] = (),
        *,
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> PostgresStore:
        """Create the schema holding `filings` in one transaction and return the store, loaded.

        Refuses a database that already has the schema unless `overwrite`, which replaces its
        filings (open dashboards then reload).
        """
        store = cls(uri)
        rows: list[tuple[str, int, bytes, bytes]] = []
        seen: set[str] = set()
        for done, filing in enumerate(filings, 1):
            record = to_record(filing)
            checked = from_record(record)  # never write what the loader would refuse
            if filing.id in seen:
                raise DuplicateFiling(f"{filing.id} is given twice; {store.location} not written")
            seen.add(filing.id)
            rows.append(
                (
                    filing.id,
                    filing.version,
                    orjson.dumps(record),
                    orjson.dumps(summarize(checked).to_row()),
                )
            )
            if progress is not None and done % 1000 == 0:
                progress(done)
        with store._mutex, store._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            generation, seq = 1, 0
            if store._schema_exists(cur):
                if not overwrite:
                    raise DatabaseExists(
                        f"{store.location} already holds an icp-tui queue; it was left as it is"
                    )
                old = store._meta(cur)
                generation, seq = old.get("generation", 0) + 1, old.get("change_seq", 0)
                if old.get("schema_version") == journal.SCHEMA_VERSION:
                    # Emptied, not dropped: the grants the team gave on the tables stay.
                    cur.execute("TRUNCATE filing_versions, filings, icp_meta RESTART IDENTITY")
                else:
                    cur.execute(
                        sql.SQL("DROP TABLE {}").format(
                            sql.SQL(", ").join(map(sql.Identifier, _TABLES))
                        )
                    )
                    cur.execute(_SCHEMA)
            else:
                cur.execute(_SCHEMA)
            seq += 1 if rows else 0
            with cur.copy("COPY filings (id, version, summary, changed_seq) FROM STDIN") as copy:
                for fid, version, _, summary in rows:
                    copy.write_row((fid, version, summary.decode(), seq))
            with cur.copy("COPY filing_versions (filing_id, version, record) FROM STDIN") as copy:
                for fid, version, raw, _ in rows:
                    copy.write_row((fid, version, raw.decode()))
            cur.executemany(
                "INSERT INTO icp_meta (key, value) VALUES (%s, %s)",
                [
                    ("schema_version", journal.SCHEMA_VERSION),
                    ("generation", generation),
                    ("change_seq", seq),
                ],
            )
            cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(seq)))
        store.load()
        if progress is not None:
            progress(len(rows))
        return store

    # ------------------------------------------------------------------------------- reading

    def load(self, visit: Callable[[FilingSummary], object] | None = None) -> int:
        """Read every filing's summary afresh (no record, no history); return how many."""
        with self._mutex:
            self._migrate_if_due()

            def read(cur: psycopg.Cursor[Any]) -> tuple[dict[str, int], list[Any]]:
                meta = self._require_schema(cur)
                cur.execute("SELECT id, summary FROM filings ORDER BY position")
                return meta, cur.fetchall()

            meta, rows = self._read(read)
            summaries = self._summaries_of(rows)
            del rows
            self._check_access(meta)
            self._ids = list(summaries)
            self._summaries = summaries
            self._seq, self._generation = meta["change_seq"], meta["generation"]
            self._loaded_once = True
            if visit is not None:
                for summary in summaries.values():
                    visit(summary)
            return len(summaries)

    def ids(self) -> list[str]:
        """Ids of all filings, oldest first."""
        with self._mutex:
            self._loaded()
            return list(self._ids)

    def __len__(self) -> int:
        with self._mutex:
            self._loaded()
            return len(self._ids)

    def __contains__(self, filing_id: object) -> bool:
        with self._mutex:
            self._loaded()
            return filing_id in self._summaries

    def summary(self, filing_id: str) -> FilingSummary:
        """The summary of the filing as last read (from memory)."""
        with self._mutex:
            self._loaded()
            summary = self._summaries.get(filing_id)
            if summary is None:
                raise UnknownFiling(f"no filing {filing_id} in {self.location}")
            return summary

    def summaries(self) -> list[FilingSummary]:
        """The summaries of all filings as last read, oldest first."""
        with self._mutex:
            self._loaded()
            return [self._summaries[filing_id] for filing_id in self._ids]

    def get(self, filing_id: str) -> Filing:
        """The filing at the version last read, fetched from its appended versions."""
        with self._mutex:
            version = self.summary(filing_id).version
            row = self._read(
                lambda cur: cur.execute(
                    "SELECT record FROM filing_versions WHERE filing_id = %s AND version = %s",
                    (filing_id, version),
                ).fetchone()
            )
            if row is None:
                raise DatabaseCorrupt(
                    f"{self.location}: filing {filing_id} lists version {version}, "
                    "which filing_versions does not hold"
                )
            return self._decode(filing_id, row[0])

    def for_rebuild(self, filing_id: str) -> Record | Filing:
        """The filing at the version last read, for a step in time: as `get` reads it (the
        light record is the file store's saving; a row here is fetched one at a time)."""
        return self.get(filing_id)

    def poll(self) -> list[Filing] | None:
        """What changed since the last load() or poll(): the rows whose change number is above
        the last one seen (so nothing is missed while a connection was down). None if the
        database was replaced or more than POLL_LIST_LIMIT filings changed."""
        with self._mutex:
            if not self._loaded_once:
                self.load()
                return None
            last_seq, generation = self._seq, self._generation

            def read(cur: psycopg.Cursor[Any]) -> tuple[dict[str, int], list[Any] | None]:
                meta = self._require_schema(cur)
                if meta["generation"] != generation:
                    return meta, None
                if meta["change_seq"] == last_seq:
                    return meta, []
                cur.execute(
                    "SELECT f.id, f.summary, v.record FROM filings f JOIN filing_versions v"
                    " ON v.filing_id = f.id AND v.version = f.version"
                    " WHERE f.changed_seq > %s ORDER BY f.position",
                    (last_seq,),
                )
                return meta, cur.fetchmany(POLL_LIST_LIMIT + 1)

            meta, changed_rows = self._read(read)
            if changed_rows == []:
                return []
            if changed_rows is None or len(changed_rows) > POLL_LIST_LIMIT:
                self.load()
                return None
            changed = self._summaries_of([(fid, summary) for fid, summary, _ in changed_rows])
            filings = [self._decode(fid, record) for fid, _, record in changed_rows]
            for fid, summary in changed.items():
                if fid not in self._summaries:
                    self._ids.append(fid)
                self._summaries[fid] = summary
            self._seq = meta["change_seq"]
            self._check_access(meta)
            return filings

    # ------------------------------------------------------------------------------- writing

    def commit(
        self,
        filing_id: str,
        change: Callable[[Filing], Filing],
        expected_version: int | None = None,
    ) -> Filing:
        """Apply `change` to the current filing under its row lock and save it, in one
        transaction; StaleChange if it is no longer at `expected_version`."""
        return self._saving(lambda: self._commit_once(filing_id, change, expected_version))

    def _commit_once(
        self,
        filing_id: str,
        change: Callable[[Filing], Filing],
        expected_version: int | None,
    ) -> Filing:
        with self._mutex, self._writing() as cur:
            # Lock first, then read the record in a second statement: its snapshot is taken
            # after the lock, so it sees the version a writer we waited for just saved (a
            # join under FOR UPDATE would re-check only the locked row and find nothing).
            locked = cur.execute(
                "SELECT version FROM filings WHERE id = %s FOR UPDATE", (filing_id,)
            ).fetchone()
            if locked is None:
                raise UnknownFiling(f"no filing {filing_id} in {self.location}")
            row = cur.execute(
                "SELECT record FROM filing_versions WHERE filing_id = %s AND version = %s",
                (filing_id, locked[0]),
            ).fetchone()
            if row is None:
                raise DatabaseCorrupt(
                    f"{self.location}: filing {filing_id} is at version {locked[0]}, "
                    "which filing_versions does not hold"
                )
            current = self._decode(filing_id, row[0])
            if expected_version is not None and current.version != expected_version:
                raise StaleChange(_stale_message(current), current)
            new = change(current)
            if new.id != filing_id or new.version != current.version + 1:
                raise ValueError(
                    f"a change to {filing_id} v{current.version} must return it at version "
                    f"{current.version + 1}, not {new.id} v{new.version}"
                )
            saved, record, summary = _checked(new)
            seq = self._next_seq(cur)
            cur.execute(
                "INSERT INTO filing_versions (filing_id, version, record) VALUES (%s, %s, %s)",
                (filing_id, saved.version, Jsonb(record)),
            )
            cur.execute(
                "UPDATE filings SET version = %s, summary = %s, changed_seq = %s WHERE id = %s",
                (saved.version, Jsonb(summary.to_row()), seq, filing_id),
            )
        self._summaries[filing_id] = summary
        return saved

    def add(self, make: Callable[[set[str]], Filing]) -> Filing:
        """Add the filing `make(existing ids)` builds; DuplicateFiling if its id is taken."""
        return self._saving(lambda: self._add_once(make))

    def _add_once(self, make: Callable[[set[str]], Filing]) -> Filing:
        with self._mutex, self._writing() as cur:
            # Taking the change number first holds other writers, so the ids `make` sees stay
            # the existing ones until this commits.
            seq = self._next_seq(cur)
            cur.execute("SELECT id FROM filings")
            existing = {fid for (fid,) in cur.fetchall()}
            new = make(existing)
            if new.id in existing:
                raise DuplicateFiling(f"{new.id} already exists in {self.location}")
            saved, record, summary = _checked(new)
            cur.execute(
                "INSERT INTO filings (id, version, summary, changed_seq) VALUES (%s, %s, %s, %s)",
                (saved.id, saved.version, Jsonb(summary.to_row()), seq),
            )
            cur.execute(
                "INSERT INTO filing_versions (filing_id, version, record) VALUES (%s, %s, %s)",
                (saved.id, saved.version, Jsonb(record)),
            )
        if saved.id not in self._summaries:
            self._ids.append(saved.id)
        self._summaries[saved.id] = summary
        return saved

    def add_many(
        self,
        make: Callable[[set[str]], Sequence[Filing]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Filing]:
        """Add the filings `make(existing ids)` builds in one transaction: all or none;
        DuplicateFiling if an id is taken or given twice."""
        return self._saving(lambda: self._add_many_once(make, progress))

    def _add_many_once(
        self,
        make: Callable[[set[str]], Sequence[Filing]],
        progress: Callable[[int, int], None] | None,
    ) -> list[Filing]:
        with self._mutex, self._writing() as cur:
            seq = self._next_seq(cur)  # holds other writers: the ids `make` sees stay valid
            cur.execute("SELECT id FROM filings")
            existing = {fid for (fid,) in cur.fetchall()}
            filings = make(existing)
            total = len(filings)
            added: list[tuple[Filing, dict[str, Any], FilingSummary]] = []
            given: set[str] = set()
            for done, new in enumerate(filings, 1):
                if new.id in existing or new.id in given:
                    raise DuplicateFiling(
                        f"{new.id} already exists in {self.location}; nothing was added"
                    )
                given.add(new.id)
                added.append(_checked(new))
                if progress is not None and (done % 1000 == 0 or done == total):
                    progress(done, total)
            with cur.copy("COPY filings (id, version, summary, changed_seq) FROM STDIN") as copy:
                for saved, _, summary in added:
                    copy.write_row((saved.id, saved.version, _json_text(summary.to_row()), seq))
            with cur.copy("COPY filing_versions (filing_id, version, record) FROM STDIN") as copy:
                for saved, record, _ in added:
                    copy.write_row((saved.id, saved.version, _json_text(record)))
        for saved, _, summary in added:
            if saved.id not in self._summaries:
                self._ids.append(saved.id)
            self._summaries[saved.id] = summary
        return [saved for saved, _, _ in added]

    def compact_if_due(self) -> bool:
        """Nothing to do: the server reclaims space itself (autovacuum)."""
        return False

    def wait_for_change(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until someone commits a change (a NOTIFY), or `timeout` seconds pass, or
        `stop` is set (False); True if woken. Also True when the listening connection was lost
        or is new, since changes may have been missed meanwhile: poll() then reads the change
        sequence, which misses nothing."""
        with self._listening:
            fresh = False
            try:
                if self._listener is None or self._listener.closed or self._listener.broken:
                    self._listener = None
                    listener = psycopg.connect(
                        self._uri,
                        autocommit=True,
                        connect_timeout=max(1, round(self.connect_timeout)),
                        application_name="icp-tui listen",
                    )
                    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    self._listener, fresh = listener, True
                woken = _notified(self._listener, timeout, stop)
                # Drain what else arrived: one poll covers them all.
                while any(True for _ in self._listener.notifies(timeout=0, stop_after=1)):
                    pass
                return woken or fresh
            except psycopg.Error:
                if self._listener is not None:
                    self._listener.close()
                self._listener = None
                # The server is away: wait before the caller polls, rather than spin on errors.
                (stop or threading.Event()).wait(timeout)
                return True

    def close(self) -> None:
        """Close the connections (the next call opens a new one)."""
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        with self._listening:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    # ------------------------------------------------------------------------------ internals

    def _loaded(self) -> None:
        if not self._loaded_once:
            self.load()

    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection, or a new one if there is none or it was lost."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        self._conn = None
        try:
            conn = psycopg.connect(
                self._uri,
                connect_timeout=max(1, round(self.connect_timeout)),
                application_name="icp-tui",
            )
        except psycopg.Error as error:
            if getattr(error, "sqlstate", None) == "3D000":
                raise DatabaseMissing(
                    f"no database at {self.location}: create it (createdb), then `icp-tui init`"
                ) from None
            raise ConnectionLost(
                f"cannot connect to {self.location}: {self._said(error)}"
            ) from None
        set_json_loads(orjson.loads, conn)
        set_json_dumps(orjson.dumps, conn)
        self._conn = conn
        return conn

    @contextmanager
    def _transaction(self, *, read_only: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction; the database's errors become one-line StoreErrors."""
        conn = self._connection()
        committing = False
        try:
            if read_only:
                # One snapshot for the change number and the rows it covers.
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
            else:
                conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
                conn.read_only = False
            with conn.transaction(), conn.cursor() as cur:
                yield cur
                committing = True
        except psycopg.errors.InsufficientPrivilege as error:
            raise ReadOnlyDatabase(f"{self.location}: {self._said(error)}") from None
        except psycopg.errors.ReadOnlySqlTransaction:
            raise ReadOnlyDatabase(f"{self.location} is read-only (a standby?)") from None
        except psycopg.OperationalError as error:
            self._conn = None
            lost = f"lost the connection to {self.location}"
            if read_only:
                raise ConnectionLost(f"{lost} while reading ({self._said(error)})") from None
            if committing:
                raise ConnectionLost(
                    f"{lost} while committing ({self._said(error)}): the change is saved whole "
                    "or not at all; look at the filing before trying again",
                    in_doubt=True,
                ) from None
            raise ConnectionLost(
                f"{lost} while saving ({self._said(error)}); nothing was saved: try again"
            ) from None
        except psycopg.Error as error:
            raise StoreError(f"{self.location}: {self._said(error)}") from None

    def _read(self, query: Callable[[psycopg.Cursor[Any]], T]) -> T:
        """`query` in one read-only snapshot; repeated once on a new connection if the old one
        was lost (a restarted server), since a read is safe to repeat."""
        try:
            with self._transaction(read_only=True) as cur:
                return query(cur)
        except ConnectionLost:
            with self._transaction(read_only=True) as cur:
                return query(cur)

    def _saving(self, save: Callable[[], T]) -> T:
        """`save` (one write transaction); once more on a new connection if the old one was
        lost before the commit (a restarted server), since then nothing was saved."""
        try:
            return save()
        except ConnectionLost as lost:
            if lost.in_doubt:
                raise
            return save()

    @contextmanager
    def _writing(self) -> Iterator[psycopg.Cursor[Any]]:
        """A write transaction, refused at once if this handle may not write."""
        self._loaded()
        if self.read_only:
            raise ReadOnlyDatabase(self.read_only_reason or f"{self.location} is read-only")
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn = None
        with self._transaction() as cur:
            yield cur
            cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, "change"))

    def _said(self, error: psycopg.Error) -> str:
        """The database's message as one line, without the password should it quote it."""
        text = " ".join(str(error).split()) or type(error).__name__
        try:
            password = psycopg.conninfo.conninfo_to_dict(self._uri).get("password")
        except psycopg.Error:
            password = None  # a URI libpq cannot parse holds nothing it could have quoted
        if password:
            text = text.replace(str(password), "***")
        return text

    @staticmethod
    def _schema_exists(cur: psycopg.Cursor[Any]) -> bool:
        cur.execute("SELECT to_regclass('icp_meta') IS NOT NULL")
        row = cur.fetchone()
        return bool(row and row[0])

    @staticmethod
    def _meta(cur: psycopg.Cursor[Any]) -> dict[str, int]:
        cur.execute("SELECT key, value FROM icp_meta")
        return {key: value for key, value in cur.fetchall()}

    def _require_schema(self, cur: psycopg.Cursor[Any]) -> dict[str, int]:
        """The icp_meta values, and (as "writable") whether this role may write."""
        if not self._schema_exists(cur):
            raise DatabaseMissing(
                f"no icp-tui queue in {self.location}: create one with `icp-tui init`"
            )
        meta = self._meta(cur)
        for key in ("schema_version", "generation", "change_seq"):
            if key not in meta:
                raise DatabaseCorrupt(f"{self.location}: icp_meta has no {key}")
        self._schema_version = meta["schema_version"]
        row = cur.execute(_STATE).fetchone()
        assert row is not None
        self._access = row
        return meta

    def _summaries_of(self, rows: list[Any]) -> dict[str, FilingSummary]:
        summaries: dict[str, FilingSummary] = {}
        for fid, row in rows:
            try:
                summary = FilingSummary.from_row(row)
            except InvalidRecord as error:
                raise DatabaseCorrupt(f"{self.location}: filing {fid!r}: {error}") from None
            if summary.id != fid:
                raise DatabaseCorrupt(
                    f"{self.location}: the row of {fid!r} holds the summary of {summary.id!r}"
                )
            summaries[fid] = summary
        return summaries

    def _decode(self, filing_id: str, record: Any) -> Filing:
        try:
            filing = from_record(record)
        except InvalidRecord as error:
            if self._schema_version > journal.SCHEMA_VERSION:
                raise NewerSchema(
                    f"{self.location} was written by a newer icp-tui (schema "
                    f"{self._schema_version}, this one knows {journal.SCHEMA_VERSION}) and "
                    f"cannot be read: {error}"
                ) from None
            raise DatabaseCorrupt(f"{self.location}: {error}") from None
        if filing.id != filing_id:
            raise DatabaseCorrupt(f"{self.location}: the record of {filing_id!r} is {filing.id!r}")
        return filing

    @staticmethod
    def _next_seq(cur: psycopg.Cursor[Any]) -> int:
        """Take the next change number; its row stays locked (writers in line) until commit."""
        cur.execute(
            "UPDATE icp_meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value"
        )
        row = cur.fetchone()
        assert row is not None
        return int(row[0])

    def _check_access(self, meta: dict[str, int]) -> None:
        """Decide whether this handle may write, and say why not."""
        reason = None
        if meta["schema_version"] > journal.SCHEMA_VERSION:
            reason = (
                f"{self.location} was written by a newer icp-tui (schema "
                f"{meta['schema_version']}, this one knows {journal.SCHEMA_VERSION}): "
                "opened read-only"
            )
        else:
            role, standby, may_write = self._access
            if standby:
                reason = f"{self.location} is a standby server, so it is open read-only"
            elif not may_write:
                reason = (
                    f"the database role {role} may not write {self.location}, "
                    "so it is open read-only"
                )
        self.read_only, self.read_only_reason = reason is not None, reason

    def _migrate_if_due(self) -> None:
        """Bring an older schema up to this one, in one transaction (as the file store's
        MIGRATIONS do to a file), so every reader after it sees the new schema."""
        version = self._read(
            lambda cur: (
                self._meta(cur).get("schema_version", journal.SCHEMA_VERSION)
                if self._schema_exists(cur)
                else journal.SCHEMA_VERSION
            )
        )
        if version >= journal.SCHEMA_VERSION:
            return
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur.execute("LOCK TABLE filings, filing_versions, icp_meta IN EXCLUSIVE MODE")
            meta = self._meta(cur)
            version = meta["schema_version"]
            if version >= journal.SCHEMA_VERSION:
                return  # someone else migrated it meanwhile
            cur.execute("SELECT filing_id, version, record FROM filing_versions")
            keys: list[tuple[str, int]] = []
            filings: dict[str, Any] = {}
            for fid, number, record in cur.fetchall():
                filings[str(len(keys))] = record
                keys.append((fid, number))
            # migrate() only puts the location in its message: the URI is as good as a path.
            where: Any = self.location
            tables = journal.migrate(where, {journal.FILINGS: filings}, version)
            migrated = tables[journal.FILINGS]
            current: dict[str, int] = dict(
                cur.execute("SELECT id, version FROM filings").fetchall()
            )
            for k, (fid, number) in enumerate(keys):
                record = migrated[str(k)]
                cur.execute(
                    "UPDATE filing_versions SET record = %s WHERE filing_id = %s AND version = %s",
                    (Jsonb(record), fid, number),
                )
                if current.get(fid) == number:
                    try:
                        summary = summarize(from_record(record))
                    except InvalidRecord as error:
                        raise DatabaseCorrupt(f"{self.location}: {error}") from None
                    cur.execute(
                        "UPDATE filings SET summary = %s WHERE id = %s",
                        (Jsonb(summary.to_row()), fid),
                    )
            cur.execute(
                "UPDATE icp_meta SET value = CASE key WHEN 'schema_version' THEN %s"
                " ELSE value + 1 END WHERE key IN ('schema_version', 'generation')",
                (journal.SCHEMA_VERSION,),
            )


def _json_text(value: Any) -> str:
    """`value` as JSON text, for a COPY row."""
    return orjson.dumps(value).decode()


def _checked(new: Filing) -> tuple[Filing, dict[str, Any], FilingSummary]:
    """The record to store, and the filing and summary as a reader will see them."""
    record = to_record(new)
    saved = from_record(record)  # the loader must accept what we write
    return saved, record, summarize(saved)


def _notified(
    listener: psycopg.Connection[Any], timeout: float, stop: threading.Event | None
) -> bool:
    """Whether a NOTIFY arrives on `listener` within `timeout` seconds; False as soon as
    `stop` is set. psycopg's wait cannot be interrupted, so with a `stop` it waits in steps
    of STOP_STEP and looks at `stop` between them."""
    deadline = time.monotonic() + timeout
    while stop is None or not stop.is_set():
        left = max(0.0, deadline - time.monotonic())
        step = left if stop is None else min(left, STOP_STEP)
        if any(True for _ in listener.notifies(timeout=step, stop_after=1)):
            return True
        if step >= left:
            return False
    return False
