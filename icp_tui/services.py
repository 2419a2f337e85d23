"""Use cases: load the filing, apply the domain rule, save through the store.

The command line and the dashboard act only through this module: every read, the change feed
and every change go through `FilingService`, so every change is locked, versioned, attributed
to the operating-system user and recorded in the history. The store's errors and location
helpers are re-exported here, so that neither imports `icp_tui.store` (an import-linter
contract in pyproject.toml says so).
"""

from __future__ import annotations

import getpass
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from icp_tui.config import Reference
from icp_tui.domain import transitions
from icp_tui.domain.collector import gc_paused
from icp_tui.domain.errors import IcpError, InvalidInput, TransitionNotAllowed
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.naming import resolve_filing_id
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import CLOSED, REASONED_STAGES, Stage, named
from icp_tui.domain.summary import FilingSummary
from icp_tui.queue import Queue, QueueReference, fill_reviews, most_urgent
from icp_tui.store import (
    DatabaseExists,
    DatabaseMissing,
    FilingStore,
    Location,
    StaleChange,
    Store,
    WakesOnChange,
    create_store,
    database_files,
    database_location,
    display_location,
    has_password,
    journal_path,
    location_name,
    lock_path,
    open_store,
    sharing_problems,
    summary_path,
)
from icp_tui.timetravel import TimeMachine

if TYPE_CHECKING:  # the import itself is not needed to open the dashboard
    from icp_tui.transfer import ImportPlan

__all__ = [
    "DatabaseExists",
    "DatabaseMissing",
    "FilingService",
    "Location",
    "StaleChange",
    "create_store",
    "database_files",
    "database_location",
    "display_location",
    "has_password",
    "journal_path",
    "location_name",
    "lock_path",
    "migrate",
    "repair_database",
    "sharing_problems",
    "summary_path",
]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in Beijing time."""
    return datetime.now(BEIJING)


def fixed_clock(moment: datetime) -> Clock:
    """A clock stopped at `moment` (for --now, tests and snapshots)."""
    return lambda: moment


def current_actor() -> str:
    """The operating-system user running the tool: who every change is attributed to."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_queue(
    store: Store,
    reference: QueueReference,
    now: datetime,
    *,
    reread: bool,
    province: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Queue:
    """The queue of every filing in `store` at `now`, from the summaries (no record decoded).

    With `reread` the database is read afresh first; without, the queue is rebuilt from what
    the store last read (after `poll()` said it reloaded: None). With `province`, only that
    province's filings (see `FilingService.province_queue`). `progress(done, total)` is told
    every PROGRESS_STEP filings put (not with `reread`).
    """
    queue = Queue(reference, now)
    # The entries live as long as the queue: as when the store loads (gc_paused there).
    with queue.loading(), gc_paused(long_lived=True):
        if reread:
            store.load(queue.put)
        else:
            summaries = store.summaries()
            total = len(summaries)
            for done, summary in enumerate(summaries, 1):
                if province is None or summary.province == province:
                    queue.put(summary)
                if progress is not None and done % PROGRESS_STEP == 0:
                    progress(done, total)
    fill_reviews(queue, store.get)  # summaries written before finished reviews were kept
    return queue


#: How often `load_queue` tells its progress: 20 times at 100,000 filings.
PROGRESS_STEP = 5000


@dataclass(frozen=True)
class UndoableChange:
    """This user's last change, kept so that it can be undone."""

    before: Filing
    after_version: int
    what: str


@dataclass(frozen=True)
class BatchResult:
    """What a change to many filings did: each one is its own versioned change."""

    done: tuple[Filing, ...]
    #: (filing id, why) for each one refused: the others went ahead all the same.
    refused: tuple[tuple[str, str], ...]
    #: The refused filings as they now are, where the store said (a stale version).
    fresh: tuple[Filing, ...] = ()


#: One change of one filing at the version the user saw (None: any version).
FilingChange = Callable[["FilingService", str, int | None], Filing]


