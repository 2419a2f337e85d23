"""Issue 16 in the dashboard: the approval estimate in the authority review pane, its column
and sort; the queue as it was, opened with --as-of or reached with the time keys, read-only
with a banner and every action key greyed out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Label
from ui_helpers import (
    ACTOR,
    DB,
    NOW,
    build_app,
    db_bytes,
    detail_text,
    hand_filing,
    highlight,
    notifications,
    screen_text,
    text_of,
    type_text,
    wait_for,
)

from icp_tui.config import Reference, Settings
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import add_note, advance
from icp_tui.queue import Queue, Sort
from icp_tui.services import fixed_clock
from icp_tui.store import FilingStore
from icp_tui.ui import timetravel
from icp_tui.ui.app import IcpApp, make_app
from icp_tui.ui.detail import StagePanes
from icp_tui.ui.messages import StoreChanged

MONDAY = NOW.replace(month=11, day=2, hour=10)
MakeDb = Callable[[Iterable[Filing]], Path]
WRITE_KEYS = ("advance", "withdraw", "note", "ticket", "take")


def queue_history() -> list[Filing]:
    """Five Hebei reviews decided (2, 3, 3, 5 and 9 bd after Mon 2026-11-02), one Hebei filing
    in review, one filing submitted an hour before NOW, and one noted 3 hours before NOW."""
    decided = []
    for n, days in enumerate([2, 3, 3, 5, 9], 1):
        f = hand_filing(n, Stage.AUTHORITY_REVIEW, province="Hebei", now=MONDAY)
        at = f.entered_at + timedelta(days=days + (2 if days > 3 else 0))  # a weekend between
        decided.append(advance(f, at, "carol", Stage.APPROVED, icp_number=f"冀ICP备2026{n:06d}号"))
    waiting = hand_filing(10, Stage.AUTHORITY_REVIEW, hours_ago=48, province="Hebei")
    recent = hand_filing(11, Stage.PRELIMINARY_REVIEW, hours_ago=1)
    noted = add_note(
        hand_filing(12, Stage.AWAITING_PHOTO, hours_ago=30), NOW - timedelta(hours=3), "bob", "rang"
    )
    return [*decided, waiting, recent, noted]


def as_of_app(reference: Reference, at: datetime) -> IcpApp:
    settings = Settings(db_path=DB)
    return make_app(DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR, as_of=at)


async def test_the_authority_review_pane_says_when_it_is_likely_approved(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db(queue_history())
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, "ICP-2026-00010")
        await wait_for(pilot, lambda: "ICP-2026-00010" in detail_text(app))
        text = " ".join(detail_text(app).replace("┃", " ").split())  # the pane wraps it
        # Entered Mon 2026-11-23 (48 h before NOW): 3 bd after is Thu 2026-11-26, 9 bd after
        # is Fri 2026-12-04.
        assert "likely approved 2026-11-26, 9 in 10 by 2026-12-04, from 5 reviews in Hebei" in text


def test_a_target_estimate_says_so(reference: Reference) -> None:
    filing = hand_filing(20, Stage.AUTHORITY_REVIEW, province="Zhejiang")
    entry = Queue(reference, NOW).put(filing)
    assert entry.eta is not None
    lines = StagePanes(filing, reference, NOW, entry.eta).panes()
    console = Console(width=200, record=True)
    for part in lines:
        console.print(part)
    text = console.export_text()
    assert "by target (30 bd in Zhejiang; only 0 reviews in the window" in text
    assert "already" not in text


def test_a_target_estimate_past_its_day_says_so(reference: Reference) -> None:
    filing = hand_filing(20, Stage.AUTHORITY_REVIEW, province="Zhejiang")
    later = NOW + timedelta(days=60)  # well past the 30 bd target
    entry = Queue(reference, later).put(filing)
    assert entry.eta is not None and entry.eta.p90 < later
    console = Console(width=200, record=True)
    for part in StagePanes(filing, reference, later, entry.eta).panes():
        console.print(part)
    text = console.export_text()
    assert "by target" in text and "past the target already" in text


async def test_the_authority_queue_shows_the_estimate_column_and_sorts_by_it(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db(queue_history())
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "LIKELY BY" not in screen_text(app)
        await pilot.press("5")
        await pilot.pause()
        assert "LIKELY BY" in screen_text(app)
        assert "2026-11-26" in screen_text(app)
        await pilot.press("1", "s", "s")
        await pilot.pause()
        assert app.dashboard.sort is Sort.ETA
        assert app.dashboard.table.rows[0].id == "ICP-2026-00010"  # the only one with an ETA
        assert "LIKELY BY" in screen_text(app)


async def test_opened_as_of_it_is_read_only_with_a_banner(
    make_db: MakeDb, reference: Reference
) -> None:
    path = make_db(queue_history())
    before = db_bytes(path)
    app = as_of_app(reference, NOW - timedelta(hours=2))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = screen_text(app)
        assert "The queue as it was at 2026-11-25 13:00 (Beijing)" in screen
        assert "READ-ONLY" in screen
        ids = {e.id for e in app.dashboard.table.rows}
        assert "ICP-2026-00011" not in ids  # submitted an hour before NOW: not yet there
        await highlight(pilot, "ICP-2026-00012")
        for action in WRITE_KEYS:
            assert app.dashboard.check_action(action, ()) is None, action  # greyed out
        await pilot.press("n", "a", "w", "o")
        await pilot.pause()
        assert app.screen is app.dashboard  # no dialog opened
        # The note made 3 hours before NOW is in the pane as of 2 hours before.
        assert "rang" in detail_text(app)
    assert db_bytes(path) == before


def test_a_step_forward_to_within_an_hour_of_now_comes_back_to_now() -> None:
    left = NOW - timedelta(hours=1)  # `[` pressed at NOW; `]` pressed 40 seconds later
    assert timetravel.stepped(left, 1, NOW + timedelta(seconds=40)) is None
    assert timetravel.stepped(left, 24, NOW) is None  # past now: now
    # Two hours back, one forward: still an hour back, however long the past was looked at.
    assert timetravel.stepped(left - timedelta(hours=1), 1, NOW + timedelta(minutes=5)) == left
    assert timetravel.stepped(NOW, -1, NOW) == left
    # `[`, `{`, then `}` a minute later: an hour back, not now (it once came back to now).
    day_and_hour = left - timedelta(days=1)
    assert timetravel.stepped(day_and_hour, 24, NOW + timedelta(minutes=1)) == left
    assert timetravel.stepped(NOW - timedelta(days=1), 24, NOW + timedelta(minutes=1)) is None


async def test_time_keys_step_jump_and_come_back(make_db: MakeDb, reference: Reference) -> None:
    path = make_db(queue_history())
    before = db_bytes(path)
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = lambda: {e.id for e in app.dashboard.table.rows}  # noqa: E731
        assert "ICP-2026-00011" in shown()
        assert app.dashboard.check_action("note", ()) is True
        await pilot.press("left_square_bracket")  # an hour back: before it was submitted
        await wait_for(pilot, lambda: app.as_of == NOW - timedelta(hours=1))
        assert "ICP-2026-00011" in shown()  # submitted exactly then: still there
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: app.as_of == NOW - timedelta(hours=2))
        assert "ICP-2026-00011" not in shown()
        assert "The queue as it was at 2026-11-25 13:00" in screen_text(app)
        assert app.dashboard.check_action("note", ()) is None
        # The note, 3 hours before NOW, goes once a day back (it was not written yet).
        await highlight(pilot, "ICP-2026-00012")
        await wait_for(pilot, lambda: "rang" in detail_text(app))
        await pilot.press("left_curly_bracket")
        await wait_for(pilot, lambda: app.as_of == NOW - timedelta(hours=26))
        await wait_for(pilot, lambda: "rang" not in detail_text(app))
        await pilot.press("right_curly_bracket")  # a day on: two hours back, not yet now
        await wait_for(pilot, lambda: app.as_of == NOW - timedelta(hours=2))
        await pilot.press("full_stop")  # back to now
        await wait_for(pilot, lambda: app.as_of is None)
        # A typed time; a wrong one keeps the dialog and its text.
        await pilot.press("at")
        await wait_for(pilot, lambda: app.screen is not app.dashboard)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "next week")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not app.dashboard
        error = app.screen.query_one("#prompt-error", Label)  # in the dialog, quoting the text
        assert error.display and "bad time 'next week'" in str(error.render())
        assert app.screen.query_one(Input).value == "next week"  # the text typed stays
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "2026-11-30 09:0")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "bad time '2026-11-30 09:0'" in str(error.render()))
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "2026-11-20 09:00")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.as_of == NOW.replace(day=20, hour=9))
        assert not {"ICP-2026-00010", "ICP-2026-00011"} & shown()
        # Back to now: the live queue, the keys act again, the banner is gone.
        await pilot.press("full_stop")
        await wait_for(pilot, lambda: app.as_of is None)
        assert "ICP-2026-00011" in shown()
        assert "The queue as it was" not in screen_text(app)
        assert app.dashboard.check_action("note", ()) is True
        # Stepping forward past now comes back to now too.
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: app.as_of is not None)
        await pilot.press("right_curly_bracket")
        await wait_for(pilot, lambda: app.as_of is None)
    assert db_bytes(path) == before


async def test_keys_pressed_while_a_step_is_worked_out_go_on_from_where_it_arrives(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db(queue_history())
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        worked_out: list[tuple[datetime | None, datetime | None]] = []
        release = threading.Event()
        changes = app.machine.changes

        def slow(since: datetime | None, at: datetime | None) -> list[timetravel.Change]:
            worked_out.append((since, at))
            release.wait(30)  # a long step: the keys below are pressed while it runs
            return changes(since, at)

        app.machine.changes = slow  # type: ignore[method-assign]
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: worked_out)
        await pilot.press("left_square_bracket", "left_curly_bracket")
        release.set()
        reached = NOW - timedelta(hours=1 + 1 + 24)
        await wait_for(pilot, lambda: app.as_of == reached)
        await pilot.pause()
        # The first step, then one from where it arrived to the last instant asked: not a
        # step from now for each key, each thrown away once the next arrived.
        assert worked_out == [
            (None, NOW - timedelta(hours=1)),
            (NOW - timedelta(hours=1), reached),
        ]
        assert "The queue as it was at 2026-11-24 13:00" in screen_text(app)


async def test_a_step_that_fails_leaves_the_live_queue_following_others_changes(
    make_db: MakeDb, reference: Reference
) -> None:
    path = make_db(queue_history())
    app = build_app(reference)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:

        def broken(since: datetime | None, at: datetime | None) -> list[timetravel.Change]:
            # Someone moves a filing while the step is worked out, and the dashboard reads it
            # (held back: the queue is on its way to the past); then the step fails.
            FilingStore(path).commit(
                "ICP-2026-00011", lambda f: advance(f, NOW, "bob", Stage.AWAITING_PHOTO)
            )
            read = StoreChanged(app.service.poll())
            app.call_from_thread(app.dashboard._store_changed, read)  # handled before the end
            raise RuntimeError("the disk went away")

        app.machine.changes = broken  # type: ignore[method-assign]
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: any("failed" in n for n in notifications(app)))
        stage = lambda: app.dashboard.queue.entries["ICP-2026-00011"].stage  # noqa: E731
        await wait_for(pilot, lambda: stage() is Stage.AWAITING_PHOTO)
        assert app.as_of is None and not app.away_from_now
        assert "The queue as it was" not in screen_text(app)


#: Every key that changes a filing: each is greyed out in the past.
ACTION_KEYS = ("a", "w", "n", "t", "u", "o", "A", "x", "v")
PAST = "Viewing the past: press . to come back to now"


def detail_words(app: IcpApp) -> str:
    """The side pane's words, however its lines wrap."""
    return " ".join(detail_text(app).split())


