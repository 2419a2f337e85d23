"""The dashboard driven with the keys a member of staff uses, checked against the stored database.

Saves run in a worker thread; every test waits for them, then reads the database through a
fresh FilingStore handle: what is on disk is what the next user (and the audit) will see.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Input, OptionList, Static
from ui_helpers import (
    ACTOR,
    DB,
    NOW,
    build_app,
    db_bytes,
    deny_writes,
    detail_text,
    first,
    hand_filing,
    highlight,
    lasting_toasts,
    notifications,
    screen_text,
    settle,
    stored,
    text_of,
    type_text,
    wait_for,
)

from icp_tui.config import Reference, Settings
from icp_tui.domain.filing import Filing
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import WITHDRAW_REASONS, Stage, rule
from icp_tui.domain.transitions import add_note, advance
from icp_tui.queue import Sort
from icp_tui.services import fixed_clock
from icp_tui.store import FilingStore
from icp_tui.ui import dashboard as dashboard_module
from icp_tui.ui.app import DashboardScreen, IcpApp, make_app
from icp_tui.ui.detail import FilingDetail
from icp_tui.ui.modals import (
    AdvanceScreen,
    DetailScreen,
    HelpScreen,
    ReasonScreen,
    TextPromptScreen,
    WithdrawScreen,
)
from icp_tui.ui.status import StatusLine

MakeDb = Callable[[Iterable[Filing]], Path]


def current_id(app: IcpApp) -> str | None:
    entry = app.dashboard.table.current
    return entry.id if entry else None


def current_stage(app: IcpApp) -> Stage | None:
    entry = app.dashboard.table.current
    return entry.stage if entry else None


# -- advance ---------------------------------------------------------------------------------------


async def test_advance_moves_the_highlighted_filing_to_the_next_stage(
    make_db: MakeDb, reference: Reference
) -> None:
    filings = [hand_filing(1, Stage.AUTHORITY_REVIEW), hand_filing(2, Stage.PRELIMINARY_REVIEW)]
    db = make_db(filings)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00002")
        await pilot.press("a")
        assert isinstance(app.screen, AdvanceScreen)
        options = app.screen.query_one(OptionList)
        assert options.highlighted is not None
        assert app.screen.targets[options.highlighted] is Stage.AWAITING_PHOTO  # preselected
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.dashboard.table.current is not None
        assert app.dashboard.table.current.stage is Stage.AWAITING_PHOTO
    saved = stored(db, "ICP-2026-00002")
    assert saved.stage is Stage.AWAITING_PHOTO
    assert saved.version == filings[1].version + 1
    last = saved.history[-1]
    assert (last.by, last.source, last.target) == (
        ACTOR,
        Stage.PRELIMINARY_REVIEW,
        Stage.AWAITING_PHOTO,
    )
    assert last.at == NOW
    assert stored(db, "ICP-2026-00001") == filings[0]


async def test_advance_to_another_allowed_stage(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "down", "y")  # awaiting_photo, then returned
        assert isinstance(app.screen, ReasonScreen)  # issue 12: returning needs a reason
        await pilot.press("y")  # the first listed reason
        await settle(pilot)
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.RETURNED
    assert saved.last_move.reason == reference.reasons.offered(Stage.RETURNED)[0]


# -- withdraw --------------------------------------------------------------------------------------


async def test_withdraw_with_a_listed_reason(make_db: MakeDb, reference: Reference) -> None:
    filing = hand_filing(1, Stage.PHOTO_REVIEW)
    db = make_db([filing])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w")
        assert isinstance(app.screen, WithdrawScreen)
        await pilot.press("down")  # applicant request -> duplicate application
        assert WITHDRAW_REASONS[1] == "duplicate application"
        await pilot.press("y")
        await settle(pilot)
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.WITHDRAWN
    assert saved.history[-1].reason == "duplicate application"
    assert saved.history[-1].by == ACTOR
    assert saved.version == filing.version + 1


async def test_withdraw_for_another_reason_asks_for_the_words(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w", *["down"] * WITHDRAW_REASONS.index("other"))
        screen = app.screen
        assert isinstance(screen, WithdrawScreen)
        box = screen.query_one("#other-reason", Input)
        assert box.display
        assert screen.focused is box  # the box takes the keys as soon as it appears
        # enter before any words: refused with a hint, the box keeps the focus, nothing saved
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.focused is box
        assert any("Type the reason" in n for n in notifications(app))
        # y and n are letters while typing, not answers
        await type_text(pilot, "company renamed, yes")
        assert app.screen is screen
        assert box.value == "company renamed, yes"
        await pilot.press("enter", "y")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    assert before != db_bytes(db)
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.WITHDRAWN
    assert saved.history[-1].reason == "other: company renamed, yes"


@pytest.mark.parametrize("stage", [Stage.SMS_VERIFICATION, Stage.AUTHORITY_REVIEW])
async def test_withdraw_refused_once_submitted_to_the_authority(
    make_db: MakeDb, reference: Reference, stage: Stage
) -> None:
    db = make_db([hand_filing(1, stage)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)  # no modal
        said = notifications(app)
        assert len(said) == 1
        assert "communications administration" in said[0]
        assert "ICP-2026-00001" in said[0]
        # and pressing y (as if a modal had opened) changes nothing either
        await pilot.press("y")
        await settle(pilot)
    assert db_bytes(db) == before


async def test_write_keys_are_greyed_out_where_they_do_not_apply(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db(
        [
            hand_filing(1, Stage.AUTHORITY_REVIEW),
            hand_filing(2, Stage.PRELIMINARY_REVIEW, hours_ago=1),
            hand_filing(3, Stage.APPROVED, hours_ago=3),
        ]
    )
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.dashboard
        await highlight(pilot, "ICP-2026-00001")
        assert screen.check_action("withdraw", ()) is None
        assert screen.check_action("explain", ("withdraw",)) is True
        assert screen.check_action("advance", ()) is True
        assert screen.check_action("ticket", ()) is None
        assert screen.check_action("note", ()) is True
        assert screen.check_action("undo", ()) is None  # nothing of ours to undo yet
        await highlight(pilot, "ICP-2026-00002")
        assert screen.check_action("withdraw", ()) is True
        assert screen.check_action("explain", ("withdraw",)) is False
        await highlight(pilot, "ICP-2026-00003")
        assert screen.check_action("advance", ()) is None
        assert screen.check_action("withdraw", ()) is None
        # the footer shows the disabled bindings greyed out, not hidden
        await highlight(pilot, "ICP-2026-00001")
        active = app.screen.active_bindings
        assert (active["w"].binding.action, active["w"].enabled) == ("withdraw", False)
        assert (active["a"].binding.action, active["a"].enabled) == ("advance", True)
        keys = {k.key: k for k in app.screen.query("FooterKey")}
        assert keys["w"].has_class("-disabled")
        assert not keys["a"].has_class("-disabled")


@pytest.mark.parametrize(
    ("colour", "struck"),
    [("NO_COLOR=1", True), ("TERM=xterm", False), ("TERM=xterm-256color", False)],
)
async def test_without_colours_a_greyed_key_is_struck_through(
    make_db: MakeDb,
    reference: Reference,
    monkeypatch: pytest.MonkeyPatch,
    colour: str,
    struck: bool,
) -> None:
    """NO_COLOR turns a greyed key's colour into a grey a shade off the others' (16 colours
    keep white against bright white)."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv(*colour.split("="))
    make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])  # withdrawing is refused there
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        keys = {k.key: k for k in app.screen.query("FooterKey")}
        assert keys["w"].has_class("-disabled") and not keys["a"].has_class("-disabled")
        assert bool(keys["w"].rich_style.strike) is struck
        assert not keys["a"].rich_style.strike


