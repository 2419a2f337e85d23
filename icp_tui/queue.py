"""The queue as staff see it: one entry per filing with its SLA state, sorted and filtered.

Pure: it depends on the domain alone (no textual, no tinydb, no files; the reference data
comes in as a `QueueReference`, which config.Reference is). Built for 50,000 filings: each
entry keeps only what the table shows plus its precomputed SLA instants, and `refresh`
re-checks only the filings whose health can have changed since the last refresh: a heap of
their next change instants as the clock goes on, and one of their last change instants for
when it goes back (the queue as it was, an hour or a day earlier).
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol

from icp_tui.domain.calendar import BusinessCalendar, day_of, day_start
from icp_tui.domain.collector import gc_paused
from icp_tui.domain.estimate import (
    ApprovalEstimate,
    FinishedReview,
    ReviewHistory,
    summary_reviews,
)
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.provinces import ProvinceTable
from icp_tui.domain.query import ME, Bound, Field, Query, Term, Unit, narrows
from icp_tui.domain.sla import (
    NEVER,
    Deadlines,
    Health,
    SlaPolicy,
    SlaTimes,
    expires_at,
    expiry_in_words,
    left_in_words,
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
_RANKS = {health: health.rank for health in Health}  # a look-up, not a property per filing
_ENTITY_TYPES = {kind: kind.value for kind in EntityType}


class QueueReference(Protocol):
    """The reference data a queue reads (config.Reference has it, loaded from the data files)."""

    @property
    def provinces(self) -> ProvinceTable: ...
    @property
    def calendar(self) -> BusinessCalendar: ...
    @property
    def policy(self) -> SlaPolicy: ...
    @property
    def review_window_days(self) -> int: ...


class QueueEntry:
    """What the table shows of one filing, and its SLA instants."""

    __slots__ = (
        "_estimator",
        "_haystack",
        "_urgency",
        "assignee",
        "back_at",
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
        "reviews",
        "stage",
        "ticket",
        "times",
        "version",
        "wake_at",
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
        #: The queue's estimate of its approval, set while it is in authority review.
        self._estimator: Callable[[QueueEntry], ApprovalEstimate] | None = None
        #: Its finished authority reviews, as the queue's distributions counted them.
        self.reviews: tuple[FinishedReview, ...] = ()
        #: The instants the queue will re-check it at: the next change of health or escalation
        #: (the clock going on), and the last one (the clock going back before it).
        self.wake_at: float | None = None
        self.back_at: float | None = None
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
        self.entity_type = _ENTITY_TYPES[filing.entity_type]
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
    def eta(self) -> ApprovalEstimate | None:
        """When it is likely approved (authority review only), from its province's reviews."""
        return None if self._estimator is None else self._estimator(self)

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

    def evaluate(self, now: float) -> tuple[float, float]:
        """Health and escalation at `now`; returns when they will next change and when they
        last changed (they are the same at any time between the two)."""
        times = self.times
        health = self.health = times.health(now)
        self.escalate = times.escalate(now)
        # Kept with the health it depends on, so sorting 50,000 entries builds no keys.
        self._urgency = (_RANKS[health], times.sort_key(health), self.id)
        return times.changes_around(now)

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


def eta_json(eta: ApprovalEstimate | None) -> dict[str, Any] | None:
    """The approval estimate as `show --json` and `list --json` give it."""
    if eta is None:
        return None
    return {
        "p50": eta.p50.isoformat(),
        "p90": eta.p90.isoformat(),
        "samples": eta.samples,
        "basis": eta.basis.value,
    }


class Sort(StrEnum):
    """The orders `s` cycles through."""

    URGENCY = "urgency"
    DUE = "due"
    ETA = "likely approval"
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


#: `QueueEntry.urgency` read in C: 50,000 method calls are a third of sorting the queue.
_URGENCY = attrgetter("_urgency")
_HEALTH = attrgetter("health")