def full_detail_words(app: IcpApp) -> str:
    """The words of the full-screen detail (a narrow terminal), however its lines wrap."""
    detail = app.screen.query_one("#detail")
    return " ".join(text_of(detail.query_one("#detail-header")).split())


async def test_in_the_past_a_greyed_key_says_why_and_the_advice_offers_no_key(
    make_db: MakeDb, reference: Reference
) -> None:
    path = make_db(queue_history())
    before = db_bytes(path)
    app = build_app(reference)
    async with app.run_test(size=(170, 40)) as pilot:  # the side pane of the user trial
        await highlight(pilot, "ICP-2026-00012")
        await wait_for(pilot, lambda: "next:" in detail_text(app))
        assert "a once it is uploaded" in detail_words(app)  # live, the advice names the key
        await pilot.press("left_curly_bracket")
        await wait_for(pilot, lambda: app.as_of is not None)
        await wait_for(pilot, lambda: "a once it is uploaded" not in detail_words(app))
        assert "next: wait for the administrator photo" in detail_words(app)
        for key in ACTION_KEYS:
            await pilot.press(key)
            await wait_for(pilot, lambda: notifications(app)[-1:] == [PAST])
            assert app.screen is app.dashboard, key  # no dialog opened
            app.clear_notifications()
        await pilot.press("full_stop")
        await wait_for(pilot, lambda: app.as_of is None)
        await wait_for(pilot, lambda: "a once it is uploaded" in detail_words(app))
    assert db_bytes(path) == before