async def test_footer_is_rebuilt_only_when_the_keys_it_shows_change(
    make_db: MakeDb, reference: Reference
) -> None:
    """Rebuilding the footer lays the whole screen out again: being told that the keys may
    have changed, when they have not (the focus coming back from the query box tells it
    twice), must not do it, and a row whose keys differ must still grey them out."""
    make_db(
        [
            hand_filing(1, Stage.AUTHORITY_REVIEW),
            hand_filing(2, Stage.PRELIMINARY_REVIEW, hours_ago=1),
        ]
    )
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, "ICP-2026-00002")
        await pilot.pause()

        def footer_keys() -> dict[str, Any]:
            return {k.key: k for k in app.screen.query("FooterKey")}

        shown = footer_keys().keys()
        await pilot.press("slash", "escape")  # into the query box and back to the table
        await pilot.pause()
        before = footer_keys()
        assert before.keys() == shown
        assert not before["w"].has_class("-disabled")
        app.screen.refresh_bindings()  # told, with nothing changed
        await pilot.pause()
        after = footer_keys()
        assert all(after[k] is before[k] for k in before)  # the same keys, not rebuilt
        await highlight(pilot, "ICP-2026-00001")  # with the authority: no withdrawing
        await wait_for(pilot, lambda: footer_keys()["w"].has_class("-disabled"))
        assert not footer_keys()["a"].has_class("-disabled")
        # Only which keys apply changed: greyed out in place, the same keys kept.
        assert all(footer_keys()[k] is before[k] for k in before)
        await highlight(pilot, "ICP-2026-00002")  # and back: withdrawing applies again
        await wait_for(pilot, lambda: not footer_keys()["w"].has_class("-disabled"))
        assert all(footer_keys()[k] is before[k] for k in before)


async def test_advance_on_a_closed_filing_explains(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.APPROVED)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert any("closed filing does not move" in n for n in notifications(app))
    assert db_bytes(db) == before


# -- notes and tickets -----------------------------------------------------------------------------


async def test_note_is_stored_exactly_as_typed(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    text = "[red]hi[/red] [b]bold?[/b] 50% done q y n /"
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, TextPromptScreen)
        await type_text(pilot, text)
        assert isinstance(app.screen, TextPromptScreen)  # q, / and ? stayed letters
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    saved = stored(db, "ICP-2026-00001")
    assert [(n.text, n.by, n.at) for n in saved.notes] == [(text, ACTOR, NOW)]
    assert saved.stage is Stage.AUTHORITY_REVIEW


async def test_pasted_note_with_control_characters_is_stored_and_shown_inert(
    make_db: MakeDb, reference: Reference
) -> None:
    """A paste is how escape sequences reach the prompt; they are kept, and shown visibly."""
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    text = "[red]hi[/red] \x1b]0;pwned\x07"
    app = build_app(reference)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("n")
        box = app.screen.query_one(Input)
        box.post_message(events.Paste(text))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        saved = stored(db, "ICP-2026-00001")
        assert [(n.text, n.by) for n in saved.notes] == [(text, ACTOR)]  # exactly as pasted
        # the detail beside the table shows the note as characters, never as markup or escapes
        await pilot.pause(0.1)
        body = app.dashboard.query_one("#detail-body", Static)
        rendered = text_of(body)
        assert "[red]hi[/red]" in rendered
        assert "\x1b" not in rendered and "\x07" not in rendered


async def test_empty_note_is_not_saved(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "space", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TextPromptScreen)
        assert any("Nothing typed" in n for n in notifications(app))
        await pilot.press("escape")
        await settle(pilot)
    assert db_bytes(db) == before


