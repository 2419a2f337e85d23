"""The queue at a past instant (`--as-of`, the dashboard's time keys), and typed instants.

Rebuilding must be cheap at 50,000 filings. A filing whose latest history entry is before the
instant is as its summary says, and one submitted after it is absent: neither is decoded.
Only the records of filings changed since the instant are read (once: they are kept) and
replayed (`domain.asof`). Stepping from one instant to another (or between an instant and
now) touches only the filings with a history entry between the two: a filing with none is
the same record at both, and only its health moves with the clock (`Queue.refresh`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from icp_tui.config import Reference
from icp_tui.domain.asof import Record, as_of, summary_as_of
from icp_tui.domain.collector import gc_paused
from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.filing import BEIJING, MAX_YEAR, MIN_YEAR, Filing, stamp
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.queue import Queue


def parse_time(text: str, what: str = "time") -> datetime:
    """An ISO 8601 time (or date), in Beijing time; without an offset it is Beijing time."""
    import arrow.parser  # only commands given times need it: keep it off the dashboard's start

    try:
        # Not arrow.get(text, tzinfo=...): that replaces an offset given in the text.
        parsed = arrow.parser.DateTimeParser().parse_iso(text.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=BEIJING)
        moment = parsed.astimezone(BEIJING)
    except (arrow.parser.ParserError, ValueError, TypeError, OverflowError):
        raise InvalidInput(
            f"bad {what} {text!r}: use ISO 8601, e.g. 2026-02-13T17:00+08:00"
        ) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidInput(f"bad {what} {text!r}: the year must be {MIN_YEAR} to {MAX_YEAR}")
    return moment


def check_past(at: datetime, now: datetime) -> None:
    """`--as-of` looks back: an instant after `now` has no history yet."""
    if at > now:
        raise InvalidInput(
            f"--as-of {stamp(at)} is later than now ({stamp(now)}, Beijing): the queue can be "
            "rebuilt only as it was, not as it will be"
        )


#: A change to the queue between two instants: the filing's summary then, or None (absent).
Change = tuple[str, FilingSummary | None]


class _Kept:
    """A record read, the sorted times of its history entries, and its summaries as rebuilt
    so far, by how many of its entries they include (the state at an instant depends on that
    alone: stepping back to an instant seen before rebuilds nothing)."""

    __slots__ = ("record", "states", "times")

    def __init__(self, record: Record | Filing) -> None:
        self.record = record
        self.times = sorted(entry.at.timestamp() for entry in record.history)
        self.states: dict[int, FilingSummary | None] = {}


class TimeMachine:
    """Rebuilds the queue of a store at past instants.

    `summaries` lists the store's current summaries; `record` reads one whole filing, and
    `for_rebuild` one as a step in time needs it (`Store.for_rebuild`). Those read are kept
    (with the times of their history entries, and what was rebuilt of them) for the next
    instant asked.
    """

    def __init__(
        self,
        reference: Reference,
        summaries: Callable[[], Iterable[FilingSummary]],
        record: Callable[[str], Filing],
        for_rebuild: Callable[[str], Record | Filing] | None = None,
    ) -> None:
        self.reference = reference
        self._summaries = summaries
        self._record = record
        self._for_rebuild = for_rebuild or record
        self._records: dict[str, _Kept] = {}

    def _kept(self, summary: FilingSummary) -> _Kept:
        """The filing's record, read once per version."""
        kept = self._records.get(summary.id)
        if kept is None or kept.record.version != summary.version:
            kept = self._records[summary.id] = _Kept(self._for_rebuild(summary.id))
        return kept

    def filing_at(self, summary: FilingSummary, at: datetime) -> Filing | None:
        """The whole filing as it was at `at` (None: not submitted yet)."""
        if summary.created_ts > at.timestamp():
            return None
        return as_of(self._record(summary.id), at)

    def summary_at(self, summary: FilingSummary, at: datetime | None) -> FilingSummary | None:
        """What the queue needs of the filing as it was at `at` (None: as it is now; the
        result None: not submitted yet)."""
        stamp = _stamp(at)
        if summary.created_ts > stamp:
            return None
        if summary.latest_ts <= stamp and summary.reviews is not None:
            return summary  # unchanged since: no record is read
        kept = self._kept(summary)
        if at is None:
            return summarize(kept.record)
        count = bisect_right(kept.times, stamp)
        if count not in kept.states:
            kept.states[count] = summary_as_of(kept.record, at)
        return kept.states[count]

    def filings_at(self, at: datetime) -> Iterator[Filing]:
        """Every filing as it was at `at` (those submitted by then)."""
        for summary in self._summaries():
            filing = self.filing_at(summary, at)
            if filing is not None:
                yield filing

    def queue_at(self, at: datetime, province: str | None = None) -> Queue:
        """The whole queue as it was at `at`, evaluated then (only `province`'s filings, as
        `FilingService.province_queue` has them)."""
        queue = Queue(self.reference, at)
        # Thousands of records read and kept, as in `changes`: without the collector (its
        # collections scanned every loaded filing, again and again: 1.5 s of a day back's
        # `list --as-of` at 50,000 filings).
        with gc_paused(long_lived=True), queue.loading():
            for summary in self._summaries():
                if province is not None and summary.province != province:
                    continue
                then = self.summary_at(summary, at)
                if then is not None:
                    queue.put(then)
        return queue

    def changes(self, before: datetime | None, after: datetime | None) -> list[Change]:
        """What differs in the queue between instants `before` and `after` (either order;
        None: now, today's records, as the live queue holds them)."""
        # Thousands of records decoded and replayed, and kept: with the collector on, its
        # collections would scan every object the dashboard holds, again and again.
        with gc_paused(long_lived=True):
            return self._changes(before, after)

    def _changes(self, before: datetime | None, after: datetime | None) -> list[Change]:
        stamp = _stamp(after)
        low, high = sorted((_stamp(before), stamp))
        changed: list[Change] = []
        for summary in self._summaries():
            if summary.created_ts > high:
                continue  # absent at both
            if summary.reviews is not None:
                if summary.latest_ts <= low:
                    continue  # the same at both instants: as it is now
                if summary.created_ts > low or summary.latest_ts <= high:
                    # Submitted, or last changed, between the two: changed for sure, and
                    # absent or as it is now at the later one (no record read for either).
                    changed.append((summary.id, self.summary_at(summary, after)))
                    continue
            times = self._kept(summary).times
            if bisect_right(times, low) == bisect_right(times, high):
                continue  # no history entry between the two instants
            changed.append((summary.id, self.summary_at(summary, after)))
        return changed


def _stamp(at: datetime | None) -> float:
    return math.inf if at is None else at.timestamp()


def apply_changes(queue: Queue, changes: Iterable[Change], now: datetime) -> None:
    """Bring a queue shown at one instant to the instant of `changes`, evaluated at `now`
    (that instant; the clock's time for today's records)."""
    # The clock first: the changed filings are then evaluated once, at `now`.
    queue.refresh(now)
    # Thousands of entries remade (a day's step), to live as long as the queue: as a
    # database is loaded, without the collector, and one heapify at the end.
    with gc_paused(long_lived=True), queue.loading():
        for filing_id, summary in changes:
            if summary is None:
                queue.remove(filing_id)
            else:
                queue.put(summary)
