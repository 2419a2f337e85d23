"""The first rows of a large dashboard (`most_urgent`) are the first rows of its whole queue,
and its counts are the whole queue's, at any instant: they are what the dashboard shows until
the whole queue is built."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import bj

from icp_tui.config import Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.sla import Deadlines
from icp_tui.domain.summary import summarize
from icp_tui.queue import Queue, most_urgent

REFERENCE = load_reference(Settings())
MADE_AT = bj(2026, 11, 25, 15)
SUMMARIES = [
    summarize(f)
    for f in generate_filings(400, MADE_AT, REFERENCE.policy, REFERENCE.provinces, seed=3)
]


def whole_queue(at_hours: float) -> Queue:
    queue = Queue(REFERENCE, MADE_AT + timedelta(hours=at_hours))
    with queue.loading():
        for summary in SUMMARIES:
            queue.put(summary)
    return queue


# From the day before to a week and a half after the demo was made: midnights, a weekend, the
# SMS check's hours, breaches as they come.
LATER = st.floats(min_value=-24, max_value=260, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(at_hours=LATER, count=st.sampled_from([1, 7, 40, 399, 400, 1000]))
def test_the_first_rows_are_the_whole_queues_first_rows_and_counts(
    at_hours: float, count: int
) -> None:
    now = MADE_AT + timedelta(hours=at_hours)
    whole = whole_queue(at_hours)
    first, counts = most_urgent(SUMMARIES, REFERENCE, now, count)
    assert [e.id for e in first.select()] == [e.id for e in whole.select()[:count]]
    assert counts == whole.counts()
    assert counts.total() == len(SUMMARIES)
    # The entries shown are the whole queue's in every column the table draws.
    for entry in first.select():
        other = whole.entries[entry.id]
        assert (entry.health, entry.escalate, entry.times, entry.expires_at) == (
            other.health,
            other.escalate,
            other.times,
            other.expires_at,
        )


@settings(max_examples=40, deadline=None)
@given(at_hours=LATER)
def test_urgency_is_the_health_and_sort_key_of_the_sla_instants(at_hours: float) -> None:
    stamp = (MADE_AT + timedelta(hours=at_hours)).timestamp()
    deadlines = Deadlines(REFERENCE.policy)
    for summary in SUMMARIES:
        times = deadlines.times(summary)
        health = times.health(stamp)
        assert deadlines.urgency(summary, stamp) == (health, times.sort_key(health))