class FilingService:
    """Every change to filings, for one actor."""

    def __init__(
        self,
        store: Store,
        reference: Reference,
        actor: str | None = None,
        clock: Clock = system_clock,
        real_clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.reference = reference
        self.actor = actor or current_actor()
        self.clock = clock
        #: The real time, whatever `clock` says: a change may not be stamped far ahead of it.
        self.real_clock = real_clock
        self.last_change: UndoableChange | None = None
        #: This user's last change to many filings: `undo_batch` takes it back.
        self.last_batch: tuple[UndoableChange, ...] = ()

    @classmethod
    def open(
        cls,
        location: Location,
        reference: Reference,
        *,
        actor: str | None = None,
        clock: Clock = system_clock,
    ) -> FilingService:
        """The service on the database at `location` (nothing is read yet: see load)."""
        return cls(open_store(location), reference, actor=actor, clock=clock)

    def now(self) -> datetime:
        return self.clock()

    # -- reads: answered from what the store last read (load or poll) ---------------------

    def load(self, visit: Callable[[FilingSummary], object] | None = None) -> int:
        """Read the whole database afresh; `visit` sees each filing's summary; how many."""
        return self.store.load(visit)

    def load_queue(self) -> Queue:
        """Read the whole database afresh into a new queue (no record is decoded)."""
        return load_queue(self.store, self.reference, self.now(), reread=True)

    def queue(self, progress: Callable[[int, int], None] | None = None) -> Queue:
        """A new queue from the summaries already read (after a poll said to reload, or
        after `first_rows`); `progress(done, total)` follows the work."""
        return load_queue(self.store, self.reference, self.now(), reread=False, progress=progress)

    def first_rows(self, count: int) -> tuple[Queue, Counter[Health]]:
        """The queue of the `count` most urgent filings already read, and the counts per
        health of them all: what the dashboard shows while `queue()` builds the rest."""
        return most_urgent(self.store.summaries(), self.reference, self.now(), count)

    def province_queue(self, province: str) -> Queue:
        """The queue of `province`'s filings alone, from the summaries already read: a
        filing's entry there is its entry in the whole queue (its approval estimate rests on
        its province's reviews only), for a fraction of the work (`show`)."""
        return load_queue(self.store, self.reference, self.now(), reread=False, province=province)

    def time_machine(self) -> TimeMachine:
        """Rebuilds the queue as it was at past instants, from what the store last read."""
        return TimeMachine(self.reference, self.store.summaries, self.get, self.store.for_rebuild)

    def ids(self) -> list[str]:
        """Ids of all filings, oldest first."""
        return self.store.ids()

    def get(self, filing_id: str) -> Filing:
        """The whole filing as last read; UnknownFiling if there is none."""
        return self.store.get(filing_id)

    def summary(self, filing_id: str) -> FilingSummary:
        """What the queue shows of the filing as last read."""
        return self.store.summary(filing_id)

    def filings(self) -> Iterator[Filing]:
        """Every filing as last read, oldest first (reports, imports: decodes each record)."""
        from icp_tui.transfer import stored_filings  # not needed to open: import on use

        return stored_filings(self.store)

    def resolve_id(self, text: str) -> str:
        """The filing id `text` names: the whole id in any case, or a number only one has."""
        return resolve_filing_id(text, self.store.ids)

    def known_user(self, user: str) -> bool:
        """Whether `user` has acted on, or been given, any filing: a name never seen is likely
        a typo. Summaries first (assignees), then each history until the name turns up."""
        ids = self.store.ids()
        if any(self.store.summary(i).assignee == user for i in ids):
            return True
        given = f"assigned to {user}"
        for filing_id in ids:
            if any(t.by == user or t.reason == given for t in self.store.get(filing_id).history):
                return True
        return False

    @property
    def read_only(self) -> bool:
        """True if this user may not change the database."""
        return self.store.read_only

    @property
    def read_only_reason(self) -> str | None:
        """Why not, in words for the banner."""
        return self.store.read_only_reason

    # -- the change feed ----------------------------------------------------------------

    def poll(self) -> list[Filing] | None:
        """The filings changed since the last read, by anyone (us included); None if too much
        changed to list: then `queue()` rebuilds the queue from what was read."""
        return self.store.poll()

    @property
    def wakes_on_change(self) -> bool:
        """Whether `wait_for_change` can wake a dashboard at once (PostgreSQL's NOTIFY, the
        file store's file-change notifications); the dashboard's own poll carries on."""
        return isinstance(self.store, WakesOnChange)

    def wait_for_change(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until someone may have committed, or `timeout` seconds pass, or `stop` is set
        (at once: the dashboard leaving); True if woken."""
        if not isinstance(self.store, WakesOnChange):
            raise TypeError("this store does not wake on change: poll it")
        return self.store.wait_for_change(timeout, stop)

    def compact_after_save(self) -> str | None:
        """Housekeeping once a change is durable; its failure is a warning (returned, to be
        shown), never the change's: compaction is retried after the next change."""
        try:
            self.store.compact_if_due()
        except IcpError as error:
            return str(error)
        return None

    # -- changes ---------------------------------------------------------------------------

    def _stamp(self) -> datetime:
        """The time to stamp a change with; refused far ahead of the real clock."""
        at = self.now()
        transitions.check_not_ahead(at, self.real_clock())
        return at

    def add(
        self,
        domain: str,
        entity: str,
        province: str,
        entity_type: EntityType = EntityType.COMPANY,
    ) -> Filing:
        """Record a new submission; the province may be given by its Chinese name."""
        name = self.reference.provinces.resolve(province).name
        at = self._stamp()
        transitions.check_domain(domain)
        key = transitions.domain_key(domain)

        def make(existing: set[str]) -> Filing:
            # Under the store's lock, so two staff adding the same domain cannot both succeed.
            for filing_id in existing:
                other = self.store.summary(filing_id)
                if transitions.domain_key(other.domain) == key and other.stage not in CLOSED:
                    raise DomainTaken(
                        f"{other.domain} already has an open filing, {other.id} "
                        f"(in {named(other.stage)}): a domain gets one open filing at a time"
                    )
            filing_id = transitions.next_filing_id(existing, at)
            return transitions.submit(filing_id, domain, entity, entity_type, name, at, self.actor)

        return self.store.add(make)

    def _change(
        self,
        filing_id: str,
        what: str,
        apply: Callable[[Filing, datetime], Filing],
        expected_version: int | None,
    ) -> Filing:
        at = self._stamp()
        before: list[Filing] = []

        def change(current: Filing) -> Filing:
            before.append(current)
            return apply(current, at)

        changed = self.store.commit(filing_id, change, expected_version)
        self.last_change = UndoableChange(before[-1], changed.version, what)
        self.last_batch = ()
        return changed

    def for_each(
        self, filings: Sequence[tuple[str, int | None]], change: FilingChange
    ) -> BatchResult:
        """Apply `change` to each (filing id, version seen), each as its own change; one
        refused (stale, a forbidden move) does not stop the others. `undo_batch` undoes it."""
        done: list[Filing] = []
        refused: list[tuple[str, str]] = []
        fresh: list[Filing] = []
        undoable: list[UndoableChange] = []
        for filing_id, version in filings:
            try:
                done.append(change(self, filing_id, version))
            except StaleChange as error:
                refused.append((filing_id, str(error)))
                fresh.append(error.current)
                continue
            except IcpError as error:
                refused.append((filing_id, str(error)))
                continue
            assert self.last_change is not None
            undoable.append(self.last_change)
        self.last_change = None
        self.last_batch = tuple(undoable)
        return BatchResult(tuple(done), tuple(refused), tuple(fresh))

    def add_imported(
        self,
        plan: ImportPlan,
        progress: Callable[[int, int], None] | None = None,
        *,
        skip_bad: bool = False,
    ) -> int:
        """Add the filings an import planned, in one commit (all or none); how many were added."""
        from icp_tui.transfer import apply_import

        return apply_import(self.store, plan, progress, skip_bad=skip_bad)

    def advance(
        self,
        filing_id: str,
        to: Stage | None = None,
        reason: str = "",
        expected_version: int | None = None,
        icp_number: str | None = None,
    ) -> Filing:
        """Move the filing on (happy path by default). Returning or rejecting needs a reason:
        a listed one (any case), or any text, kept as "other: text"."""
        reasons = self.reference.reasons

        def move(filing: Filing, at: datetime) -> Filing:
            # The reason is matched once the filing is found: an unknown id is said first.
            why = reasons.chosen(to, reason) if to in REASONED_STAGES else reason
            return transitions.advance(filing, at, self.actor, to, why, icp_number)

        return self._change(filing_id, "advance", move, expected_version)

    def withdraw(self, filing_id: str, reason: str, expected_version: int | None = None) -> Filing:
        """Withdraw with a reason, matched against the configured ones as `advance` matches
        its own; refused once submitted to the communications administration."""
        reasons = self.reference.reasons
        return self._change(
            filing_id,
            "withdraw",
            lambda f, at: transitions.withdraw(
                f, at, self.actor, reasons.chosen(Stage.WITHDRAWN, reason)
            ),
            expected_version,
        )

    def note(self, filing_id: str, text: str, expected_version: int | None = None) -> Filing:
        """Add a note."""
        return self._change(
            filing_id,
            "note",
            lambda f, at: transitions.add_note(f, at, self.actor, text),
            expected_version,
        )

    def record_ticket(
        self, filing_id: str, ticket: str, expected_version: int | None = None
    ) -> Filing:
        """Record the ticket opened with the ICP Filing team."""
        return self._change(
            filing_id,
            "ticket",
            lambda f, at: transitions.record_ticket(f, at, self.actor, ticket),
            expected_version,
        )

    def sms_resent(self, filing_id: str, expected_version: int | None = None) -> Filing:
        """The MIIT SMS was sent again: the 24 hours restart."""
        return self._change(
            filing_id,
            "SMS resent",
            lambda f, at: transitions.sms_resent(f, at, self.actor),
            expected_version,
        )

    def record_materials(
        self, filing_id: str, received: bool, expected_version: int | None = None
    ) -> Filing:
        """The applicant mailed the verification materials (received: they arrived)."""
        return self._change(
            filing_id,
            "materials",
            lambda f, at: transitions.record_materials(f, at, self.actor, received),
            expected_version,
        )

    def assign(
        self, filing_id: str, assignee: str | None, expected_version: int | None = None
    ) -> Filing:
        """Give the filing to `assignee` (None: nobody)."""
        return self._change(
            filing_id,
            "assign",
            lambda f, at: transitions.assign(f, at, self.actor, assignee),
            expected_version,
        )

    def undo(self) -> Filing:
        """Undo this user's last change in this session (within UNDO_WINDOW, nobody changed it
        since)."""
        last = self.last_change
        if last is None:
            raise TransitionNotAllowed("nothing to undo: you have made no change in this session")
        undone = self._undo(last)
        self.last_change = None
        return undone

    def undo_batch(self) -> BatchResult:
        """Undo this user's last change to many filings: those nobody changed since (the
        others are refused, saying who changed them)."""
        if not self.last_batch:
            raise TransitionNotAllowed("nothing to undo: you have made no batch change")
        done: list[Filing] = []
        refused: list[tuple[str, str]] = []
        for last in self.last_batch:
            try:
                done.append(self._undo(last))
            except IcpError as error:
                refused.append((last.before.id, str(error)))
        self.last_batch = ()
        return BatchResult(tuple(done), tuple(refused))

    def _undo(self, last: UndoableChange) -> Filing:
        at = self._stamp()
        return self.store.commit(
            last.before.id,
            lambda current: transitions.undo(
                current, last.before, last.after_version, at, self.actor
            ),
        )


class DomainTaken(InvalidInput):
    """The domain already has an open filing."""


def parse_entity_type(text: str) -> EntityType:
    """company or individual."""
    try:
        return EntityType(text)
    except ValueError:
        raise InvalidInput(f"entity type must be company or individual, not {text!r}") from None


def repair_database(location: Location) -> str:
    """Mend the damaged journal of the database file at `location`; what was done, in words."""
    return str(FilingStore(location).repair())


def migrate(source: Location, target: Location) -> str:
    """Copy the queue at `source` to `target` (adding only what it lacks), verified; in words."""
    from icp_tui.store.copying import copy_queue  # only `migrate` needs it

    return copy_queue(source, target).line()
