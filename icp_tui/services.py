"""Use cases: load the filing, apply the domain rule, save through the store.

The command line and the dashboard both act only through `FilingService`, so every change is
locked, versioned, attributed to the operating-system user and recorded in the history.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from icp_tui.config import Reference
from icp_tui.domain import transitions
from icp_tui.domain.errors import IcpError, InvalidInput, TransitionNotAllowed
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.stages import CLOSED, REASONED_STAGES, Stage
from icp_tui.store import StaleChange, Store

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

    def now(self) -> datetime:
        return self.clock()

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
                        f"({other.stage.value}): a domain gets one open filing at a time"
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
        if to in REASONED_STAGES:
            reason = self.reference.reasons.chosen(to, reason)
        return self._change(
            filing_id,
            "advance",
            lambda f, at: transitions.advance(f, at, self.actor, to, reason, icp_number),
            expected_version,
        )

    def withdraw(self, filing_id: str, reason: str, expected_version: int | None = None) -> Filing:
        """Withdraw with a reason; refused once submitted to the communications administration."""
        return self._change(
            filing_id,
            "withdraw",
            lambda f, at: transitions.withdraw(f, at, self.actor, reason),
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
        """Undo this user's last change in this session (5 minutes, nobody changed it since)."""
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