#: Each order after urgency: a stable sort by this key keeps ties most urgent first.
_THEN_BY: dict[Sort, Callable[[QueueEntry], Any] | None] = {
    Sort.URGENCY: None,
    Sort.DUE: lambda e: NEVER if e.times.due_ts is None else e.times.due_ts,
    Sort.ETA: lambda e: NEVER if e.eta is None else e.eta.p50.timestamp(),
    Sort.STAGE: lambda e: _STAGE_INDEX[e.stage],
    Sort.PROVINCE: attrgetter("province"),
    Sort.ID: attrgetter("id"),
}


#: Terms whose answer moves with the clock between two changes of a filing's health.
_CLOCK_FIELDS = frozenset({Field.DUE, Field.OVER, Field.WAITING, Field.EXPIRES})


def sort_key(sort: Sort) -> Callable[[QueueEntry], Any]:
    """The order `Queue.select` puts entries in for `sort`, as one key: its own, then urgency."""
    then = _THEN_BY[sort]
    if then is None:
        return _URGENCY
    return lambda entry: (then(entry), entry._urgency)


def order_holds(sort: Sort, *queries: Query) -> bool:
    """Whether entries put in order (and selected by `queries`) stay so until one of them
    changes: not when approval estimates move (they all do when a review closes), nor when a
    query reads the clock (due, over, waiting, expires)."""
    return sort is not Sort.ETA and not any(
        term.field in _CLOCK_FIELDS for query in queries for term in query.terms
    )


#: Up to this many entries changed since an order was kept move one by one (each costs a
#: search of the whole list); more and the order is sorted afresh.
MOVE_ONE_BY_ONE = 50


def position_in(rows: list[QueueEntry]) -> Callable[[QueueEntry], int | None]:
    """Where an entry is in `rows` (None: not there); by identity, as entries are kept."""

    def position(entry: QueueEntry) -> int | None:
        try:
            return rows.index(entry)
        except ValueError:
            return None

    return position


def reposition(
    rows: list[QueueEntry],
    moved: Iterable[QueueEntry],
    sort: Sort,
    keep: Callable[[QueueEntry], bool],
    position: Callable[[QueueEntry], int | None],
) -> tuple[int, int] | None:
    """Put each of `moved` where `sort` orders it among `rows` (in that order but for them,
    which may or may not be in it yet), or take it out if `keep` refuses it; `position` says
    where one is now (None: not there). In place, at the cost of the moved entries (binary
    search), not of every row. Returns the first and last position whose row changed (the
    last row, if the number of rows changed), or None if none did."""
    key = sort_key(sort)
    moved = list({entry.id: entry for entry in moved}.values())
    taken = sorted((i for e in moved if (i := position(e)) is not None), reverse=True)
    for i in taken:
        del rows[i]
    put = []
    for entry in moved:
        if keep(entry):
            at = bisect.bisect_left(rows, key(entry), key=key)
            rows.insert(at, entry)
            put.append(at)
    if not taken and not put:
        return None
    first = min(taken + put)
    if len(taken) != len(put):
        return first, len(rows) - 1
    # A row put at `at` ends at most len(put) further down (those put before it later).
    return first, min(len(rows) - 1, max(max(taken), max(put) + len(put)))


