"""Re-sorting after a few changes moves only the changed entries: `reposition` leaves a list in
exactly the order (and with exactly the members) that a whole new `Queue.select` gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import S, bj, build_filing

from icp_tui.config import Settings, load_reference
from icp_tui.domain import transitions as t
from icp_tui.domain.filing import Filing
from icp_tui.queue import (
    Queue,
    QueueEntry,
    Sort,
    View,
    in_view,
    key_before,
    order_holds,
    placed_position,
    reposition,
    sort_key,
)

REFERENCE = load_reference(Settings())
NOW = bj(2026, 11, 25, 15)
STAGES = (S.PRELIMINARY_REVIEW, S.PHOTO_REVIEW, S.AUTHORITY_REVIEW, S.RETURNED, S.APPROVED)
PROVINCES = ("Beijing", "Zhejiang", "Hebei")
ICP_NUMBERS = {
    "Beijing": "京ICP备2026000001号",
    "Zhejiang": "浙ICP备2026000001号",
    "Hebei": "冀ICP备2026000001号",
}
PEOPLE = (None, "amy", "bob")


def filings() -> list[Filing]:
    made = []
    for n in range(30):
        stage = STAGES[n % len(STAGES)]
        entered = NOW - timedelta(hours=5 * n + 1)
        made.append(
            build_filing(
                stage,
                entered,
                id=f"ICP-2026-{n:05d}",
                province=PROVINCES[n % 3],
                assignee=PEOPLE[n % 3],
            )
        )
    return made


def change(filing: Filing, how: int) -> Filing:
    """Another person's change: a move to the next stage, an assignment, or a note."""
    at = NOW - timedelta(minutes=1)
    if how == 0 and (targets := t.advance_targets(filing.stage)):
        target = targets[0]
        if target is S.APPROVED:
            return t.advance(filing, at, "bob", target, icp_number=ICP_NUMBERS[filing.province])
        return t.advance(filing, at, "bob", target, reason="duplicate application")
    if how == 1:
        return t.assign(filing, at, "bob", PEOPLE[(PEOPLE.index(filing.assignee) + 1) % 3])
    return t.add_note(filing, at, "bob", "called the applicant")


@settings(max_examples=60, deadline=None)
@given(
    sort=st.sampled_from([s for s in Sort if order_holds(s)]),
    view=st.sampled_from(list(View)),
    changes=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 2)), max_size=8),
)
def test_moving_the_changed_entries_gives_the_order_of_a_whole_select(
    sort: Sort, view: View, changes: list[tuple[int, int]]
) -> None:
    queue = Queue(REFERENCE, NOW)
    current = filings()
    for filing in current:
        queue.put(filing)
    rows = queue.select(view, "", "amy", sort)
    moved: list[QueueEntry] = []
    for index, how in changes:
        current[index] = change(current[index], how)
        moved.append(queue.put(current[index]))
        if in_view(view, moved[-1], "amy") and moved[-1] not in rows:
            rows.append(moved[-1])  # new to the view: at the bottom, as the dashboard adds it

    def position(entry: QueueEntry) -> int | None:
        return rows.index(entry) if entry in rows else None

    reposition(rows, moved, sort, lambda e: in_view(view, e, "amy"), position)
    assert [e.id for e in rows] == [e.id for e in queue.select(view, "", "amy", sort)]


def test_the_span_returned_covers_every_row_that_changed() -> None:
    queue = Queue(REFERENCE, NOW)
    current = filings()
    for filing in current:
        queue.put(filing)
    rows = queue.select()
    before = list(rows)
    moved = queue.put(change(current[0], 0))  # most urgent first: it moves down
    span = reposition(rows, [moved], Sort.URGENCY, lambda e: True, before.index)
    assert span is not None
    first, last = span
    changed = [i for i, (a, b) in enumerate(zip(before, rows, strict=True)) if a is not b]
    assert changed and first <= min(changed) and max(changed) <= last


def test_no_reposition_when_the_order_moves_by_itself() -> None:
    # Estimates all move when a review closes, and a query on time left moves with the clock:
    # such orders are sorted whole again.
    from icp_tui.domain.query import parse_query

    assert not order_holds(Sort.ETA)
    assert not order_holds(Sort.URGENCY, parse_query("due:<2bd"))
    assert order_holds(Sort.URGENCY, parse_query("health:breached amy"))


def _ids(entries: list[QueueEntry]) -> list[str]:
    return [e.id for e in entries]


def _kept_orders_match_a_new_queue(changes: list[tuple[int, int]], hours: int) -> None:
    queue = Queue(REFERENCE, NOW)
    current = filings()
    for filing in current:
        queue.put(filing)
    for sort in Sort:  # every order kept, then changed under it
        queue.select(View.ALL, "", "amy", sort)
    for index, how in changes:
        current[index] = change(current[index], how)
        queue.put(current[index])
    later = NOW + timedelta(hours=hours)
    queue.refresh(later)
    fresh = Queue(REFERENCE, later)
    for filing in current:
        fresh.put(filing)
    for sort in Sort:
        for view in View:
            assert _ids(queue.select(view, "", "amy", sort)) == _ids(
                fresh.select(view, "", "amy", sort)
            ), (sort, view)