async def test_ticket_on_an_escalated_filing(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        entry = next(e for e in app.dashboard.queue.entries.values() if e.needs_ticket)
        await highlight(pilot, entry.id)
        await pilot.press("t")
        assert isinstance(app.screen, TextPromptScreen)
        await type_text(pilot, "T-123")
        await pilot.press("enter")
        await settle(pilot)
        row = app.dashboard.table.current
        assert row is not None and row.id == entry.id and row.ticket == "T-123"
        assert "ticket T-123" in row.flags()
    saved = stored(demo_db, entry.id)
    before = next(f for f in demo if f.id == entry.id)
    assert saved.ticket == "T-123"
    assert saved.version == before.version + 1
    assert saved.updated_by == ACTOR


async def test_ticket_key_does_nothing_on_a_filing_that_is_not_escalated(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert any("does not need a ticket" in n for n in notifications(app))
        await type_text(pilot, "T-123")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, (DashboardScreen, DetailScreen))
    assert db_bytes(db) == before


# -- cancelling ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "modal"),
    [
        (("a", "escape"), AdvanceScreen),
        (("a", "n"), AdvanceScreen),
        (("w", "escape"), WithdrawScreen),
        (("w", "n"), WithdrawScreen),
        (("w", "down", "down", "down", "down", "enter", "x", "escape"), WithdrawScreen),
        (("n", "h", "i", "escape"), TextPromptScreen),
        (("n", "n", "o", "escape"), TextPromptScreen),
    ],
    ids=[
        "advance-escape",
        "advance-n",
        "withdraw-escape",
        "withdraw-n",
        "withdraw-other-typing-escape",
        "note-escape",
        "note-typed-n-escape",
    ],
)
async def test_cancel_leaves_the_database_untouched(
    make_db: MakeDb, reference: Reference, keys: tuple[str, ...], modal: type
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(keys[0])
        assert isinstance(app.screen, modal)
        await pilot.press(*keys[1:])
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.service.last_change is None
    assert db_bytes(db) == before


async def test_cancel_a_ticket(demo_db: Path, reference: Reference) -> None:
    before = db_bytes(demo_db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        entry = next(e for e in app.dashboard.queue.entries.values() if e.needs_ticket)
        await highlight(pilot, entry.id)
        await pilot.press("t", "T", "escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    assert db_bytes(demo_db) == before


# -- filter and sort -------------------------------------------------------------------------------


async def test_filter_as_you_type_then_escape(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        everything = [e.id for e in table.rows]
        assert len(everything) == 40
        await pilot.press("slash")
        await type_text(pilot, "dingsheng")
        await pilot.pause()
        shown = table.rows
        assert 0 < len(shown) < len(everything)
        assert all("dingsheng" in (e.domain + e.entity).casefold() for e in shown)
        # the same order as before, only fewer
        assert [e.id for e in shown] == [i for i in everything if i in {e.id for e in shown}]
        await pilot.press("escape")
        await pilot.pause()
        assert [e.id for e in table.rows] == everything
        assert not app.dashboard.query_one("#filter", Input).display
        assert app.focused is table


async def test_filter_by_entity_in_chinese_and_by_id(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        await pilot.press("slash")
        box = app.dashboard.query_one("#filter", Input)
        box.insert_text_at_cursor("鼎盛")  # typed through an input method
        await pilot.pause()
        assert table.rows and all("鼎盛" in e.entity for e in table.rows)
        await pilot.press("escape", "slash")
        await type_text(pilot, "ICP-2026-00007")
        await pilot.press("enter")
        await pilot.pause()
        assert [e.id for e in table.rows] == ["ICP-2026-00007"]
        assert app.focused is table
        await pilot.press("escape")
        await pilot.pause()
        assert len(table.rows) == 40
        assert current_id(app) == "ICP-2026-00007"  # the cursor stayed on it


async def test_filter_matching_nothing_leaves_no_action(
    demo_db: Path, reference: Reference
) -> None:
    before = db_bytes(demo_db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "no-such-filing")
        await pilot.press("enter")
        await pilot.pause()
        assert app.dashboard.table.rows == []
        for key in "awnt":
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
    assert db_bytes(demo_db) == before


def _expected_order(app: IcpApp, sort: Sort) -> list[str]:
    entries = list(app.dashboard.queue.entries.values())
    stage_index = {s: i for i, s in enumerate(Stage)}
    keys: dict[Sort, Callable[..., object]] = {
        Sort.URGENCY: lambda e: e.urgency(),
        # No due date (waiting, closed) sorts last; every tie stays most urgent first.
        Sort.DUE: lambda e: (e.times.due_at or NOW.replace(year=9999), *e.urgency()),
        # Likely approval: only filings with the authority have one; the others sort last.
        Sort.ETA: lambda e: (e.eta.p50 if e.eta else NOW.replace(year=9999), *e.urgency()),
        Sort.STAGE: lambda e: (stage_index[e.stage], *e.urgency()),
        Sort.PROVINCE: lambda e: (e.province, *e.urgency()),
        Sort.ID: lambda e: e.id,
    }
    return [e.id for e in sorted(entries, key=keys[sort])]  # type: ignore[arg-type,return-value]


async def test_sort_cycles_and_rows_follow(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.dashboard
        table = screen.table
        ids = [e.id for e in table.rows]
        assert screen.sort is Sort.URGENCY
        assert ids == _expected_order(app, Sort.URGENCY)
        # most urgent first: the breached rows are on top, most overdue first
        healths = [e.health for e in table.rows]
        assert healths[0] is Health.BREACHED
        assert healths == sorted(healths, key=lambda h: h.rank)
        seen = []
        for expected in (Sort.DUE, Sort.ETA, Sort.STAGE, Sort.PROVINCE, Sort.ID, Sort.URGENCY):
            await pilot.press("s")
            await pilot.pause()
            seen.append(screen.sort)
            assert [e.id for e in table.rows] == _expected_order(app, expected), expected
        assert seen == [Sort.DUE, Sort.ETA, Sort.STAGE, Sort.PROVINCE, Sort.ID, Sort.URGENCY]
        await pilot.press("s", "s", "s", "s", "s")
        assert [e.id for e in table.rows] == sorted(ids)
        provinces_sorted = _expected_order(app, Sort.PROVINCE)
        assert provinces_sorted != sorted(ids)


async def test_sort_keeps_the_cursor_on_its_filing(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00021")
        for _ in range(len(Sort)):
            await pilot.press("s")
            await pilot.pause()
            assert current_id(app) == "ICP-2026-00021"
        # at 80 columns the status line still says which sort is in force
        status = app.dashboard.query_one("#status", Static)
        assert "sort urgency" in text_of(status)
        await pilot.press("s")
        await pilot.pause()
        assert "sort due" in text_of(status)


# -- queues ----------------------------------------------------------------------------------------


async def test_queue_keys_select_the_views(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        await pilot.press("5")
        await pilot.pause()
        assert table.rows and all(e.stage is Stage.AUTHORITY_REVIEW for e in table.rows)
        await pilot.press("6")
        await pilot.pause()
        closed = {Stage.APPROVED, Stage.REJECTED, Stage.WITHDRAWN}
        assert table.rows and all(e.stage in closed for e in table.rows)
        await pilot.press("2")
        await pilot.pause()
        assert table.rows == []  # nothing is assigned to alice
        await pilot.press("1")
        await pilot.pause()
        assert len(table.rows) == 40


# -- other users' changes --------------------------------------------------------------------------

CHANGE_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from icp_tui.domain.filing import BEIJING
    from icp_tui.domain.stages import Stage
    from icp_tui.domain.transitions import advance
    from icp_tui.store import FilingStore

    at = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)
    store = FilingStore(sys.argv[1])
    store.commit(
        sys.argv[2], lambda f: advance(f, at, "bob", Stage(sys.argv[3]), "materials missing")
    )
    """
)


def change_in_another_process(db: Path, filing_id: str, to: Stage) -> None:
    """Another member of staff (bob) moves a filing, from their own icp-tui process."""
    subprocess.run(
        [sys.executable, "-c", CHANGE_SCRIPT, str(db), filing_id, to.value],
        check=True,
        timeout=30,
    )


async def test_live_update_from_another_process_keeps_the_cursor(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    target = first(demo, Stage.AWAITING_SUBMISSION)
    app = build_app(reference, refresh_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        await highlight(pilot, target.id)
        position = table.cursor
        order = [e.id for e in table.rows]
        change_in_another_process(demo_db, target.id, Stage.SMS_VERIFICATION)
        await wait_for(pilot, lambda: current_stage(app) is Stage.SMS_VERIFICATION, timeout=10.0)
        assert current_id(app) == target.id
        assert table.cursor == position
        assert [e.id for e in table.rows] == order  # rows never move under the user
        line = table.render_line(position - round(table.scroll_y) + 1).text
        assert target.id in line and rule(Stage.SMS_VERIFICATION).short in line
        # the keys follow: it can no longer be withdrawn
        assert app.dashboard.check_action("withdraw", ()) is None
        # r re-sorts, and the cursor still stays on the filing
        await pilot.press("r")
        await pilot.pause()
        assert current_id(app) == target.id
    assert stored(demo_db, target.id).history[-1].by == "bob"


async def test_new_filing_from_another_handle_appears(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference, refresh_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        FilingStore(db).add(lambda existing: hand_filing(2, Stage.PRELIMINARY_REVIEW, hours_ago=1))
        await wait_for(pilot, lambda: len(table.rows) == 2)
        assert current_id(app) == "ICP-2026-00001"
        # still there when a filter is typed and cleared
        await pilot.press("slash")
        await type_text(pilot, "00002")
        await pilot.pause()
        assert [e.id for e in table.rows] == ["ICP-2026-00002"]
        await pilot.press("escape")
        await pilot.pause()
        assert sorted(e.id for e in table.rows) == ["ICP-2026-00001", "ICP-2026-00002"]


async def test_stale_change_is_refused_and_names_the_other_user(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, AdvanceScreen)
        other = FilingStore(db)
        bobs = other.commit(
            "ICP-2026-00001", lambda f: advance(f, NOW, "bob", Stage.RETURNED, "materials missing")
        )
        after_bob = db_bytes(db)
        await pilot.press("y")
        await settle(pilot)
        said = notifications(app)
        assert any("bob" in n and "not saved" in n for n in said), said
        await wait_for(pilot, lambda: current_stage(app) is Stage.RETURNED)
    assert db_bytes(db) == after_bob
    saved = stored(db, "ICP-2026-00001")
    assert saved == bobs
    assert [t.by for t in saved.history][-1] == "bob"


async def test_a_note_typed_while_someone_else_changed_the_filing_is_kept(
    make_db: MakeDb, reference: Reference
) -> None:
    # Notes only append, so a note is saved on top of bob's change instead of being lost.
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await type_text(pilot, "mine")
        FilingStore(db).commit("ICP-2026-00001", lambda f: add_note(f, NOW, "bob", "bob's"))
        await pilot.press("enter")
        await settle(pilot)
    notes = [(n.by, n.text) for n in stored(db, "ICP-2026-00001").notes]
    assert notes == [("bob", "bob's"), (ACTOR, "mine")]


async def test_advance_on_a_filing_closed_meanwhile_explains_instead_of_crashing(
    make_db: MakeDb, reference: Reference, no_notifications: None
) -> None:
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    app = build_app(reference, refresh_seconds=60)
    async with app.run_test(size=(80, 24)) as pilot:
        FilingStore(db).commit(
            "ICP-2026-00001",
            lambda f: advance(f, NOW, "bob", Stage.APPROVED, icp_number="京ICP备2026000001号"),
        )
        app.service.store.poll()  # the store caught up (as our own save does); the rows not yet
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert any("closed filing" in n for n in notifications(app))
        assert current_stage(app) is Stage.APPROVED  # the row now shows the fresh state


async def test_undo_waits_while_a_save_is_on_its_way(make_db: MakeDb, reference: Reference) -> None:
    make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await settle(pilot)
        screen = app.dashboard
        assert screen.check_action("undo", ()) is True
        screen.saves_pending += 1  # as while the next save's worker runs
        assert screen.check_action("undo", ()) is None
        screen.saves_pending -= 1


@pytest.mark.parametrize(
    "keys", [("a", "y"), ("space", "j", "space", "o", "y")], ids=["one", "marked"]
)
async def test_a_save_that_fails_unexpectedly_is_told_in_one_line_and_the_dashboard_goes_on(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch, keys: tuple[str, ...]
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW), hand_filing(2, Stage.PHOTO_REVIEW)])
    before = db_bytes(db)

    def broken(self: FilingStore, *args: object, **kwargs: object) -> Filing:
        raise RuntimeError("the disk controller reset")  # not a refusal the service explains

    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00001")
        with monkeypatch.context() as patched:
            patched.setattr(FilingStore, "commit", broken)
            await pilot.press(*keys)
            await settle(pilot)
            said = "failed: RuntimeError: the disk controller reset"
            await wait_for(pilot, lambda: any(said in n for n in notifications(app)))
        assert "\n" not in next(n for n in notifications(app) if said in n)
        assert "Traceback" not in screen_text(app)
        screen = app.dashboard
        assert isinstance(app.screen, DashboardScreen)
        assert screen.saves_pending == 0  # u is not left greyed out for a save that never ends
        assert db_bytes(db) == before
        # Still usable: the next change saves, and u undoes it.
        await highlight(pilot, "ICP-2026-00001")
        await pilot.press("minus", "o")
        await settle(pilot)
        assert stored(db, "ICP-2026-00001").assignee == ACTOR
        assert screen.check_action("undo", ()) is True


async def test_housekeeping_that_fails_after_a_save_leaves_the_save_counted_done(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])

    def broken(self: FilingStore) -> None:
        raise RuntimeError("no space left for the new base file")

    monkeypatch.setattr(FilingStore, "compact_if_due", broken)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await settle(pilot)
        said = "Compacting the journal failed: RuntimeError: no space left"
        await wait_for(pilot, lambda: any(said in n for n in notifications(app)))
        assert stored(db, "ICP-2026-00001").assignee == ACTOR
        assert app.dashboard.saves_pending == 0  # counted down once, not again for the failure
        assert app.dashboard.check_action("undo", ()) is True


# -- undo ------------------------------------------------------------------------------------------


async def test_undo_own_last_change(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "y")
        await settle(pilot)
        assert stored(db, "ICP-2026-00001").stage is Stage.AWAITING_PHOTO
        assert app.dashboard.check_action("undo", ()) is True
        await pilot.press("u")
        await settle(pilot)
        assert app.dashboard.table.current is not None
        assert app.dashboard.table.current.stage is Stage.PRELIMINARY_REVIEW
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.PRELIMINARY_REVIEW
    assert saved.history[-1].undo and saved.history[-1].by == ACTOR
    assert saved.version == 3


# -- read-only -------------------------------------------------------------------------------------


async def test_read_only_database(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW), hand_filing(2, Stage.APPROVED)])
    before = db_bytes(db)
    deny_writes(monkeypatch, tmp_path)
    app = build_app(reference)
    assert app.service.store.read_only
    async with app.run_test(size=(80, 24)) as pilot:
        banner = app.dashboard.query_one("#banner", Static)
        assert banner.display
        assert "Read-only" in text_of(banner)
        status = app.dashboard.query_one("#status", Static)
        assert "READ-ONLY" in text_of(status)
        for key in ("a", "y", "w", "y", "n", "x", "t", "u", "o", "A", "v"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen), key
            if key != "y":  # a greyed action key says why, in one line
                said = notifications(app)[-1]
                assert said.startswith("Read-only: ") and "\n" not in said, key
        assert app.dashboard.check_action("advance", ()) is None
        # the filter and the sort still work
        await pilot.press("s", "slash", "0", "0", "0", "0", "1")
        await pilot.pause()
        assert [e.id for e in app.dashboard.table.rows] == ["ICP-2026-00001"]
    assert db_bytes(db) == before


# -- help, detail, quit ----------------------------------------------------------------------------


async def test_help_opens_and_closes(make_db: MakeDb, reference: Reference) -> None:
    make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        for close in ("escape", "question_mark", "q"):
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(close)
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen), close
        assert app.is_running


async def test_enter_opens_the_detail_on_a_narrow_terminal(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        target = first(demo, Stage.APPROVED)
        await highlight(pilot, target.id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        text = text_of(app.screen.header) + text_of(app.screen.body)
        assert target.id in text and "(current)" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert current_id(app) == target.id


async def test_wide_terminal_shows_the_detail_beside_the_table(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        target = first(demo, Stage.WITHDRAWN)
        await highlight(pilot, target.id)
        await wait_for(pilot, lambda: target.id in detail_text(app))
        text = detail_text(app)  # the pane is narrow: a long reason wraps
        assert all(word in text for word in target.history[-1].reason.split())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)  # no modal: the detail takes the focus
        assert app.focused is not None and app.focused.id == "detail"


async def test_q_quits(make_db: MakeDb, reference: Reference) -> None:
    make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


# -- 80 x 24 ---------------------------------------------------------------------------------------


async def test_80x24_shows_ten_filings_with_health_id_stage_and_due(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.dashboard.table
        assert table.size.width >= 70
        assert table.size.height - 1 >= 10
        # no banner here (2026 has its official holiday schedule): every line between the
        # two status lines and the footer is the table's
        assert not app.dashboard.query_one("#banner").display
        assert table.size.height == 24 - 2 - 1
        header = table.render_line(0).text
        for heading in ("HEALTH", "ID", "STAGE", "DUE/LEFT"):
            assert heading in header
        for y in range(1, table.size.height):
            entry = table.rows[y - 1]
            line = table.render_line(y).text
            assert len(line) <= table.size.width
            assert entry.health.word in line, line
            assert entry.id in line, line
            assert rule(entry.stage).short in line, line
            assert entry.left(reference, NOW) in line, line


async def test_detail_modal_and_help_scroll_with_the_keys(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    """At 80 x 24 a long history does not fit: the keys must reach the end of it."""
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        longest = max(demo, key=lambda f: len(f.history))
        await highlight(pilot, longest.id)
        await pilot.press("enter")
        await pilot.pause()
        box = app.screen.query_one("#detail")
        assert box.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        assert "Notes" in text_of(app.screen.body) or "no notes" in text_of(app.screen.body)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one(".dialog")
        await pilot.press("pagedown", "pagedown", "end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert app.is_running


# -- what people type never becomes markup or escape sequences -------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["[red]x[/red] y", "oops [/b] z", "50% [link=http://x]here[/link]"],
    ids=["markup", "unbalanced-markup", "link"],
)
async def test_withdraw_reason_with_markup_is_shown_as_typed(
    make_db: MakeDb, reference: Reference, typed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lasting_toasts(monkeypatch)
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(120, 24), notifications=True) as pilot:
        await pilot.press("w", *["down"] * WITHDRAW_REASONS.index("other"))
        await type_text(pilot, typed)
        await pilot.press("enter", "y")
        said = f"ICP-2026-00001 withdrawn (other: {typed})"
        await wait_for(pilot, lambda: said in notifications(app))  # the save has reported
        await wait_for(pilot, lambda: typed.split()[0] in screen_text(app))
        await settle(pilot)
        assert app.is_running  # an unbalanced tag used to crash the dashboard
    assert stored(db, "ICP-2026-00001").history[-1].reason == f"other: {typed}"


async def test_pasted_escape_sequence_in_a_reason_is_stored_but_shown_inert(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(120, 24), notifications=True) as pilot:
        await pilot.press("w", *["down"] * WITHDRAW_REASONS.index("other"))
        app.screen.query_one("#other-reason", Input).post_message(
            events.Paste("x \x1b]0;pwned\x07 y")
        )
        await pilot.pause()
        await pilot.press("enter", "y")
        await settle(pilot)
        said = notifications(app)
        assert said and all("\x1b" not in n and "\x07" not in n for n in said)
        assert any("\\x1b]0;pwned\\x07" in n for n in said)
    assert stored(db, "ICP-2026-00001").history[-1].reason == "other: x \x1b]0;pwned\x07 y"


# -- the command palette obeys the same rules as the keys ------------------------------------------


async def test_command_palette_actions(make_db: MakeDb, reference: Reference) -> None:
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await type_text(pilot, "Withdraw the highlighted")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)  # refused: submitted to the authority
        await pilot.press("ctrl+p")
        await type_text(pilot, "Advance the highlighted")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AdvanceScreen)
        await pilot.press("escape")
        await settle(pilot)
    assert db_bytes(db) == before


# -- the clock moves: health follows, rows stay put until r ----------------------------------------


class MovingClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at_risk_and_sms_check(
    make_db: MakeDb, reference: Reference
) -> tuple[IcpApp, MovingClock, Filing, Filing]:
    """A dashboard on a clock of the test's own over two filings: one at risk in authority
    review, one whose SMS check's 24 hours end a day after NOW (then breached)."""
    at_risk = hand_filing(1, Stage.AUTHORITY_REVIEW, hours_ago=24 * 22)
    sms = hand_filing(2, Stage.SMS_VERIFICATION, hours_ago=1)
    make_db([at_risk, sms])
    clock = MovingClock(NOW)
    app = make_app(DB, reference, settings=Settings(db_path=DB), clock=clock, actor=ACTOR)
    return app, clock, at_risk, sms


async def test_health_follows_the_clock_and_rows_stay_until_resort(
    make_db: MakeDb, reference: Reference
) -> None:
    app, clock, at_risk, sms = at_risk_and_sms_check(make_db, reference)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        assert [(e.id, e.health) for e in table.rows] == [
            (at_risk.id, Health.AT_RISK),
            (sms.id, Health.ON_TRACK),
        ]
        clock.now = NOW + timedelta(hours=24)  # the 24 hours of the SMS check are over
        await wait_for(pilot, lambda: table.rows[1].health is Health.BREACHED)
        assert [e.id for e in table.rows] == [at_risk.id, sms.id]  # not moved under the cursor
        # The toast is a message the App handles after the tick: wait for it too.
        await wait_for(
            pilot, lambda: any(sms.id in n and "breached" in n for n in notifications(app))
        )
        assert "SMS check" in table.render_line(2).text and "over" in table.render_line(2).text
        await pilot.press("r")
        await pilot.pause()
        assert [e.id for e in table.rows] == [sms.id, at_risk.id]
        assert current_id(app) == at_risk.id  # the cursor followed its filing


async def test_counts_follow_the_clock_through_a_sort_and_a_resort(
    make_db: MakeDb, reference: Reference
) -> None:
    """With every filing shown, a sort takes the queue's counts: they must be the rows' own,
    also after the clock moved a filing to another health."""
    app, clock, _, _ = at_risk_and_sms_check(make_db, reference)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table
        assert table.health_counts() == Counter({Health.AT_RISK: 1, Health.ON_TRACK: 1})
        clock.now = NOW + timedelta(hours=24)  # the 24 hours of the SMS check are over
        await wait_for(pilot, lambda: table.rows[1].health is Health.BREACHED)
        for key in ("s", "r"):
            await pilot.press(key)
            await pilot.pause()
            assert table.health_counts() == Counter({Health.AT_RISK: 1, Health.BREACHED: 1})
        assert "✖ 1 breached" in text_of(app.dashboard.query_one(StatusLine))


async def test_the_detail_takes_the_height_of_each_filing_shown(
    make_db: MakeDb, reference: Reference
) -> None:
    """The pane is laid out once for a filing of another height (a second layout changed
    nothing): its scroll range, scrollbar and lines must still be the new filing's, from a
    short filing to a tall one and back."""
    tall = hand_filing(1, Stage.PRELIMINARY_REVIEW)
    for k in range(30):
        tall = add_note(tall, NOW, "bob", f"called the applicant, attempt {k}")
    make_db([tall, hand_filing(2, Stage.PRELIMINARY_REVIEW, hours_ago=1)])
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        detail = app.dashboard.query_one(FilingDetail)
        await highlight(pilot, "ICP-2026-00002")
        await wait_for(pilot, lambda: "ICP-2026-00002" in detail_text(app))
        assert not detail.show_vertical_scrollbar and detail.max_scroll_y == 0
        await highlight(pilot, "ICP-2026-00001")
        await wait_for(pilot, lambda: "ICP-2026-00001" in detail_text(app))
        await pilot.pause()
        assert detail.show_vertical_scrollbar
        assert "attempt 29" in text_of(detail.query_one("#detail-body", Static))
        detail.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "attempt 29" in screen_text(app)  # the range reaches the last note
        await highlight(pilot, "ICP-2026-00002")
        await wait_for(pilot, lambda: "ICP-2026-00002" in detail_text(app))
        await pilot.pause()
        assert not detail.show_vertical_scrollbar and detail.max_scroll_y == 0
        assert "attempt" not in detail_text(app) and "attempt" not in screen_text(app)


async def test_from_a_long_filing_to_another_the_pane_opens_on_its_current_stage(
    make_db: MakeDb, reference: Reference
) -> None:
    """Where the pane's scroll range already reaches the next filing's current stage, it
    scrolls there at once (painted once): it must land on that stage's title, as when it
    scrolled after the new height was laid out."""
    filings = []
    for n in (1, 2):
        filing = hand_filing(n, Stage.AUTHORITY_REVIEW, hours_ago=n)
        for k in range(30):  # notes under the current stage: the range reaches far down
            filing = add_note(filing, NOW, "bob", f"called the applicant, attempt {k}")
        filings.append(filing)
    make_db(filings)
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        detail = app.dashboard.query_one(FilingDetail)
        body = detail.query_one("#detail-body", Static)
        for fid in ("ICP-2026-00001", "ICP-2026-00002", "ICP-2026-00001"):
            await highlight(pilot, fid)
            await wait_for(pilot, lambda fid=fid: fid in detail_text(app))
            await pilot.pause()
            title = next(i for i, line in enumerate(text_of(body).splitlines()) if "▶" in line)
            assert 0 < title < detail.max_scroll_y  # scrolled there, not clamped
            await wait_for(pilot, lambda title=title: round(detail.scroll_y) == title)


async def test_counts_follow_the_clock_through_a_filter_cleared(
    make_db: MakeDb, reference: Reference
) -> None:
    """A filter cleared shows every filing again, with the queue's counts: the rows' own, also
    after the clock moved a filing to another health while the filter was in force."""
    app, clock, _, sms = at_risk_and_sms_check(make_db, reference)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table
        await pilot.press("slash")
        await type_text(pilot, "00001")
        await wait_for(pilot, lambda: len(table.rows) == 1)
        assert table.health_counts() == Counter({Health.AT_RISK: 1})
        clock.now = NOW + timedelta(hours=24)  # the 24 hours of the SMS check are over
        await wait_for(pilot, lambda: app.dashboard.queue.entries[sms.id].health is Health.BREACHED)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table.rows) == 2)
        assert table.health_counts() == Counter({Health.AT_RISK: 1, Health.BREACHED: 1})
        assert "✖ 1 breached" in text_of(app.dashboard.query_one(StatusLine))


async def test_a_cursor_move_repaints_the_two_rows_it_leaves_and_reaches(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(n, Stage.AUTHORITY_REVIEW, hours_ago=n) for n in range(1, 7)])
    settings = Settings(db_path=DB, refresh_seconds=60)  # no poll: only the key repaints
    app = make_app(DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table
        await settle(pilot)
        first_two = [e.id for e in table.rows[:2]]
        painted: list[str] = []
        render_row = table._render_row

        def spy_row(*args: Any) -> Any:
            strip = render_row(*args)
            painted.append(strip.text)
            return strip

        table._render_row = spy_row  # type: ignore[method-assign]
        await pilot.press("j")
        await settle(pilot)
        assert len(painted) == 2  # not every row of the table
        assert all(any(fid in line for line in painted) for fid in first_two)


async def test_a_clock_tick_repaints_a_row_only_once_its_left_text_changes(
    make_db: MakeDb, reference: Reference
) -> None:
    # Submitted at 13:59:30: its 24 hours end at half past a minute, so the minutes left move
    # half a minute apart from the clock's own minutes.
    sms = hand_filing(2, Stage.SMS_VERIFICATION, hours_ago=1 + 30 / 3600)
    make_db([sms])
    clock = MovingClock(NOW)
    settings = Settings(db_path=DB, refresh_seconds=60)  # no poll: only the ticks repaint
    app = make_app(DB, reference, settings=settings, clock=clock, actor=ACTOR)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = app.dashboard, app.dashboard.table
        due = table.rows[0].times.due_at
        assert due is not None
        start = due - timedelta(minutes=30, seconds=25)  # at hh:mm:05, "30 min left"
        clock.now = start
        screen.tick()
        await settle(pilot)
        painted: list[str] = []
        statuses: list[object] = []
        render_row, update = table._render_row, screen.query_one(StatusLine).update

        def spy_row(*args: Any) -> Any:
            strip = render_row(*args)
            painted.append(strip.text)
            return strip

        def spy_status(*args: Any, **kwargs: Any) -> None:
            statuses.append(args)
            update(*args, **kwargs)

        table._render_row = spy_row  # type: ignore[method-assign]
        screen.query_one(StatusLine).update = spy_status  # type: ignore[method-assign]
        clock.now = start + timedelta(seconds=15)  # the same minute left: nothing to repaint
        screen.tick()
        await settle(pilot)
        assert painted == [] and statuses == []
        clock.now = start + timedelta(seconds=30)  # the minute left is crossed, not the clock's
        screen.tick()
        await settle(pilot)
        assert len(painted) == 1 and sms.id in painted[0] and "29 min left" in painted[0]
        assert statuses == []  # the status line shows the clock to the minute: the same still
        clock.now = start + timedelta(seconds=60)  # the clock's minute moves on, not the left
        screen.tick()
        await settle(pilot)
        assert len(statuses) == 1 and len(painted) == 1


async def test_a_row_scrolled_into_view_after_the_clock_moved_shows_the_time_left_now(
    make_db: MakeDb, reference: Reference
) -> None:
    # A tick repaints only the rows on screen: a row off screen meanwhile is drawn afresh.
    make_db([hand_filing(n, Stage.SMS_VERIFICATION, hours_ago=n / 4) for n in range(1, 41)])
    clock = MovingClock(NOW)
    settings = Settings(db_path=DB, refresh_seconds=60)
    app = make_app(DB, reference, settings=settings, clock=clock, actor=ACTOR)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = app.dashboard, app.dashboard.table
        await settle(pilot)
        last = table.rows[-1]
        assert not any(last.id in table.render_line(y).text for y in range(table.size.height))
        before = last.left(reference, clock.now)
        clock.now = NOW + timedelta(hours=2)
        screen.tick()
        await settle(pilot)
        now_left = last.left(reference, clock.now)
        assert now_left != before
        await pilot.press("end")
        await settle(pilot)
        lines = [table.render_line(y).text for y in range(table.size.height)]
        line = next(line for line in lines if last.id in line)
        assert now_left in line and before not in line


async def test_left_alone_the_rows_follow_a_health_the_clock_moved_without_a_search_of_every_row(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each minute the clock moves some health, and a dashboard left alone re-sorts: it finds
    # each such row by the key it was sorted under, not by a search along every row (~4 ms a
    # row at 100,000 filings, every minute, in every open dashboard).
    monkeypatch.setattr(dashboard_module, "IDLE_RESORT", 0.0)  # the keyboard left alone
    at_risk = hand_filing(1, Stage.AUTHORITY_REVIEW, hours_ago=24 * 22)
    sms = hand_filing(2, Stage.SMS_VERIFICATION, hours_ago=1)
    waiting = [hand_filing(n, Stage.AWAITING_PHOTO, hours_ago=n) for n in range(3, 9)]
    make_db([at_risk, sms, *waiting])
    clock = MovingClock(NOW)
    settings = Settings(db_path=DB, refresh_seconds=60)
    app = make_app(DB, reference, settings=settings, clock=clock, actor=ACTOR)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = app.dashboard, app.dashboard.table
        assert [e.id for e in table.rows[:2]] == [at_risk.id, sms.id]
        table.rows = NoScan(table.rows)
        clock.now = NOW + timedelta(hours=24)  # the 24 hours of the SMS check are over
        screen.tick()
        await settle(pilot)
        assert [e.id for e in table.rows] == [e.id for e in screen.queue.select()]
        assert [e.id for e in table.rows[:2]] == [sms.id, at_risk.id]  # breached: on top
        assert current_id(app) == at_risk.id  # the cursor followed its filing


class NoScan(list[Any]):
    """Rows that refuse a search along every row."""

    def index(self, *args: object) -> int:
        raise AssertionError("searched every row for one")


async def test_too_small_a_terminal_says_so_and_comes_back(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(70, 20)) as pilot:
        await wait_for(pilot, lambda: "80x24" in screen_text(app))
        await pilot.resize_terminal(80, 24)  # the new layout is an event of its own
        await wait_for(pilot, lambda: "80x24" not in screen_text(app))
        table = app.dashboard.table
        await wait_for(pilot, lambda: table.rows and table.rows[0].id in screen_text(app))
        assert table.size.height - 1 >= 10


# -- take and mine ---------------------------------------------------------------------------------


async def test_take_assigns_the_filing_to_me_and_m_shows_mine(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW), hand_filing(2, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00002")
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        assert [e.id for e in app.dashboard.table.rows] == ["ICP-2026-00002"]
        await pilot.press("m")
        await pilot.pause()
        assert len(app.dashboard.table.rows) == 2
    saved = stored(db, "ICP-2026-00002")
    assert (saved.assignee, saved.updated_by) == (ACTOR, ACTOR)
    assert stored(db, "ICP-2026-00001").assignee is None


# -- the database under the dashboard --------------------------------------------------------------


async def test_compaction_by_another_process_is_followed(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW), hand_filing(2, Stage.PHOTO_REVIEW)])
    app = build_app(reference, refresh_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00002")
        other = FilingStore(db)
        other.commit(
            "ICP-2026-00002", lambda f: advance(f, NOW, "bob", Stage.RETURNED, "materials missing")
        )
        other.compact()  # the base file is replaced, the journal emptied
        await wait_for(pilot, lambda: current_stage(app) is Stage.RETURNED)
        assert current_id(app) == "ICP-2026-00002"
        await pilot.press("a", "y")  # returned -> preliminary_review, on the new base
        await settle(pilot)
    assert stored(db, "ICP-2026-00002").stage is Stage.PRELIMINARY_REVIEW


async def test_a_vanished_database_is_reported_once_and_followed_when_back(
    make_db: MakeDb, reference: Reference, tmp_path: Path
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference, refresh_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        moved = tmp_path / "moved.json"
        db.rename(moved)
        await wait_for(pilot, lambda: notifications(app))
        await pilot.pause(0.6)  # several polls
        said = notifications(app)
        assert len(said) == 1 and "Cannot refresh" in said[0] and "filings.json" in said[0]
        moved.rename(db)
        FilingStore(db).commit(
            "ICP-2026-00001", lambda f: advance(f, NOW, "bob", Stage.RETURNED, "materials missing")
        )
        await wait_for(pilot, lambda: current_stage(app) is Stage.RETURNED)


async def test_undo_is_refused_once_someone_else_changed_the_filing(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "y")
        await settle(pilot)
        FilingStore(db).commit("ICP-2026-00001", lambda f: add_note(f, NOW, "bob", "called them"))
        after_bob = db_bytes(db)
        await pilot.press("u")
        await settle(pilot)
        assert any("bob" in n and "nothing to undo" in n for n in notifications(app))
    assert db_bytes(db) == after_bob
    assert stored(db, "ICP-2026-00001").stage is Stage.AWAITING_PHOTO


async def test_wide_detail_follows_a_saved_change(make_db: MakeDb, reference: Reference) -> None:
    make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        body = app.dashboard.query_one("#detail-body", Static)
        await wait_for(pilot, lambda: "ICP-2026-00001" in detail_text(app))
        await pilot.press("a", "y")
        await settle(pilot)
        await wait_for(pilot, lambda: "v2" in detail_text(app))
        text = text_of(body)
        current = text[text.index("▶") :]
        # the whole label where it fits on the title line, else the short name (never cut)
        assert current.startswith(("▶ Waiting for the administrator photo", "▶ await photo"))
        assert "Waiting for the" in current
        assert "by alice" in current


async def test_wide_detail_is_built_once_the_cursor_rests(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.1)
        screen = app.dashboard
        built: list[str | None] = []
        show = screen.show_detail

        def counting() -> None:
            built.append(current_id(app))
            show()

        monkeypatch.setattr(screen, "show_detail", counting)
        await type_text(pilot, "j" * 12)  # a held-down key
        await wait_for(pilot, lambda: built)
        await pilot.pause(0.1)
        assert built == [app.dashboard.table.rows[12].id]


async def test_a_year_without_official_holidays_is_announced(
    make_db: MakeDb, reference: Reference
) -> None:
    december = datetime(2026, 12, 21, 10, 0, tzinfo=NOW.tzinfo)
    # entered authority review a few hours ago: due in January 2027
    make_db([hand_filing(1, Stage.AUTHORITY_REVIEW, now=december)])
    assert not reference.calendar.provisional_years({2026})
    if not reference.calendar.provisional_years({2027}):
        pytest.skip("the holiday schedule of 2027 is known by now")
    settings = Settings(db_path=DB)
    app = make_app(DB, reference, settings=settings, clock=lambda: december, actor=ACTOR)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        banner = app.dashboard.query_one("#banner", Static)
        assert banner.display
        assert "2027 is provisional" in text_of(banner)
        assert app.dashboard.table.size.height - 1 >= 10


async def test_x_records_that_the_mailed_materials_arrived(
    make_db: MakeDb, reference: Reference
) -> None:
    # Guizhou asks for mailed materials; Beijing does not.
    db = make_db(
        [
            hand_filing(1, Stage.AWAITING_PHOTO, province="Guizhou"),
            hand_filing(2, Stage.AWAITING_PHOTO, province="Beijing", hours_ago=3),
        ]
    )
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00002")
        assert app.dashboard.check_action("materials_received", ()) is None
        await highlight(pilot, "ICP-2026-00001")
        assert app.dashboard.table.current.mailing_pending
        await pilot.press("x")
        await settle(pilot)
        await wait_for(pilot, lambda: not app.dashboard.table.current.mailing_pending)
    saved = stored(db, "ICP-2026-00001")
    assert saved.checklist.materials_received
    assert (saved.history[-1].by, saved.history[-1].reason) == (ACTOR, "materials received")
    assert not stored(db, "ICP-2026-00002").checklist.materials_received


async def test_polls_and_ticks_within_a_minute_leave_the_status_line_alone(
    make_db: MakeDb, reference: Reference
) -> None:
    # "refreshed" is to the minute, like the clock beside it: twenty idle dashboards repaint
    # their status once a minute, not once a second.
    make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    clock = MovingClock(NOW)
    settings = Settings(db_path=DB, refresh_seconds=0.2)
    app = make_app(DB, reference, settings=settings, clock=clock, actor=ACTOR)
    async with app.run_test(size=(100, 30)) as pilot:
        status = app.dashboard.query_one(StatusLine)
        await settle(pilot)
        polls: list[object] = []
        poll, update = app.service.poll, status.update

        def counted_poll() -> Any:
            polls.append(clock.now)
            return poll()

        painted: list[object] = []

        def spy_status(*args: Any, **kwargs: Any) -> None:
            painted.append(args)
            update(*args, **kwargs)

        app.service.poll = counted_poll  # type: ignore[method-assign]
        status.update = spy_status  # type: ignore[method-assign]
        for second in (10, 20, 30, 40):  # polls and ticks, all within 15:00
            clock.now = NOW + timedelta(seconds=second)
            seen = len(polls)
            await wait_for(pilot, lambda seen=seen: len(polls) >= seen + 2)
            app.dashboard.tick()
        await settle(pilot)
        assert painted == []
        clock.now = NOW + timedelta(minutes=1)
        await wait_for(pilot, lambda: "refreshed 15:01" in text_of(status))
        assert "2026-11-25 15:01 Beijing" in text_of(status)


async def test_after_a_page_down_the_cursor_row_is_the_one_drawn_highlighted(
    make_db: MakeDb, reference: Reference
) -> None:
    # A cursor move repaints the rows it leaves and reaches: with the table scrolled, those
    # must be the lines the rows are on (the row left stayed highlighted and the one reached
    # plain, while the keys acted on the one reached).
    make_db([hand_filing(n, Stage.AUTHORITY_REVIEW, hours_ago=n) for n in range(1, 121)])
    settings = Settings(db_path=DB, refresh_seconds=60)
    app = make_app(DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.dashboard.table

        def highlighted() -> list[str]:
            drawn = []
            for strip in table.render_lines(table.size.region):
                for segment in strip:
                    if segment.text.startswith("ICP-") and segment.style and segment.style.reverse:
                        drawn.append(segment.text.split()[0])
            return drawn

        await settle(pilot)
        for keys in (["pagedown", "pagedown"], ["j"], ["pageup", "j"], ["end", "pageup", "k"]):
            await pilot.press(*keys)
            await settle(pilot)
            assert table.current is not None and round(table.scroll_y) > 0, keys
            assert highlighted() == [table.current.id], keys