class _Schedule:
    """When entries are to be re-checked: the distinct instants (few: health changes mostly at
    midnight, Beijing) in a heap, soonest first (`later` False: the clock going on) or latest
    first (`later` True: the clock going back), each with the entries to re-check then.

    An entry is listed under each instant it was ever due at; only the one it is due at now
    counts (`Queue` checks it as it re-checks), so nothing is searched for and taken out.
    """

    def __init__(self, *, later: bool) -> None:
        self._sign = -1.0 if later else 1.0
        self._heap: list[float] = []
        self._due: dict[float, list[QueueEntry]] = {}

    def add(self, instant: float, entry: QueueEntry, bulk: bool) -> None:
        due = self._due.get(instant)
        if due is not None:
            due.append(entry)
            return
        self._due[instant] = [entry]
        if bulk:
            self._heap.append(self._sign * instant)  # heapified once the bulk load ends
        else:
            heapq.heappush(self._heap, self._sign * instant)

    def heapify(self) -> None:
        heapq.heapify(self._heap)

    def any_passed(self, stamp: float) -> bool:
        """Whether the clock set to `stamp` has passed an instant of the schedule."""
        heap = self._heap
        return bool(heap) and (heap[0] <= stamp if self._sign > 0 else -heap[0] > stamp)

    def passed(self, stamp: float) -> Iterator[tuple[float, list[QueueEntry]]]:
        """Take out each instant that the clock set to `stamp` has passed, with its entries:
        those at or before it going on, those after it going back."""
        heap, sign = self._heap, self._sign
        while heap and (heap[0] <= stamp if sign > 0 else -heap[0] > stamp):
            instant = sign * heapq.heappop(heap)
            yield instant, self._due.pop(instant)


class _Approvals:
    """A queue's approval estimates, by province and day of entry (a date ordinal), as they
    are read, and the reviews they rest on. Apart from the queue, which its entries in review
    would otherwise hold in a cycle with it: a queue replaced is freed by reference counting
    alone, as it must be once frozen with the dashboard's filings (collector.py)."""

    __slots__ = ("history", "known", "policy")

    def __init__(self, history: ReviewHistory, policy: SlaPolicy) -> None:
        self.history = history
        self.policy = policy
        self.known: dict[str, dict[int, ApprovalEstimate]] = {}

    def estimate(self, entry: QueueEntry) -> ApprovalEstimate:
        # An estimate depends on the province and the day of entry alone (it counts business
        # days from that date): the thousands of filings in review share a few hundred.
        known = self.known.setdefault(entry.province, {})
        day = day_of(entry.times.entered_ts)
        estimate = known.get(day)
        if estimate is None:
            estimate = known[day] = self.history.estimate(
                entry.province, entry.times.entered_at, self.policy
            )
        return estimate


