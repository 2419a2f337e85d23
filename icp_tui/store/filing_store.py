"""FilingStore: one database of filings, shared by staff running icp-tui at the same time.

Readers never lock: they read the base then the journal (see journal.py) and can always make
sense of what they find. Writers hold a cross-process file lock for each read-modify-write:
they catch up with the files, check the version the user saw, and append one journal line.
Compaction (folding the journal into a new base) is a separate call so a change stays fast.

Opening is fast because the writer leaves a summary sidecar beside the base (journal.py): when
it matches the base, load() takes each filing's FilingSummary from it and keeps only where
each record lies in the base, without parsing or validating them. Memory stays small at
100,000 filings for the same reason: one FilingSummary and one place per filing, and the base
file version read kept open; `get` reads, decodes and validates a full filing on demand.

What a handle knows is built from what it read by the pure functions of state.py; this module
does the reading, the locking, the writing and the compaction around them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import orjson

from icp_tui.domain.asof import Record
from icp_tui.domain.collector import gc_paused
from icp_tui.domain.errors import UnknownFiling
from icp_tui.domain.filing import Filing, check_filing, from_record, stamp, to_record
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.store.errors import (
    CompactionPostponed,
    DatabaseExists,
    DatabaseMissing,
    DuplicateFiling,
    JournalDamaged,
    ReadOnlyDatabase,
    StaleChange,
    StoreBusy,
    StoreError,
)
from icp_tui.store.files import check
from icp_tui.store.journal import (
    JOURNAL_FORMAT,
    SCHEMA_VERSION,
    BaseChanged,
    FileId,
    Folded,
    Raw,
    Stored,
    Written,
    append_line,
    base_generation,
    batch_line,
    file_id,
    journal_line,
    journal_path,
    lock_path,
    next_generation,
    read_fold,
    read_journal,
    read_snapshot,
    span,
    start_journal,
    summary_path,
    write_database,
    writers_held,
)
from icp_tui.store.repair import Repaired, mend_journal
from icp_tui.store.state import (
    Docs,
    StoreState,
    Summaries,
    apply_journal,
    build_state,
    decode,
    decode_for_rebuild,
    take_fold,
)
from icp_tui.store.watching import FolderWatch, WatchUnavailable

#: How long a handle keeps following its journal beside a new base before it reads the base
#: anyway: a compaction of 100,000 filings puts its journal in place about 2 s after its base.
COMPACTION_GRACE = 30.0
#: poll() lists changed filings up to this many; beyond it says "reloaded" (None) instead,
#: so a wholesale change does not build tens of thousands of Filing objects at once.
POLL_LIST_LIMIT = 2000

#: What a record is decoded into: a Filing, or a record read for a rebuild.
D = TypeVar("D", Filing, Record | Filing)


class FilingStore:
    """The filings of the database at `path`: load, watch for changes, change one at a time.

    Thread-safe within a process; safe across processes through the lock and atomic files.
    Constructing does no I/O; the first access loads.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        lock_timeout: float = 10.0,
        compact_ratio: float = 0.1,
        compact_min_bytes: int = 64 * 1024,
    ) -> None:
        self.path = Path(path)
        self.journal = journal_path(self.path)
        self.lock_timeout = lock_timeout
        self.compact_ratio = compact_ratio
        self.compact_min_bytes = compact_min_bytes
        self.read_only = False
        self.read_only_reason: str | None = None
        #: Bytes read from and written to the base and journal (for benchmarks and tests).
        self.bytes_read = 0
        self.bytes_written = 0
        self._state: StoreState | None = None
        self._pending: dict[str, None] = {}  # ids changed since the last poll, in order
        self._lost = False  # a reload found filings gone (someone edited the file)
        self._mutex = threading.RLock()
        #: Since when a compaction by another process has been seen under way (monotonic).
        self._compacting_since: float | None = None
        # The base and the journal: the summary is written only with a new base.
        self._watch = FolderWatch(self.path.parent, (self.path.name, self.journal.name))

    # ------------------------------------------------------------------------------ creating

    @classmethod
    def create(
        cls,
        path: Path | str,
        filings: Iterable[Filing] = (),
        *,
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
        lock_timeout: float = 10.0,
    ) -> FilingStore:
        """Write a new database holding `filings` (documents 1..n) and return it, loaded.

        Refuses to replace a non-empty file unless `overwrite`; a 0-byte file is replaced.
        """
        store = cls(path, lock_timeout=lock_timeout)
        store._refuse_existing(overwrite)  # before the work of preparing the records
        by_doc: Docs = {}
        by_id: dict[str, int] = {}
        summaries: Summaries = {}
        records: list[tuple[int, Raw]] = []
        with gc_paused():
            for doc_id, filing in enumerate(filings, 1):
                check_filing(filing)  # never write what the loader would refuse
                if filing.id in by_id:
                    raise DuplicateFiling(f"{filing.id} is given twice; {store.path} not written")
                raw = orjson.dumps(to_record(filing))
                records.append((doc_id, raw))
                by_doc[doc_id] = (filing.id, raw)
                by_id[filing.id] = doc_id
                summaries[filing.id] = summarize(filing)
                if progress is not None and doc_id % 1000 == 0:
                    progress(doc_id)
        store.path.parent.mkdir(parents=True, exist_ok=True)
        with store._mutex, writers_held(store.path, lock_timeout), gc_paused():
            store._refuse_existing(overwrite)
            generation = next_generation(store.path)
            written = write_database(
                store.path,
                generation=generation,
                tables={},
                records=records,
                rows=[summary.to_row() for summary in summaries.values()],
            )
            summary_id = _summary_id(store.path)
        store.bytes_written += written.bytes_written
        state = store._state = StoreState(
            base_id=file_id(written.base),
            generation=generation,
            schema_version=SCHEMA_VERSION,
            laid_out=True,
            tables={},
            by_doc=by_doc,
            by_id=by_id,
            summaries=summaries,
            summary_id=summary_id,
            journal_ino=(written.journal.st_dev, written.journal.st_ino),
            journal_gen=generation,
            journal_format=JOURNAL_FORMAT,
            journal_end=written.journal_end,
            journal_lines=1,
            journal_size=written.journal_end,
        )
        del records
        _point_at(state, written, list(by_doc))
        store._check_access(state)
        if progress is not None:
            progress(len(by_id))
        return store

    def _refuse_existing(self, overwrite: bool) -> None:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        check(self.path, st)  # a planted link is refused, not silently replaced
        size = st.st_size
        if size and not overwrite:
            raise DatabaseExists(f"{self.path} already exists; it was left as it is")

    # ------------------------------------------------------------------------------- reading

    def load(self, visit: Callable[[FilingSummary], object] | None = None) -> int:
        """Read the whole database afresh; return how many filings there are.

        `visit` gets the summary of each current filing (base plus journal) once, in document
        order, after everything was read. With a sidecar that matches the base, the base's
        records are left unread (their places kept) and checked when `get` first reads them;
        without one, every record is parsed and validated now. Journal entries are always
        validated. On an error nothing of this handle changes and `visit` has seen nothing.
        """
        with self._mutex, gc_paused(long_lived=True):
            snapshot = read_snapshot(self.path, summaries=True)
            self.bytes_read += snapshot.bytes_read
            state, _ = build_state(self.path, snapshot, None)
            del snapshot  # free its rows and records while the collector cannot see them
            self._install(state)
            self._pending.clear()
            self._lost = False
            self._check_access(state)
            if visit is not None:
                summaries = state.summaries
                for filing_id in state.by_id:
                    visit(summaries[filing_id])
            return len(state.by_id)

    def ids(self) -> list[str]:
        """Ids of all filings, in document order."""
        with self._mutex:
            return list(self._loaded().by_id)

    def __len__(self) -> int:
        with self._mutex:
            return len(self._loaded().by_id)

    def __contains__(self, filing_id: object) -> bool:
        with self._mutex:
            return filing_id in self._loaded().by_id

    def get(self, filing_id: str) -> Filing:
        """The filing as last read (decoded and validated now); UnknownFiling if there is none.

        DatabaseCorrupt if its stored record turns out to be bad (see journal.py).
        """
        with self._mutex:
            return self._decode(filing_id, decode)

    def for_rebuild(self, filing_id: str) -> Record | Filing:
        """The filing as last read, as a step in time reads it (`decode_for_rebuild`)."""
        with self._mutex:
            return self._decode(filing_id, decode_for_rebuild)

    def summary(self, filing_id: str) -> FilingSummary:
        """The summary of the filing as last read (from memory); UnknownFiling if there is none."""
        with self._mutex:
            summary = self._loaded().summaries.get(filing_id)
            if summary is None:
                raise UnknownFiling(f"no filing {filing_id} in {self.path}")
            return summary

    def summaries(self) -> list[FilingSummary]:
        """The summaries of all filings as last read, in document order."""
        with self._mutex:
            state = self._loaded()
            summaries = state.summaries
            return [summaries[filing_id] for filing_id in state.by_id]

    def poll(self) -> list[Filing] | None:
        """What changed since the last load() or poll(), by anyone (this handle included).

        Costs two stat calls when nothing changed, and about the size of the new journal lines
        when something did. After another process compacted what this handle had read, the new
        base is taken up from what its sidecar says was folded into it, unread but for the
        changes this handle had not seen yet; after any other replacement it is re-read
        (through its sidecar when it matches), and only filings whose stored bytes differ are
        decoded and listed. Returns None instead of a list if filings disappeared (someone
        edited the file) or more than POLL_LIST_LIMIT changed: then call ids() and summary() or
        get() again.
        """
        with self._mutex:
            if self._state is None:
                self.load()
                return None
            self._refresh()
            try:
                changed = self._changed()
            except BaseChanged:
                self._reload()  # rewritten in place: its records are no longer where they were
                changed = self._changed()
            self._pending.clear()
            self._lost = False
            return changed

    def _changed(self) -> list[Filing] | None:
        if self._lost or len(self._pending) > POLL_LIST_LIMIT:
            return None
        state = self._loaded()
        return [decode(self.path, state, fid) for fid in self._pending if fid in state.by_id]

    def wait_for_change(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until the base or the journal changes on disk (a file-change notification),
        or `timeout` seconds pass, or `stop` is set; True if woken (also on the first call,
        which starts watching). Where notifications cannot be had, wait out `timeout` (or
        until `stop`) and return False: the caller's own poll then finds changes, as it would
        without this."""
        try:
            return self._watch.wait(timeout, stop)
        except WatchUnavailable:
            (stop or threading.Event()).wait(timeout)
            return False

    @property
    def notifications(self) -> str | None:
        """Why this handle is not woken by file-change notifications (None while it is, or
        before it first waited)."""
        return self._watch.unavailable

    # ------------------------------------------------------------------------------- writing

    def commit(
        self,
        filing_id: str,
        change: Callable[[Filing], Filing],
        expected_version: int | None = None,
    ) -> Filing:
        """Apply `change` to the current filing and save it; return the saved filing.

        With `expected_version` (the version the user saw), a filing changed since by someone
        else is refused with StaleChange; None acts on whatever is current.
        """
        with self._writing():
            current = self._decode(filing_id, decode)
            state = self._loaded()
            if expected_version is not None and current.version != expected_version:
                raise StaleChange(_stale_message(current), current)
            new = change(current)
            if new.id != filing_id or new.version != current.version + 1:
                raise ValueError(
                    f"a change to {filing_id} v{current.version} must return it at version "
                    f"{current.version + 1}, not {new.id} v{new.version}"
                )
            record = to_record(new)
            saved = from_record(record)  # the loader must accept what we write
            raw = orjson.dumps(record)
            self._append([(state.by_id[filing_id], filing_id, raw, summarize(saved))])
            return saved

    def add(self, make: Callable[[set[str]], Filing]) -> Filing:
        """Add the filing `make(existing ids)` builds, as a new document; return it."""
        with self._writing() as state:
            new = make(set(state.by_id))
            if new.id in state.by_id:
                raise DuplicateFiling(f"{new.id} already exists in {self.path}")
            record = to_record(new)
            saved = from_record(record)
            doc_id = max(state.by_doc, default=0) + 1
            self._append([(doc_id, new.id, orjson.dumps(record), summarize(saved))])
            return saved

    def add_many(
        self,
        make: Callable[[set[str]], Sequence[Filing]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Filing]:
        """Add the filings `make(existing ids)` builds, as new documents, all in one journal
        line (one lock, one fsync): every one is saved or none. DuplicateFiling (nothing
        saved) if an id is taken or given twice. `progress(done, total)` follows the checking
        of the records."""
        with self._writing() as state:
            filings = make(set(state.by_id))
            total = len(filings)
            doc_id = max(state.by_doc, default=0)
            changes: list[tuple[int, str, bytes, FilingSummary]] = []
            saved: list[Filing] = []
            given: set[str] = set()
            # The records and summaries stay with the handle: kept as long-lived, so that the
            # first collection after the pause does not scan them.
            with gc_paused(long_lived=True):
                for done, new in enumerate(filings, 1):
                    if new.id in state.by_id or new.id in given:
                        raise DuplicateFiling(
                            f"{new.id} already exists in {self.path}; nothing was added"
                        )
                    given.add(new.id)
                    check_filing(new)  # never write what the loader would refuse
                    doc_id += 1
                    changes.append((doc_id, new.id, orjson.dumps(to_record(new)), summarize(new)))
                    saved.append(new)
                    if progress is not None and (done % 1000 == 0 or done == total):
                        progress(done, total)
                if changes:
                    self._append(changes)
            return saved

    def compact_if_due(self) -> bool:
        """Compact if the journal has grown past its share; True if it did.

        Housekeeping after a saved change, so it never fails that change: if another process
        holds the lock it is writing, and the next writer will compact; any other failure
        (a full disk) raises CompactionPostponed, which callers show as a warning. The
        journal keeps every change meanwhile, and compaction stays due. A read-only handle
        does nothing.
        """
        with self._mutex:
            if self.read_only or not self._due():
                return False
        try:
            with self._writing(timeout=0):
                if not self._due():
                    return False
                self._compact_locked()
                return True
        except StoreBusy:
            return False
        except StoreError as error:
            cause = error.__cause__
            why = cause.strerror if isinstance(cause, OSError) and cause.strerror else error
            raise CompactionPostponed(
                f"compaction of {self.path} postponed ({why}): every saved change is safe in "
                f"{self.journal}; the next change tries again"
            ) from None

    def compact(self) -> None:
        """Fold the journal into a new base file now."""
        with self._writing():
            self._compact_locked()

    def repair(self) -> Repaired:
        """Mend a damaged journal (see repair.py): a copy is kept, the readable changes saved.

        A journal that reads fine is left alone. This handle reloads on its next use.
        """
        with self._mutex, writers_held(self.path, self.lock_timeout):
            try:
                self.load()  # validates every journal entry, as any reader would
                return Repaired(self.journal)
            except JournalDamaged:
                pass
            self._state = None
            return mend_journal(self.path)

    def _due(self) -> bool:
        state = self._loaded()
        if state.schema_version < SCHEMA_VERSION or not state.laid_out:
            return True  # rewrite an old-schema or hand-formatted file in our layout
        try:
            base = os.stat(self.path)
        except FileNotFoundError:
            return False
        if file_id(base) != state.base_id:
            return True  # replaced since we read it: the caller decides again once caught up
        if state.summary_id is None or _summary_id(self.path) != state.summary_id:
            return True  # no sidecar that describes the base: an older writer's, or hand-edited
        try:
            journal_size = os.stat(self.journal).st_size
        except FileNotFoundError:
            return False
        return journal_size > max(self.compact_min_bytes, base.st_size * self.compact_ratio)

    # ------------------------------------------------------------------------------ internals

    def _loaded(self) -> StoreState:
        if self._state is None:
            self.load()
        assert self._state is not None
        return self._state

    def _install(self, state: StoreState) -> None:
        """Make `state` this handle's, and let go of the base file the old one read."""
        old, self._state = self._state, state
        if old is not None and old.records is not None and old.records is not state.records:
            old.records.let_go()

    def _decode(self, filing_id: str, reader: Callable[[Path, StoreState, str], D]) -> D:
        """The filing as last read; if its base was rewritten in place since (so its record
        may no longer be where it was), the database is read again first."""
        try:
            return reader(self.path, self._loaded(), filing_id)
        except BaseChanged:
            self._reload()
            return reader(self.path, self._loaded(), filing_id)

    def _check_access(self, state: StoreState) -> None:
        """Decide whether this handle may write, and say why not."""
        reason = None
        if state.schema_version > SCHEMA_VERSION:
            reason = (
                f"{self.path} was written by a newer icp-tui (schema {state.schema_version}, "
                f"this one knows {SCHEMA_VERSION}): opened read-only"
            )
        else:
            targets = [self.path, self.path.parent]
            targets += [p for p in (self.journal, lock_path(self.path)) if p.exists()]
            for target in targets:
                if not os.access(target, os.W_OK):
                    # The path once: a team's path can take a line of the banner by itself.
                    opened = "it" if target == self.path else str(self.path)
                    reason = f"you may not write {target}, so {opened} is open read-only"
                    break
        self.read_only, self.read_only_reason = reason is not None, reason

    def _refresh(self, *, locked: bool = False) -> None:
        """Catch up with the files; note changed ids in _pending. Cheap when nothing changed.

        While another process puts a compaction in place, this follows the journal it still
        reads (never with the writers' lock held: then the writer that replaced the base is
        done, or dead)."""
        state = self._loaded()
        try:
            base_id = file_id(os.stat(self.path))
        except FileNotFoundError:
            raise DatabaseMissing(f"{self.path} is gone: was it moved or deleted?") from None
        if base_id == state.base_id:
            self._compacting_since = None
        elif locked or not self._compacting(state):
            self._compacting_since = None
            # Replaced: by a compaction, which says what it folded, or by a person.
            if not self._take_fold(state):
                self._reload()
                return
        try:
            st = os.stat(self.journal)
        except FileNotFoundError:
            if state.journal_live:
                self._reload()  # its changes vanished with it: see what is left
            return
        ino = (st.st_dev, st.st_ino)
        if ino == state.journal_ino and st.st_size == state.journal_end:
            return
        if state.schema_version != SCHEMA_VERSION or (
            ino == state.journal_ino and st.st_size < state.journal_end
        ):
            self._reload()  # a migrated view, or a journal cut short by hand: rebuild whole
            return
        resume = None
        if state.journal_live and state.journal_ino is not None:
            resume = (state.journal_ino, state.journal_end, state.journal_lines, state.generation)
        read = read_journal(self.journal, resume=resume)
        self.bytes_read += read.bytes_read
        if read.generation is None or read.generation < state.generation:
            if state.journal_live:
                self._reload()
            else:
                state.follow(read)  # still stale or headerless: nothing to apply
            return
        if read.generation > state.generation or (state.journal_live and not read.resumed):
            self._reload()  # we raced a compaction
            return
        self._pending.update(dict.fromkeys(apply_journal(self.path, state, read)))

    def _compacting(self, state: StoreState) -> bool:
        """Whether the base was replaced by a compaction yet to replace the journal this handle
        follows (it does so last): a base of a higher generation beside that journal, for at
        most COMPACTION_GRACE seconds (a person may have put it there)."""
        try:
            st = os.stat(self.journal)
        except FileNotFoundError:
            return False
        if not state.journal_live or (st.st_dev, st.st_ino) != state.journal_ino:
            return False
        generation = base_generation(self.path)
        if generation is None or generation <= state.generation:
            return False
        now = time.monotonic()
        if self._compacting_since is None:
            self._compacting_since = now
        return now - self._compacting_since < COMPACTION_GRACE

    def _take_fold(self, state: StoreState) -> bool:
        """Take up a compacted base from what its sidecar says was folded into it, without
        reading its records (see journal.py); False if that cannot be done."""
        fold = read_fold(self.path)
        if fold is None:
            return False
        self.bytes_read += fold.bytes_read
        with gc_paused(long_lived=True):  # 100,000s of new places, kept as long as the state
            changed = take_fold(self.path, state, fold)
        if changed is None:
            fold.records.close()
            return False
        self._pending.update(dict.fromkeys(changed))
        self._check_access(state)
        return True

    def _reload(self) -> None:
        """Re-read everything, reusing what is byte-for-byte unchanged."""
        previous = self._loaded()
        with gc_paused(long_lived=True):
            snapshot = read_snapshot(self.path, summaries=True)
            self.bytes_read += snapshot.bytes_read
            state, changed = build_state(self.path, snapshot, previous)
            del snapshot
        if any(fid not in state.by_id for fid in previous.by_id):
            self._lost = True
        self._pending.update(dict.fromkeys(changed))
        self._install(state)
        self._check_access(state)

    @contextmanager
    def _writing(self, timeout: float | None = None) -> Iterator[StoreState]:
        """Lock, catch up with the files, and refuse if this handle may not write."""
        with self._mutex:
            self._refuse_read_only(self._loaded())
        # Wait for other processes without the mutex, so this process's readers carry on.
        wait = self.lock_timeout if timeout is None else timeout
        with writers_held(self.path, wait), self._mutex:
            self._refresh(locked=True)
            state = self._loaded()
            self._refuse_read_only(state)
            yield state

    def _refuse_read_only(self, state: StoreState) -> None:
        if self.read_only:
            raise ReadOnlyDatabase(self.read_only_reason or f"{self.path} is read-only")

    def _append(self, changes: Sequence[tuple[int, str, bytes, FilingSummary]]) -> None:
        """Commit records (doc_id, filing id, raw record, summary each) as one journal line:
        all or none (lock held, state caught up)."""
        state = self._loaded()
        if state.schema_version < SCHEMA_VERSION or (
            state.journal_live and state.journal_format != JOURNAL_FORMAT
        ):
            # So the journal never mixes old- and new-schema records, nor lines with and
            # without checksums: the old journal is folded into the base first.
            self._compact_locked()
        if not state.journal_live:
            st, end = start_journal(self.path, state.generation)
            self.bytes_written += end
            state.journal_ino, state.journal_gen = (st.st_dev, st.st_ino), state.generation
            state.journal_format = JOURNAL_FORMAT
            state.journal_end, state.journal_lines, state.journal_size = end, 1, end
            state.journal_docs = {}
        assert state.journal_ino is not None
        if len(changes) == 1:
            doc_id, _, raw, _ = changes[0]
            line = journal_line(doc_id, raw)
        else:
            line = batch_line([(doc_id, raw) for doc_id, _, raw, _ in changes])
        append_line(self.journal, line, ino=state.journal_ino, end=state.journal_end)
        self.bytes_written += len(line)
        state.journal_lines += 1
        for doc_id, filing_id, raw, summary in changes:
            state.by_doc[doc_id] = (filing_id, raw)
            state.by_id[filing_id] = doc_id
            state.summaries[filing_id] = summary
            state.journal_docs[doc_id] = state.journal_lines
            self._pending[filing_id] = None
        state.journal_end += len(line)
        state.journal_size = state.journal_end

    def _compact_locked(self) -> None:
        """Write the current state as base G+1, its sidecar and an empty journal G+1 (lock
        held). Summaries come from memory: no record is decoded."""
        state = self._loaded()
        generation = max(state.generation, state.journal_gen or 0) + 1
        summaries = state.summaries
        # The rows are 100,000s of short-lived lists: without the pause the collector would
        # scan every filing held in memory several times while they are built.
        with gc_paused():
            docs = sorted(state.by_doc.items())
            # The base records are copied from the version read, viewed rather than sliced:
            # 100,000s of copies would be freed again, but not all to the system.
            records = state.records
            if not any(type(stored) is int for _, (_, stored) in docs):
                records = None  # all held as bytes (a migrated view): nothing to read
            base = memoryview(records.whole() if records is not None else b"")
            folded = None
            if state.journal_live and state.journal_ino is not None:
                # So that other handles that read what we did take up the new base unread.
                folded = Folded(
                    state.base_id,
                    state.generation,
                    state.journal_ino,
                    state.journal_lines,
                    state.journal_docs,
                )
            try:
                written = write_database(
                    self.path,
                    generation=generation,
                    tables=state.tables,
                    records=_raws(docs, base),
                    rows=[summaries[fid].to_row() for _, (fid, _) in docs],
                    folded=folded if state.schema_version == SCHEMA_VERSION else None,
                )
            finally:
                base.release()
            _point_at(state, written, [doc_id for doc_id, _ in docs])
            del docs
        self.bytes_written += written.bytes_written
        state.summary_id = _summary_id(self.path)
        state.base_id = file_id(written.base)
        state.generation, state.schema_version, state.laid_out = generation, SCHEMA_VERSION, True
        state.journal_ino = (written.journal.st_dev, written.journal.st_ino)
        state.journal_gen, state.journal_lines = generation, 1
        state.journal_format = JOURNAL_FORMAT
        state.journal_end = state.journal_size = written.journal_end
        state.journal_docs = {}


def _raws(
    docs: list[tuple[int, tuple[str, Stored]]], base: memoryview
) -> Iterator[tuple[int, Raw]]:
    """The records of `docs`, those kept as places viewed in `base` (their base, read whole)."""
    for doc_id, (_, stored) in docs:
        if isinstance(stored, bytes):
            yield doc_id, stored
        else:
            start, length = span(stored)
            yield doc_id, base[start : start + length]


def _point_at(state: StoreState, written: Written, order: list[int]) -> None:
    """Keep the records just written (the documents of `state` in `order`) as their places in
    the new base, read back from it from now on: a record held as bytes (a change since the
    base was read) is not kept twice."""
    if written.reader is None:
        return  # keep what we have: the old base stays open, and it holds the same records
    by_doc = state.by_doc
    for doc_id, where in zip(order, written.places, strict=True):
        by_doc[doc_id] = (by_doc[doc_id][0], where)
    old, state.records = state.records, written.reader
    if old is not None:
        old.close()


def _summary_id(path: Path) -> FileId | None:
    """Identity of the sidecar of `path` now (None if there is none)."""
    try:
        return file_id(os.stat(summary_path(path)))
    except OSError:
        return None


def _stale_message(current: Filing) -> str:
    when = current.updated_at or current.last_transition.at
    return (
        f"{current.id} was changed by {current.updated_by or 'someone'} at "
        f"{stamp(when)} (now version {current.version}); "
        "your change was not saved"
    )