async def test_in_the_past_the_full_screen_detail_offers_no_key_either(
    make_db: MakeDb, reference: Reference
) -> None:
    path = make_db(queue_history())
    before = db_bytes(path)
    app = as_of_app(reference, NOW - timedelta(hours=2))
    async with app.run_test(size=(80, 24)) as pilot:  # narrow: enter opens the detail
        await highlight(pilot, "ICP-2026-00012")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not app.dashboard)
        await wait_for(pilot, lambda: "next:" in full_detail_words(app))
        words = full_detail_words(app)
        assert "next: wait for the administrator photo" in words
        assert "a once it is uploaded" not in words
        await pilot.press("a")
        await wait_for(pilot, lambda: notifications(app)[-1:] == [PAST])
    assert db_bytes(path) == before


async def test_in_the_past_refreshed_says_when_the_database_was_read_not_the_instant_shown(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db(queue_history())
    app = build_app(reference)  # its clock stands at NOW, 15:00
    polls: list[object] = []
    real_poll = app.service.poll

    def poll() -> list[Filing] | None:
        polls.append(None)
        return real_poll()

    app.service.poll = poll  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.dashboard.query_one("#status")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: app.as_of == NOW - timedelta(hours=2))
        await wait_for(pilot, lambda: "as it was at 2026-11-25 13:00 Beijing" in text_of(status))
        read = len(polls)
        await wait_for(pilot, lambda: len(polls) >= read + 2)  # a poll told since, whole
        await pilot.pause()
        assert "refreshed 15:00" in text_of(status)
        await pilot.press("full_stop")
        await wait_for(pilot, lambda: app.as_of is None)
        await wait_for(pilot, lambda: "as it was" not in text_of(status))
        assert " 2026-11-25 15:00 Beijing" in text_of(status)
