"""The queue keeps each province's reviews and the estimates of the filings in review: a review
closing (or its decision undone) moves its province's estimates at once, the clock tick never
recomputes them, and the window moving a day drops the reviews that left it."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timedelta

from unit_helpers import S, bj

from icp_tui.config import Settings, load_reference
from icp_tui.domain import transitions as t
from icp_tui.domain.estimate import Basis
from icp_tui.domain.filing import EntityType, Filing
from icp_tui.queue import Queue

REFERENCE = load_reference(Settings())
NOW = bj(2026, 11, 25, 15)


def in_review(number: int, entered: datetime, province: str = "Hebei") -> Filing:
    start = entered - timedelta(hours=1)
    f = t.submit(f"ICP-2026-{number:05d}", f"s{number}.cn", "E", EntityType.COMPANY, province,
                 start, "amy")  # fmt: skip
    for step in range(4):
        f = t.advance(f, start + timedelta(minutes=step + 1), "amy")
    return t.advance(f, entered, "amy")


def approve(f: Filing, at: datetime) -> Filing:
    return t.advance(f, at, "amy", S.APPROVED, icp_number=f"冀ICP备2026{int(f.id[-5:]):06d}号")


def test_a_review_closing_moves_the_estimates_of_its_province_only() -> None:
    queue = Queue(REFERENCE, NOW)
    for n in range(1, 5):
        queue.put(approve(in_review(n, bj(2026, 11, 2, 10)), bj(2026, 11, 5, 10)))  # 3 bd
    waiting = queue.put(in_review(10, bj(2026, 11, 23, 10)))
    other = queue.put(in_review(11, bj(2026, 11, 23, 10), province="Zhejiang"))
    assert waiting.eta is not None and waiting.eta.basis is Basis.TARGET  # 4 reviews only
    zhejiang = other.eta
    fifth = in_review(5, bj(2026, 11, 2, 10))
    closed = approve(fifth, bj(2026, 11, 5, 11))
    queue.put(closed)
    assert waiting.eta is not None and waiting.eta.basis is Basis.HISTORY
    assert waiting.eta.p50_days == 3 and waiting.eta.samples == 5
    assert other.eta is zhejiang  # another province: not recomputed
    # The decision undone: the review is open again, the estimate back to the target.
    reopened = t.undo(closed, fifth, closed.version, bj(2026, 11, 5, 11, 2), "amy")
    queue.put(reopened)
    assert waiting.eta is not None and waiting.eta.basis is Basis.TARGET
    assert queue.entries[fifth.id].eta is not None  # in review again: it has one itself


def test_the_clock_tick_does_not_recompute_estimates() -> None:
    queue = Queue(REFERENCE, NOW)
    with queue.loading():
        for n in range(1, 6):
            queue.put(approve(in_review(n, bj(2026, 11, 2, 10)), bj(2026, 11, 5, 10)))
        waiting = queue.put(in_review(10, bj(2026, 11, 23, 10)))
    estimate = waiting.eta
    assert estimate is not None and estimate.basis is Basis.HISTORY
    for seconds in range(1, 60):
        queue.refresh(NOW + timedelta(seconds=seconds))
    assert waiting.eta is estimate
    # 180 days after the decisions the window has left them behind.
    queue.refresh(bj(2027, 5, 5, 9))
    assert waiting.eta is not None and waiting.eta.basis is Basis.TARGET
    assert waiting.eta.samples == 0


def test_the_likely_approval_order_follows_estimates_moved_by_a_review_closing() -> None:
    # `s` keeps each order it sorted; estimates move by themselves when a review closes, so
    # the likely-approval order is sorted again, not kept.
    from icp_tui.queue import Sort, View

    queue = Queue(REFERENCE, NOW)
    for n in range(1, 5):
        queue.put(approve(in_review(n, bj(2026, 11, 2, 10)), bj(2026, 11, 5, 10)))  # 3 bd
    queue.put(in_review(10, bj(2026, 11, 23, 10)))  # Hebei: by its target, for want of reviews
    queue.put(in_review(11, bj(2026, 10, 26, 10), province="Zhejiang"))

    def by_eta() -> list[str]:
        return [e.id for e in queue.select(View.AUTHORITY, "", "amy", Sort.ETA)]

    assert by_eta() == ["ICP-2026-00011", "ICP-2026-00010"]
    queue.put(approve(in_review(5, bj(2026, 11, 2, 10)), bj(2026, 11, 5, 11)))  # Hebei: 3 bd
    assert by_eta() == ["ICP-2026-00010", "ICP-2026-00011"]


def test_a_queue_let_go_is_freed_without_the_cycle_collector() -> None:
    """The dashboard freezes what it holds (collector.py), and no collection scans what is
    frozen: a queue it replaces (a database read afresh) must be freed by reference counting
    alone, so its entries in review hold its estimates without holding it in a cycle."""
    queue = Queue(REFERENCE, NOW)
    for n in range(3):
        queue.put(in_review(n, NOW - timedelta(days=3 + n)))
    assert all(entry.eta is not None for entry in queue.entries.values())
    gone = weakref.ref(queue)
    gc.disable()
    try:
        del queue
        assert gone() is None
    finally:
        gc.enable()