@settings(max_examples=40, deadline=None)
@given(
    changes=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 2)), max_size=8),
    hours=st.integers(0, 72),
)
def test_the_orders_kept_between_sorts_follow_changes_and_the_clock(
    changes: list[tuple[int, int]], hours: int
) -> None:
    # `s` reuses each order it sorted once; a change or a health moving with the clock must
    # still put the filing where a whole new sort would.
    _kept_orders_match_a_new_queue(changes, hours)


def test_the_orders_are_sorted_afresh_after_many_changes(monkeypatch: Any) -> None:
    import icp_tui.queue

    monkeypatch.setattr(icp_tui.queue, "MOVE_ONE_BY_ONE", 2)
    _kept_orders_match_a_new_queue([(n, n % 3) for n in range(0, 30, 3)], 30)


def test_an_order_kept_drops_a_filing_the_queue_drops() -> None:
    queue = Queue(REFERENCE, NOW)
    for filing in filings():
        queue.put(filing)
    for sort in Sort:
        queue.select(View.ALL, "", "amy", sort)
    queue.remove("ICP-2026-00004")
    for sort in Sort:
        assert "ICP-2026-00004" not in _ids(queue.select(View.ALL, "", "amy", sort))


def test_a_filing_dropped_and_put_back_is_in_every_kept_order_once() -> None:
    # The queue as it was drops a filing, a later step puts it back: a new entry, same id.
    queue = Queue(REFERENCE, NOW)
    current = filings()
    for filing in current:
        queue.put(filing)
    for sort in Sort:
        queue.select(View.ALL, "", "amy", sort)
    queue.remove("ICP-2026-00004")
    queue.put(current[4])
    for sort in Sort:
        assert _ids(queue.select(View.ALL, "", "amy", sort)).count("ICP-2026-00004") == 1


class _NoScan(list[QueueEntry]):
    """Rows that refuse a search along every row: a re-sort must find each by its key."""

    def index(self, *args: object) -> int:
        raise AssertionError("searched every row for one")


@settings(max_examples=60, deadline=None)
@given(
    sort=st.sampled_from([s for s in Sort if order_holds(s)]),
    changes=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 2)), max_size=8),
    hours=st.integers(0, 72),
)
def test_rows_changed_since_their_sort_are_found_by_the_key_they_were_sorted_under(
    sort: Sort, changes: list[tuple[int, int]], hours: int
) -> None:
    # A dashboard left alone re-sorts each minute the clock moves a health: finding each
    # changed row along 100,000 of them took ~4 ms a row, every minute, in every dashboard.
    queue = Queue(REFERENCE, NOW)
    current = filings()
    for filing in current:
        queue.put(filing)
    rows = _NoScan(queue.select(View.ALL, "", "amy", sort))
    key = sort_key(sort)
    placed: dict[str, Any] = {}  # as the dashboard notes them: the key of the first change
    for index, how in changes:
        placed.setdefault(current[index].id, key(queue.entries[current[index].id]))
        current[index] = change(current[index], how)
        queue.put(current[index])
    moved = queue.refresh(NOW + timedelta(hours=hours))
    for entry in moved:
        placed.setdefault(entry.id, key_before(sort, entry, queue.urgency_before[entry.id]))
    entries = [queue.entries[i] for i in placed]
    reposition(rows, entries, sort, lambda e: True, placed_position(rows, sort, placed))
    assert _ids(rows) == _ids(queue.select(View.ALL, "", "amy", sort))


def test_the_clock_going_back_and_forth_lists_each_filing_once_per_instant() -> None:
    # Steps in time move the clock back and forth on one queue: its re-check schedules must
    # not grow with each step (they held a filing once more under an instant at every cycle).
    queue = Queue(REFERENCE, NOW)
    for filing in filings():
        queue.put(filing)

    def listed() -> int:
        schedules = (queue._wakeups, queue._lookbacks)
        return sum(len(due) for schedule in schedules for due in schedule._due.values())

    later = NOW + timedelta(days=2)
    queue.refresh(later)
    queue.refresh(NOW)
    once = listed()
    for _ in range(4):
        queue.refresh(later)
        queue.refresh(NOW)
    assert listed() == once
    fresh = Queue(REFERENCE, NOW)
    for filing in filings():
        fresh.put(filing)
    assert [(e.id, e.health) for e in queue.select(View.ALL, actor="amy")] == [
        (e.id, e.health) for e in fresh.select(View.ALL, actor="amy")
    ]
