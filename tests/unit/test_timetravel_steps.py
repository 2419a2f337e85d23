"""A step in time changes the queue shown in place (icp_tui.timetravel): only the filings
with a history entry between the two instants are rebuilt, and the clock, going on or back,
re-checks only the healths that change. Whatever the steps, the queue they make is the queue
rebuilt whole at the instant reached (or, back at now, the live queue)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import S, bj

from icp_tui.config import Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain import transitions as t
from icp_tui.domain.filing import EntityType, Filing
from icp_tui.domain.summary import summarize
from icp_tui.queue import Queue, Sort
from icp_tui.timetravel import TimeMachine, apply_changes

REFERENCE = load_reference(Settings())
NOW = bj(2026, 11, 25, 15)


def undone_and_noted() -> list[Filing]:
    """Filings whose histories the demo does not make: a move undone, a note undone, a
    decision undone (a review reopened) and a resubmission after a rejection."""
    made = []
    start = NOW - timedelta(days=12)
    for n in range(3):
        fid = f"ICP-2026-9000{n}"
        f = t.submit(fid, f"u{n}.cn", "E", EntityType.COMPANY, "Hebei", start, "amy")
        at = start
        for _ in range(5):
            at += timedelta(hours=7)
            f = t.advance(f, at, "amy")
        made.append(f)
    moved, noted, decided = made
    number = "冀ICP备2026900001号"
    back = t.advance(moved, NOW - timedelta(days=2), "bob", S.APPROVED, icp_number=number)
    made[0] = t.undo(back, moved, back.version, NOW - timedelta(days=2, minutes=-3), "bob")
    note = t.add_note(noted, NOW - timedelta(hours=30), "cy", "rang")
    made[1] = t.undo(note, noted, note.version, NOW - timedelta(hours=30, minutes=-2), "cy")
    rejected = t.advance(decided, NOW - timedelta(days=3), "cy", S.REJECTED, "materials missing")
    made[2] = t.advance(rejected, NOW - timedelta(hours=5), "cy", S.PRELIMINARY_REVIEW, "again")
    return made


FILINGS = [
    *generate_filings(160, NOW, REFERENCE.policy, REFERENCE.provinces, seed=7),
    *undone_and_noted(),
]
RECORDS = {f.id: f for f in FILINGS}


def machine() -> TimeMachine:
    return TimeMachine(REFERENCE, lambda: [summarize(f) for f in FILINGS], RECORDS.__getitem__)


def live_queue() -> Queue:
    queue = Queue(REFERENCE, NOW)
    with queue.loading():
        for filing in FILINGS:
            queue.put(summarize(filing))
    return queue


def shown(queue: Queue) -> dict[str, Any]:
    """Everything of a queue that the table, the detail's estimate and the counts show."""
    entries = {
        e.id: (
            e.version,
            e.stage,
            e.assignee,
            e.ticket,
            e.health,
            e.escalate,
            e.urgency(),
            e.eta,
            e.times,
            e.expires_at,
            e.mailing_pending,
            e.reviews,
        )
        for e in queue.entries.values()
    }
    orders = {sort: [e.id for e in queue.select(sort=sort)] for sort in Sort}
    reviews = {p: queue.review_history.days(p) for p in queue.review_history.provinces()}
    return {"entries": entries, "orders": orders, "counts": queue.counts(), "reviews": reviews}


def walk(instants: Iterable[datetime | None]) -> None:
    """Step the live queue through `instants` (None: now), checking it after each step."""
    times = machine()
    queue = live_queue()
    at: datetime | None = None
    for then in instants:
        apply_changes(queue, times.changes(at, then), then or NOW)
        at = then
        whole = live_queue() if then is None else machine().queue_at(then)
        assert shown(queue) == shown(whole), then


# An hour, a day or a few weeks back (the review window moves too), or now.
INSTANTS = st.one_of(
    st.none(),
    st.integers(0, 45 * 24).map(lambda hours: NOW - timedelta(hours=hours)),
    st.integers(0, 24 * 60 * 14).map(lambda minutes: NOW - timedelta(minutes=minutes)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(INSTANTS, min_size=1, max_size=6))
def test_steps_in_time_make_the_queue_rebuilt_whole_at_the_instant_reached(
    instants: list[datetime | None],
) -> None:
    walk(instants)


def test_the_keys_steps_and_back_to_now() -> None:
    hour, day = timedelta(hours=1), timedelta(days=1)
    back = [NOW - hour * n for n in range(1, 6)]
    walk([*back, back[-1] - day, back[-1] - 2 * day, back[-1] - day, None])


def test_a_step_reads_no_record_of_a_filing_unchanged_between_the_instants() -> None:
    read: list[str] = []

    def record(filing_id: str) -> Filing:
        read.append(filing_id)
        return RECORDS[filing_id]

    times = TimeMachine(REFERENCE, lambda: [summarize(f) for f in FILINGS], record)
    early, late = NOW - timedelta(days=3), NOW - timedelta(days=2)
    changed = times.changes(late, early)
    moved = {f.id for f in FILINGS if any(early < e.at <= late for e in f.history)}
    assert {fid for fid, _ in changed} == moved and moved
    assert set(read) <= {f.id for f in FILINGS if f.latest_at > early}
    # Submitted between the two instants: gone at the earlier, without its record read.
    gone = {f.id for f in FILINGS if early < f.history[0].at <= late}
    assert gone and {fid for fid, summary in changed if summary is None} == gone
    assert not gone & set(read)
    # Back to the later instant: no record is read again, and no summary rebuilt again
    # (only those of the filings submitted in between, at their first rebuild).
    read.clear()
    times.changes(early, late)
    assert set(read) == {fid for fid in gone if RECORDS[fid].latest_at > late}
