"""The queue as staff see it: one entry per filing with its SLA state, sorted and filtered.

Pure: it depends on the domain alone (no textual, no tinydb, no files; the reference data
comes in as a `QueueReference`, which config.Reference is). Built for 50,000 filings: each
entry keeps only what the table shows plus its precomputed SLA instants, and `refresh`
re-checks only the filings whose health can have changed since the last tick (a heap of their
next change instants).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol

from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.collector import gc_paused
from icp_tui.domain.filing import BEIJING, Filing
from icp_tui.domain.provinces import ProvinceTable
from icp_tui.domain.sla import (
    NEVER,
    Health,
    SlaPolicy,
    SlaTimes,
    expires_at,
    expiry_in_words,
    left_in_words,
    sla_times,
    time_used,
)
from icp_tui.domain.stages import (
    ALIBABA_CLOUD_REVIEW,
    CLOSED,
    STAGE_ORDER,
    Owner,
    SlaClock,
    Stage,
    rule,
)
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.domain.transitions import MATERIALS_STAGES

_STAGE_INDEX = {stage: i for i, stage in enumerate(STAGE_ORDER)}


class QueueReference(Protocol):
    """The reference data a queue reads (config.Reference has it, loaded from the data files)."""

    @property
    def provinces(self) -> ProvinceTable: ...
    @property
    def calendar(self) -> BusinessCalendar: ...
    @property
    def policy(self) -> SlaPolicy: ...


class QueueEntry:
    """What the table shows of one filing, and its SLA instants."""

    __slots__ = (
        "_haystack",
        "_urgency",
        "assignee",
        "domain",
        "entity",
        "entity_type",
        "escalate",
        "expires_at",
        "health",
        "id",
        "mailing_pending",
        "province",
        "province_names",
        "stage",
        "ticket",
        "times",
        "version",
    )

    def __init__(
        self,
        filing: FilingSummary,
        times: SlaTimes,
        mailing_pending: bool,
        expires: datetime | None = None,
    ) -> None:
        self.health = Health.DONE
        self.escalate = False
        self._urgency: tuple[int, float, str] = (Health.DONE.rank, 0.0, filing.id)
        self.province_names = ""  # the province's other names (Chinese), for the filter
        self.update(filing, times, mailing_pending, expires)

    def update(
        self,
        filing: FilingSummary,
        times: SlaTimes,
        mailing_pending: bool,
        expires: datetime | None = None,
    ) -> None:
        """Take a newer version of the filing, in place: rows showing this entry follow."""
        self.id = filing.id
        self.domain = filing.domain
        self.entity = filing.entity
        self.entity_type = filing.entity_type.value
        self.province = filing.province
        self.stage = filing.stage
        self.assignee = filing.assignee
        self.ticket = filing.ticket
        self.version = filing.version
        self.times = times
        self.mailing_pending = mailing_pending
        #: When the order expires unsubmitted (None once with the authority or closed).
        self.expires_at = expires
        self._haystack: str | None = None

    @property
    def haystack(self) -> str:
        """What the filter searches (built on first use: most sessions never filter)."""
        if self._haystack is None:
            self._haystack = "\n".join(
                (
                    self.id,
                    self.domain,
                    self.entity,
                    self.province,
                    self.province_names,
                    self.assignee or "",
                )
            ).casefold()
        return self._haystack

    def evaluate(self, now: float) -> float:
        """Health and escalation at `now`; returns when they will next change."""
        health = self.health = self.times.health(now)
        self.escalate = self.times.escalate(now)
        # Kept with the health it depends on, so sorting 50,000 entries builds no keys.
        self._urgency = (health.rank, self.times.sort_key(health), self.id)
        return self.times.next_change(now)

    def urgency(self) -> tuple[int, float, str]:
        """DOMAIN.md's "most urgent first" order, ties broken by id (as of the last refresh)."""
        return self._urgency

    @property
    def needs_ticket(self) -> bool:
        return self.escalate and not self.ticket

    def flags(self, policy: SlaPolicy | None = None, now: datetime | None = None) -> list[str]:
        """Short markers: a ticket is needed or recorded, mailed materials awaited, and (given
        the policy and time) the order's expiry."""
        marks = []
        expiry = expiry_in_words(self.expires_at, policy, now) if policy and now else None
        if expiry:
            marks.append(expiry)
        if self.needs_ticket:
            marks.append("needs ticket")
        elif self.ticket and self.escalate:
            marks.append(f"ticket {self.ticket}")
        if self.mailing_pending:
            marks.append("mail")
        return marks

    def left(self, reference: QueueReference, now: datetime) -> str:
        """Due / left in words at `now`."""
        used = time_used(self.times, reference.calendar, now)
        return left_in_words(self.times, self.health, used, now)

    def provisional_years(self, calendar: BusinessCalendar, now: datetime) -> list[int]:
        """The provisional calendar years this entry's due date and verdict depend on: from
        its entry into the stage to the later of its due day and `now` (business days only)."""
        due = self.times.due_at
        if self.times.clock is not SlaClock.BUSINESS_DAYS or due is None:
            return []
        entered = self.times.entered_at.astimezone(BEIJING).year
        moment = now.astimezone(BEIJING).year
        low, high = min(entered, moment), max(due.year, moment)
        return calendar.provisional_years(range(low, high + 1))

    def list_json(self, reference: QueueReference, now: datetime) -> dict[str, Any]:
        """The `list --json` object (also the CSV columns)."""
        due = self.times.due_at
        expires = self.expires_at
        return {
            "id": self.id,
            "domain": self.domain,
            "entity": self.entity,
            "entity_type": self.entity_type,
            "province": self.province,
            "stage": self.stage.value,
            "health": self.health.value,
            "due": due.isoformat() if due else None,
            "left": self.left(reference, now),
            "escalate": self.escalate,
            "assignee": self.assignee,
            "ticket": self.ticket,
            "version": self.version,
            "expires_at": expires.isoformat() if expires else None,
            "expiry": expiry_in_words(expires, reference.policy, now),
            "provisional_years": self.provisional_years(reference.calendar, now),
        }


