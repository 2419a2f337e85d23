"""Issue 12 on the dashboard: the ICP number and reason dialogs, the SMS-resent key, and the
detail's SMS clock, submissions and ICP number. Keys are pressed, then the store is read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Label
from ui_helpers import (
    ACTOR,
    NOW,
    build_app,
    hand_filing,
    notifications,
    settle,
    stored,
    type_text,
    wait_for,
)

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import advance
from icp_tui.ui.app import DashboardScreen, IcpApp
from icp_tui.ui.detail import StagePanes
from icp_tui.ui.modals import AdvanceScreen, ReasonScreen, TextPromptScreen

MakeDb = Callable[[Iterable[Filing]], Path]


def detail_text(filing: Filing, reference: Reference, now_offset: timedelta) -> str:
    console = Console(record=True, width=100, color_system=None)
    console.print(StagePanes(filing, reference, filing.entered_at + now_offset).render())
    return console.export_text()


async def test_approving_asks_for_the_icp_number_and_keeps_the_letters_in_the_dialog(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, AdvanceScreen)
        await pilot.press("y")  # approved is preselected
        screen = app.screen
        assert isinstance(screen, TextPromptScreen)
        box = screen.query_one(Input)
        assert screen.focused is box  # the text field takes the focus at once
        await type_text(pilot, "aqwy")  # dashboard keys: none may reach the dashboard
        assert app.screen is screen and box.value == "aqwy"
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "京ICP备2026000001号-1")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    saved = stored(db, "ICP-2026-00001")
    assert (saved.stage, saved.icp_number) == (Stage.APPROVED, "京ICP备2026000001号-1")


def prompt_error(app: IcpApp) -> Label:
    return app.screen.query_one("#prompt-error", Label)


async def test_a_wrong_icp_number_is_refused_and_nothing_is_saved(
    make_db: MakeDb, reference: Reference
) -> None:
    filing = hand_filing(1, Stage.AUTHORITY_REVIEW)
    db = make_db([filing])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "y")
        await type_text(pilot, "浙ICP备2026000001号")  # Zhejiang's, for a Beijing filing
        await pilot.press("enter")
        # The error shows in the dialog, which stays with the text to be corrected.
        await wait_for(pilot, lambda: "expected 京ICP备" in str(prompt_error(app).render()))
        assert prompt_error(app).display and not notifications(app)
        assert isinstance(app.screen, TextPromptScreen)
        assert app.screen.query_one(Input).value == "浙ICP备2026000001号"
        assert stored(db, "ICP-2026-00001") == filing
        await pilot.press(*["backspace"] * 17)
        await type_text(pilot, "京ICP备2026000001号")
        await pilot.press("enter")
        await wait_for(pilot, lambda: stored(db, "ICP-2026-00001").stage is Stage.APPROVED)


async def test_v_outside_the_sms_check_says_why(make_db: MakeDb, reference: Reference) -> None:
    filing = hand_filing(1, Stage.AUTHORITY_REVIEW)
    db = make_db([filing])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await wait_for(pilot, lambda: any("not in the SMS check" in n for n in notifications(app)))
    assert stored(db, "ICP-2026-00001") == filing


async def test_returning_offers_the_reasons_with_free_text_for_other(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    offered = reference.reasons.offered(Stage.RETURNED)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "down", "y")  # awaiting_submission, then returned
        screen = app.screen
        assert isinstance(screen, ReasonScreen)
        assert screen.reasons == list(offered)
        await pilot.press(*["down"] * offered.index("other"), "enter")
        box = screen.query_one("#other-reason", Input)
        assert screen.focused is box
        await type_text(pilot, "logo too small, say so")  # o, t, s, m, a, y, n are letters
        assert app.screen is screen and box.value == "logo too small, say so"
        await pilot.press("enter", "y")
        await settle(pilot)
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.RETURNED
    assert saved.last_move.reason == "other: logo too small, say so"


async def test_v_records_a_resent_sms(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.SMS_VERIFICATION, hours_ago=23)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await settle(pilot)
        assert app.dashboard.table.current is not None
        assert app.dashboard.table.current.health.value == "on_track"  # 24 h again
    saved = stored(db, "ICP-2026-00001")
    assert saved.sms_sent_at == NOW
    assert (saved.history[-1].reason, saved.history[-1].by) == ("SMS resent", ACTOR)


async def test_v_is_greyed_out_outside_the_sms_check(make_db: MakeDb, reference: Reference) -> None:
    filing = hand_filing(1, Stage.PHOTO_REVIEW)
    db = make_db([filing])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.dashboard.check_action("sms_resent", ()) is None
        await pilot.press("v")
        await settle(pilot)
    assert stored(db, "ICP-2026-00001") == filing


def test_the_sms_pane_agrees_with_the_queue_at_24_hours(reference: Reference) -> None:
    filing = hand_filing(1, Stage.SMS_VERIFICATION)
    at_24 = detail_text(filing, reference, timedelta(hours=24))
    assert "24 of 24 h: breached" in at_24 and "running" not in at_24
    at_23_6 = detail_text(filing, reference, timedelta(hours=23, minutes=36))
    assert "23 of 24 h: running" in at_23_6  # whole hours, never rounded up


def test_the_detail_reads_the_history_per_submission(reference: Reference) -> None:
    filing = hand_filing(1, Stage.PRELIMINARY_REVIEW, hours_ago=5)
    filing = advance(filing, NOW - timedelta(hours=4), ACTOR, Stage.RETURNED, "materials missing")
    filing = advance(filing, NOW - timedelta(hours=3), ACTOR)
    text = detail_text(filing, reference, timedelta(hours=3))
    assert "Submission 1 of 2" in text and "Submission 2 of 2" in text
    assert text.index("Submission 1 of 2") < text.index("materials missing")
    assert text.index("materials missing") < text.index("Submission 2 of 2")


def test_the_approved_pane_shows_the_icp_number(reference: Reference) -> None:
    filing = hand_filing(1, Stage.APPROVED)
    assert "京ICP备2026000001号" in detail_text(filing, reference, timedelta(hours=1))


async def test_the_queue_shows_the_order_expiry(make_db: MakeDb, reference: Reference) -> None:
    make_db([hand_filing(1, Stage.AWAITING_PHOTO, hours_ago=24 * 35)])  # first submitted 35 d ago
    app = build_app(reference)
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        line = app.dashboard.table.render_line(1).text
        assert "expires in" in line, line  # the flags column may cut the rest