class Queue:
    """All filings' entries, kept current as filings change and time passes.

    It also holds each province's finished authority reviews of the last `window_days`, and
    estimates the approval of a filing in authority review when it is read: one estimate per
    province and day of entry, kept until one of the province's reviews closes (or its
    decision is undone) or the window moves a day, never recomputed on a clock tick.
    """

    def __init__(self, reference: QueueReference, now: datetime) -> None:
        self.reference = reference
        self.window_days = window_days = reference.review_window_days
        self._approvals = _Approvals(ReviewHistory((), now, window_days), reference.policy)
        self._window_day = now.astimezone(BEIJING).date()
        #: One bound method, shared by the entries in review.
        self._estimator = self._approvals.estimate
        #: Summaries from before reviews were kept (an older PostgreSQL row): `fill_reviews`.
        self.unknown_reviews: set[str] = set()
        self.entries: dict[str, QueueEntry] = {}
        # The filings to re-check when the clock passes their next (or, going back, their
        # last) change instant.
        self._wakeups = _Schedule(later=False)
        self._lookbacks = _Schedule(later=True)
        self._now = now.timestamp()
        self._bulk = False
        self._counts: Counter[Health] | None = None
        #: Every entry in each order asked for so far, kept (`s` at 100,000 filings cannot
        #: afford a sort); urgency's always, each other order is sorted from it. Entries
        #: changed since are in `_moved` (None: too many to move one by one), those added in
        #: `_unsorted`, those removed in `_removed`: `_catch_up` brings the orders up to date.
        self._orders: dict[Sort, list[QueueEntry]] = {Sort.URGENCY: []}
        self._moved: dict[str, QueueEntry] | None = {}
        self._unsorted: list[QueueEntry] = []
        self._removed: set[QueueEntry] = set()
        #: By the name a summary gives: whether it asks for mail, its other names.
        self._provinces: dict[str, tuple[bool, str]] = {}
        self._deadlines = Deadlines(reference.policy)
        #: Filings whose clock breached at the last refresh (for a notification).
        self.newly_breached: list[QueueEntry] = []
        # Earliest and latest due instant seen: the years whose calendar the queue relies on.
        self._due_span = (NEVER, -NEVER)

    def put(self, filing: Filing | FilingSummary) -> QueueEntry:
        """Add the entry of a filing, or update it in place; health as of the last refresh."""
        if isinstance(filing, Filing):
            filing = summarize(filing)
        province = self._provinces.get(filing.province)
        if province is None:
            province = self._provinces[filing.province] = self._province(filing.province)
        mails, names = province
        mailing = mails and not filing.materials_received and filing.stage in MATERIALS_STAGES
        times = self._deadlines.times(filing)
        expires = expires_at(filing, self.reference.policy)
        entry = self.entries.get(filing.id)
        if entry is None:
            entry = self.entries[filing.id] = QueueEntry(filing, times, mailing, expires)
            self._unsorted.append(entry)
        else:
            self._leave_review(entry)
            entry.update(filing, times, mailing, expires)
        self._count_reviews(entry, filing)
        if filing.stage is Stage.AUTHORITY_REVIEW:
            entry._estimator = self._estimator
        entry.province_names = names
        due = times.due_ts
        if due is not None:
            first, last = self._due_span
            if due < first or due > last:
                self._due_span = (min(first, due), max(last, due))
        self._evaluate(entry)
        return entry

    def _province(self, name: str) -> tuple[bool, str]:
        """Whether the province asks for mailed materials, and its other names (one shared
        string per province: 50,000 entries hold a reference, not a copy)."""
        province = self.reference.provinces.get(name)
        if province is None:
            return False, ""
        return province.requires_mailing, " ".join(province.aliases)

    def remove(self, filing_id: str) -> None:
        """Drop a filing's entry (the queue at an instant before it was submitted)."""
        entry = self.entries.pop(filing_id, None)
        if entry is None:
            return
        self._counts = None
        self._removed.add(entry)
        self._note_moved(entry)
        self._leave_review(entry)
        for review in entry.reviews:
            self.review_history.remove(review)
        self.unknown_reviews.discard(filing_id)
        if not self._bulk:
            self._reestimate({r.province for r in entry.reviews})

    def _leave_review(self, entry: QueueEntry) -> None:
        entry._estimator = None

    def _count_reviews(self, entry: QueueEntry, filing: FilingSummary) -> None:
        """Keep the distributions in step with the filing's finished reviews."""
        if filing.reviews is None:
            self.unknown_reviews.add(filing.id)
            return
        self.unknown_reviews.discard(filing.id)
        if len(filing.reviews) == len(entry.reviews):
            return  # the usual change: no review closed or reopened
        for review in entry.reviews:
            self.review_history.remove(review)
        entry.reviews = tuple(summary_reviews(filing, self.reference.calendar))
        for review in entry.reviews:
            self.review_history.add(review)
        if not self._bulk:
            self._reestimate({filing.province, *(r.province for r in entry.reviews)})

    @property
    def review_history(self) -> ReviewHistory:
        """The finished authority reviews of the window, by province."""
        return self._approvals.history

    def _reestimate(self, provinces: Iterable[str] | None = None) -> None:
        """Forget the estimates of `provinces` (None: all), whose reviews changed."""
        self._orders.pop(Sort.ETA, None)  # estimates move by themselves: sorted afresh
        known = self._approvals.known
        if provinces is None:
            known.clear()
        for province in provinces or ():
            known.pop(province, None)

    def _move_window(self, now: datetime) -> None:
        """The reviews counted are those of the window before `now`: once a day, drop the
        reviews decided before its new start (a window moved back is counted afresh)."""
        day = now.astimezone(BEIJING).date()
        if day == self._window_day:
            return
        self._window_day = day
        changed = self.review_history.move_to(now)
        if changed is None:
            self._approvals.history = ReviewHistory(
                (r for e in self.entries.values() for r in e.reviews), now, self.window_days
            )
        self._reestimate(changed)

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Around a bulk load (opening): one heapify at the end instead of a push per filing,
        and the estimates once all reviews are counted."""
        self._bulk = True
        try:
            yield
        finally:
            self._bulk = False
            self._wakeups.heapify()
            self._lookbacks.heapify()
            self._reestimate()

    def _evaluate(self, entry: QueueEntry) -> None:
        self._counts = None
        self._note_moved(entry)
        wake, back = entry.evaluate(self._now)
        # Listed anew only where the instant moved: where it did not, it is listed already.
        if wake != entry.wake_at:
            entry.wake_at = wake
            if wake != NEVER:
                self._wakeups.add(wake, entry, self._bulk)
        if back != entry.back_at:
            entry.back_at = back
            if back != -NEVER:
                self._lookbacks.add(back, entry, self._bulk)

    def refresh(self, now: datetime) -> list[QueueEntry]:
        """Bring every health up to `now`; return the entries whose health or flag changed.

        Only filings whose next change instant has passed are looked at: O(changes), so a
        clock tick costs almost nothing even at 50,000 filings.
        """
        # Each re-check makes a new sort key: tens of thousands of them after midnight would
        # set off full collections, each scanning every object the dashboard holds, which made
        # the re-check grow faster than the queue (x9 from 10,000 to 50,000 filings). They
        # live as long as their entries: kept as long-lived, so that the first collection
        # after the pause does not scan them all either, as part of this re-check.
        stamp = now.timestamp()
        if not (self._lookbacks if stamp < self._now else self._wakeups).any_passed(stamp):
            # Nothing to re-check (most ticks): no pause, whose long-lived bookkeeping costs
            # ~0.1 s at 50,000 filings, every second, in every dashboard.
            return self._refresh(now)
        with gc_paused(long_lived=True):
            return self._refresh(now)

    def _refresh(self, now: datetime) -> list[QueueEntry]:
        stamp = now.timestamp()
        self.newly_breached = []
        self._move_window(now)
        back = stamp < self._now  # the queue as it was, tests, --now
        self._now = stamp
        changed = []
        entries = self.entries
        # Re-checked filings are due next at instants the clock has not passed: never again in
        # this loop. Those listed under an instant they are no longer due at are skipped.
        for instant, due in (self._lookbacks if back else self._wakeups).passed(stamp):
            for woken in due:
                if (woken.back_at if back else woken.wake_at) != instant:
                    continue  # since re-checked, or a newer version of the filing put
                if entries.get(woken.id) is not woken:
                    continue  # removed (the queue as it was before it was submitted)
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
            self._counts = Counter(map(_HEALTH, self.entries.values()))
        return self._counts

    def select(
        self,
        view: View = View.ALL,
        query: Query | str = "",
        actor: str = "",
        sort: Sort = Sort.URGENCY,
    ) -> list[QueueEntry]:
        """The entries in `view` that `query` selects, in the order `sort`."""
        ordered = self._order(sort)
        if view is View.ALL:
            chosen = list(ordered)  # the caller's to change
        else:
            chosen = [e for e in ordered if in_view(view, e, actor)]
        return self.matching(chosen, query, actor)

    def _note_moved(self, entry: QueueEntry) -> None:
        """`entry` changed (or was added or removed): the kept orders have to move it."""
        moved = self._moved
        if moved is not None:
            moved[entry.id] = entry
            if len(moved) > MOVE_ONE_BY_ONE:  # midnight, a step in time: sort again instead
                self._moved = None

    def _order(self, sort: Sort) -> list[QueueEntry]:
        """Every entry in the order `sort` (kept: not a copy)."""
        self._catch_up()
        rows = self._orders.get(sort)
        if rows is None:
            then = _THEN_BY[sort]
            assert then is not None  # urgency's order is always kept
            # Stable: ties stay most urgent first.
            rows = self._orders[sort] = sorted(self._orders[Sort.URGENCY], key=then)
        return rows

    def _catch_up(self) -> None:
        """Bring the kept orders up to date with what changed since: a few entries are moved
        into place one by one (a search in C and a binary search each); after many, the
        urgency order is sorted again from where it was (most entries kept their place, and
        the sort takes the runs they form: a step in time at 50,000 filings ~40 ms, not ~110)
        and the other orders are dropped, to be sorted from it when asked for."""
        moved, added, removed = self._moved, self._unsorted, self._removed
        if moved is not None and not moved:
            return  # nothing changed (every addition or removal is also a move)
        if moved is None:
            ordered = self._orders[Sort.URGENCY]
            if removed:
                ordered = [e for e in ordered if e not in removed]
            ordered += (e for e in added if e not in removed)
            ordered.sort(key=_URGENCY)
            self._orders = {Sort.URGENCY: ordered}
        else:
            entries = self.entries
            for kept, rows in self._orders.items():
                position = position_in(rows)
                for entry in removed:  # by identity: its id may be another entry's by now
                    if (at := position(entry)) is not None:
                        del rows[at]
                reposition(rows, moved.values(), kept, lambda e: entries.get(e.id) is e, position)
        self._moved, self._unsorted, self._removed = {}, [], set()

    def matching(
        self, entries: list[QueueEntry], query: Query | str, actor: str
    ) -> list[QueueEntry]:
        """`matching` as of the last refresh: the dashboard and the command line both ask
        here, so they select the same filings."""
        now = datetime.fromtimestamp(self._now, BEIJING)
        return matching(entries, query, actor, now, self.reference.calendar)


class QuerySelection:
    """What successive queries select from one ordered list of entries, as they are typed.

    Terms are ANDed, so the rows of the first k terms are a base for any query that starts
    with those terms: each is remembered, and a keystroke filters only what the unchanged
    terms left (letters added to the last free word filter what the shorter word left).
    That keeps a keystroke at 50,000 filings to the cost of the rows still in play.
    """

    #: Remembered term prefixes; past this, the memory starts afresh.
    KEEP = 64

    def __init__(self, queue: Queue, entries: list[QueueEntry], actor: str) -> None:
        self.queue = queue
        self.entries = entries
        self.actor = actor
        self._rows: dict[tuple[Term, ...], list[QueueEntry]] = {(): entries}
        self._last = Query()

    def select(self, query: Query) -> list[QueueEntry]:
        """The entries `query` selects, in order (the same as `Queue.matching`)."""
        terms = query.terms
        known = self._rows
        if len(known) > self.KEEP:
            known.clear()
            known[()] = self.entries
        done = max(n for n in range(len(terms) + 1) if terms[:n] in known)
        rows = known[terms[:done]]
        last = self._last
        if (
            done < len(terms)
            and len(last.terms) == len(terms)
            and terms[:-1] == last.terms[:-1]
            and last.terms in known
            and narrows(last, query)
        ):  # the last word grew: what the shorter word left is the base
            rows, done = known[last.terms], len(terms) - 1
        for n in range(done, len(terms)):
            rows = self.queue.matching(rows, Query(terms[n : n + 1]), self.actor)
            known[terms[: n + 1]] = rows
        self._last = query
        return rows


def most_urgent(
    summaries: Iterable[FilingSummary], reference: QueueReference, now: datetime, count: int
) -> tuple[Queue, Counter[Health]]:
    """A queue of the `count` most urgent of `summaries` at `now` (urgency's first rows, as
    the whole queue orders them), and how many of all of them have each health: the first
    screen of a dashboard, at a fraction of the whole queue's cost: each filing costs its
    health and sort key alone (`Deadlines.urgency`, ~2 µs), not an entry with its SLA
    instants, schedule, expiry and reviews (~25 µs)."""
    deadlines = Deadlines(reference.policy)
    stamp = now.timestamp()
    tally = dict.fromkeys(Health, 0)

    def urgencies() -> Iterator[tuple[int, float, str, FilingSummary]]:
        for summary in summaries:
            health, key = deadlines.urgency(summary, stamp)
            tally[health] += 1
            # QueueEntry.evaluate's key; ids are unique, so summaries are never compared.
            yield _RANKS[health], key, summary.id, summary

    first = heapq.nsmallest(count, urgencies())
    queue = Queue(reference, now)
    with queue.loading():
        for *_, summary in first:
            queue.put(summary)
    return queue, Counter(tally)


def fill_reviews(queue: Queue, record: Callable[[str], Filing]) -> None:
    """Read the record of each filing whose summary predates finished reviews being kept."""
    for filing_id in list(queue.unknown_reviews):
        queue.put(record(filing_id))


def matching(
    entries: list[QueueEntry],
    query: Query | str,
    actor: str = "",
    now: datetime | None = None,
    calendar: BusinessCalendar | None = None,
) -> list[QueueEntry]:
    """The entries that `query` selects, in order (a plain string is one free phrase, as the
    old filter took it). Health is as of the entries' last refresh; `now` and `calendar` are
    needed by the due/over/waiting/expires terms only."""
    if isinstance(query, str):
        needle = query.casefold()
        return [e for e in entries if needle in e.haystack] if needle else entries
    for term in query.terms:
        test = _term_test(term, actor, now, calendar)
        if term.negated:
            entries = [e for e in entries if not test(e)]
        else:
            entries = [e for e in entries if test(e)]
    return entries


def _term_test(
    term: Term, actor: str, now: datetime | None, calendar: BusinessCalendar | None
) -> Callable[[QueueEntry], bool]:
    """A test of one entry for one term, with what it compares against computed once."""
    field, value = term.field, term.value
    if field is Field.WORDS:
        assert isinstance(value, str)
        return lambda e: value in e.haystack
    if field in (Field.HEALTH, Field.STAGE):
        assert isinstance(value, frozenset)
        key = attrgetter(field.value)
        return lambda e: key(e) in value
    if field is Field.PROVINCE:
        assert isinstance(value, str)
        # Resolved (the parser knew the provinces): the English name; else any name, any case.
        return lambda e: e.province == value or value in _names(e)
    if field is Field.ASSIGNEE:
        if value is None:
            return lambda e: not e.assignee
        name = (actor if value == ME else str(value)).casefold()
        return lambda e: (e.assignee or "").casefold() == name
    if field is Field.TICKET:
        return lambda e: bool(e.ticket) is value
    if field is Field.ESCALATE:
        return lambda e: e.escalate is value
    assert isinstance(value, Bound) and now is not None and calendar is not None
    stamp = now.timestamp()
    today = day_of(stamp)
    if field is Field.DUE:
        if value.unit is Unit.TODAY:
            return lambda e: e.times.due_ts is not None and day_of(e.times.due_ts) == today
        if value.unit is Unit.HOURS:
            before = stamp + value.amount * 3600
        else:  # fewer than N bd left: due before the N-th business day after today begins
            before = day_start(calendar.nth_after(today, value.amount))
        return lambda e: (
            e.health is not Health.BREACHED
            and e.times.due_ts is not None
            and e.times.due_ts < before
        )
    if field is Field.OVER:  # more than N business days past the due day (as the row says)
        over = value.amount
        return lambda e: (
            e.health is Health.BREACHED
            and e.times.due_ts is not None
            and calendar.elapsed_days(day_of(e.times.due_ts), today) > over
        )
    if field is Field.WAITING:  # wall-clock days, as "waiting 3 d" counts them
        since = stamp - value.amount * 86400
        return lambda e: e.health is Health.WAITING and e.times.entered_ts < since
    # Expires within N days: those already expired too (they are to be withdrawn).
    limit = stamp + value.amount * 86400
    return lambda e: e.expires_at is not None and e.expires_at.timestamp() < limit


def _names(entry: QueueEntry) -> list[str]:
    return [entry.province.casefold(), *entry.province_names.casefold().split()]