class Sort(StrEnum):
    """The orders `s` cycles through."""

    URGENCY = "urgency"
    DUE = "due"
    STAGE = "stage"
    PROVINCE = "province"
    ID = "id"


class View(StrEnum):
    """The queues on keys 1 to 6."""

    ALL = "all"
    MINE = "mine"
    OURS = "needs our action"
    APPLICANT = "waiting on applicant"
    AUTHORITY = "with the authority"
    CLOSED = "closed"


def in_view(view: View, entry: QueueEntry, actor: str) -> bool:
    """Whether `entry` belongs in the queue `view` for `actor`."""
    if view is View.ALL:
        return True
    if view is View.MINE:
        return entry.assignee == actor
    if view is View.OURS:
        return entry.stage in ALIBABA_CLOUD_REVIEW
    if view is View.APPLICANT:
        return rule(entry.stage).owner is Owner.APPLICANT and entry.stage not in CLOSED
    if view is View.AUTHORITY:
        return entry.stage is Stage.AUTHORITY_REVIEW
    return entry.stage in CLOSED


#: Each order after urgency: a stable sort by this key keeps ties most urgent first.
_THEN_BY: dict[Sort, Callable[[QueueEntry], Any] | None] = {
    Sort.URGENCY: None,
    Sort.DUE: lambda e: NEVER if e.times.due_ts is None else e.times.due_ts,
    Sort.STAGE: lambda e: _STAGE_INDEX[e.stage],
    Sort.PROVINCE: attrgetter("province"),
    Sort.ID: attrgetter("id"),
}


class Queue:
    """All filings' entries, kept current as filings change and time passes."""

    def __init__(self, reference: QueueReference, now: datetime) -> None:
        self.reference = reference
        self.entries: dict[str, QueueEntry] = {}
        # Health changes happen at few distinct instants (mostly midnight, Beijing): a heap of
        # those instants, each with the filings (id, version) to re-check then.
        self._wake_times: list[float] = []
        self._wakeups: dict[float, list[tuple[str, int]]] = {}
        self._now = now.timestamp()
        self._bulk = False
        self._counts: Counter[Health] | None = None
        self._province_names: dict[str, str] = {}
        #: Filings whose clock breached at the last refresh (for a notification).
        self.newly_breached: list[QueueEntry] = []
        # Earliest and latest due instant seen: the years whose calendar the queue relies on.
        self._due_span = (NEVER, -NEVER)

    def put(self, filing: Filing | FilingSummary) -> QueueEntry:
        """Add the entry of a filing, or update it in place; health as of the last refresh."""
        if isinstance(filing, Filing):
            filing = summarize(filing)
        province = self.reference.provinces.get(filing.province)
        mailing = (
            province is not None
            and province.requires_mailing
            and not filing.materials_received
            and filing.stage in MATERIALS_STAGES
        )
        times = sla_times(filing, self.reference.policy)
        expires = expires_at(filing, self.reference.policy)
        entry = self.entries.get(filing.id)
        if entry is None:
            entry = self.entries[filing.id] = QueueEntry(filing, times, mailing, expires)
        else:
            entry.update(filing, times, mailing, expires)
        # One shared string per province: 50,000 entries hold a reference, not a copy.
        names = self._province_names.get(filing.province)
        if names is None:
            names = " ".join(province.aliases) if province else ""
            self._province_names[filing.province] = names
        entry.province_names = names
        due = times.due_ts
        if due is not None:
            first, last = self._due_span
            self._due_span = (min(first, due), max(last, due))
        self._evaluate(entry)
        return entry

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Around a bulk load (opening): one heapify at the end instead of a push per filing."""
        self._bulk = True
        try:
            yield
        finally:
            self._bulk = False
            heapq.heapify(self._wake_times)

    def _evaluate(self, entry: QueueEntry) -> None:
        self._counts = None
        wake = entry.evaluate(self._now)
        if wake == NEVER:
            return
        due = self._wakeups.get(wake)
        if due is None:
            self._wakeups[wake] = [(entry.id, entry.version)]
            if self._bulk:
                self._wake_times.append(wake)
            else:
                heapq.heappush(self._wake_times, wake)
        else:
            due.append((entry.id, entry.version))

    def refresh(self, now: datetime) -> list[QueueEntry]:
        """Bring every health up to `now`; return the entries whose health or flag changed.

        Only filings whose next change instant has passed are looked at: O(changes), so a
        clock tick costs almost nothing even at 50,000 filings.
        """
        # Each re-check makes a new sort key: tens of thousands of them after midnight would
        # set off full collections, each scanning every object the dashboard holds, which made
        # the re-check grow faster than the queue (x9 from 10,000 to 50,000 filings).
        with gc_paused():
            return self._refresh(now)

    def _refresh(self, now: datetime) -> list[QueueEntry]:
        stamp = now.timestamp()
        self.newly_breached = []
        if stamp < self._now:  # the clock went back (tests, --now): re-check everything
            self._now = stamp
            self._wake_times, self._wakeups = [], {}
            with self.loading():
                for entry in self.entries.values():
                    self._evaluate(entry)
            return list(self.entries.values())
        self._now = stamp
        changed = []
        entries = self.entries
        while self._wake_times and self._wake_times[0] <= stamp:
            # Re-checked filings wake next at instants after `stamp`: never this bucket again.
            for filing_id, version in self._wakeups.pop(heapq.heappop(self._wake_times)):
                woken = entries.get(filing_id)
                if woken is None or woken.version != version:
                    continue  # superseded by a newer version of the filing
                before = (woken.health, woken.escalate)
                self._evaluate(woken)
                if (woken.health, woken.escalate) != before:
                    changed.append(woken)
                    if woken.health is Health.BREACHED and before[0] is not Health.BREACHED:
                        self.newly_breached.append(woken)
        return changed

    def years_in_use(self) -> range:
        """The calendar years from now to the latest due date (and any earlier one)."""
        now_year = datetime.fromtimestamp(self._now, BEIJING).year
        first, last = self._due_span
        if first == NEVER:
            return range(now_year, now_year + 1)
        low = min(now_year, datetime.fromtimestamp(first, BEIJING).year)
        high = max(now_year, datetime.fromtimestamp(last, BEIJING).year)
        return range(low, high + 1)

    def counts(self) -> Counter[Health]:
        """How many filings have each health (recounted only after something changed)."""
        if self._counts is None:
            self._counts = Counter(entry.health for entry in self.entries.values())
        return self._counts

    def select(
        self, view: View = View.ALL, text: str = "", actor: str = "", sort: Sort = Sort.URGENCY
    ) -> list[QueueEntry]:
        """The entries in `view` matching `text` (id, domain, entity, province, assignee)."""
        chosen = [e for e in self.entries.values() if view is View.ALL or in_view(view, e, actor)]
        chosen.sort(key=QueueEntry.urgency)
        then = _THEN_BY[sort]
        if then is not None:
            chosen.sort(key=then)
        return matching(chosen, text)


def health_counts(entries: Iterable[QueueEntry]) -> Counter[Health]:
    """How many of `entries` have each health (the counts of a view)."""
    return Counter(entry.health for entry in entries)


def matching(entries: list[QueueEntry], text: str) -> list[QueueEntry]:
    """The entries whose id, domain, entity, province (in English or Chinese) or assignee
    contain `text`, in order."""
    needle = text.casefold()
    return [e for e in entries if needle in e.haystack] if needle else entries
