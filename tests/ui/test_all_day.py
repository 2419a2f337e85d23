"""The dashboard as staff use it all day (issue 13): keys that explain, asking before taking
a colleague's filing, the ticket and export dialogs, the detail, the header counts.

Each test presses the keys a user would and checks what is stored (through a fresh handle) and
what the screen says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from rich.color import ColorSystem
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, Static
from ui_helpers import (
    ACTOR,
    NOW,
    build_app,
    db_bytes,
    detail_text,
    hand_filing,
    highlight,
    notifications,
    screen_text,
    settle,
    stored,
    text_of,
    type_text,
    wait_for,
)

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage, rule
from icp_tui.domain.transitions import assign, record_ticket
from icp_tui.services import FilingService, fixed_clock
from icp_tui.store import FilingStore
from icp_tui.ui.app import DashboardScreen, IcpApp
from icp_tui.ui.detail import FilingDetail
from icp_tui.ui.modals import ConfirmScreen, DetailScreen, HelpScreen, TextPromptScreen

MakeDb = Callable[[Iterable[Filing]], Path]


# -- item 9: keys that do nothing say why ----------------------------------------------------------


async def test_x_without_materials_awaited_explains_and_changes_nothing(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.AWAITING_PHOTO, province="Beijing")])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert any(
            "ICP-2026-00001" in n and "does not ask for mailed materials" in n
            for n in notifications(app)
        )
    assert db_bytes(db) == before


async def test_x_twice_says_the_materials_are_in_already(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.AWAITING_PHOTO, province="Guizhou")])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        version = stored(db, "ICP-2026-00001").version
        app.clear_notifications()
        await pilot.press("x")
        await settle(pilot)
        assert any("received already" in n for n in notifications(app))
    assert stored(db, "ICP-2026-00001").version == version


async def test_undo_names_the_filing_and_a_second_undo_explains(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("u")
        await settle(pilot)
        assert any("you have made no change" in n for n in notifications(app))
        await pilot.press("a", "y")
        await settle(pilot)
        assert stored(db, "ICP-2026-00001").stage is Stage.AWAITING_PHOTO
        app.clear_notifications()
        await pilot.press("u")
        await settle(pilot)
        label = rule(Stage.PRELIMINARY_REVIEW).label
        assert f"Undone: your move of ICP-2026-00001 (back to {label})" in notifications(app)
        version = stored(db, "ICP-2026-00001").version
        app.clear_notifications()
        await pilot.press("u")
        await settle(pilot)
        said = notifications(app)
        assert any("ICP-2026-00001" in n and "undone already" in n for n in said), said
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.PRELIMINARY_REVIEW
    assert saved.version == version
    assert saved.history[-1].by == ACTOR


async def test_stage_names_in_toasts_are_labels_not_ids(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00001")
        await pilot.press("a", "y")
        await settle(pilot)
        said = notifications(app)
        assert any(rule(Stage.AWAITING_SUBMISSION).label in n for n in said), said
        assert not any("awaiting_submission" in n for n in said)


# -- item 7: o asks before taking a colleague's filing --------------------------------------------


def assigned(filing: Filing, to: str) -> Filing:
    return assign(filing, filing.updated_at or NOW, "carol", to)


async def test_o_asks_before_taking_a_colleagues_filing(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([assigned(hand_filing(1, Stage.PHOTO_REVIEW), "bob")])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "assigned to bob" in screen_text(app)
        await pilot.press("n")  # the default: bob keeps it
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert db_bytes(db) == before
        await pilot.press("o", "escape")
        await settle(pilot)
        assert db_bytes(db) == before
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        # The save starts from the dialog's answer, after the key: wait for its toast.
        await wait_for(pilot, lambda: any("assigned to you" in n for n in notifications(app)))
    assert stored(db, "ICP-2026-00001").assignee == ACTOR


async def test_o_takes_an_unassigned_filing_at_once_and_says_when_it_is_mine(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert stored(db, "ICP-2026-00001").assignee == ACTOR
        version = stored(db, "ICP-2026-00001").version
        app.clear_notifications()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert any("yours already" in n for n in notifications(app))
    assert stored(db, "ICP-2026-00001").version == version


# -- item 16: the ticket dialog, the export prompt, the palette -----------------------------------


async def test_ticket_dialog_shows_the_ticket_it_would_replace(
    make_db: MakeDb, reference: Reference
) -> None:
    late = hand_filing(1, Stage.PHOTO_REVIEW, hours_ago=24 * 9)
    late = record_ticket(late, late.updated_at or NOW, "carol", "TK2026111800007")
    db = make_db([late])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        text = screen_text(app)
        assert "has ticket TK2026111800007 already" in text
        assert "replaces it" in text
        assert "e.g. TK2026112500012" in text  # the placeholder has the real format
        await pilot.press("escape")
        await settle(pilot)
    assert db_bytes(db) == before


async def test_export_asks_for_the_file_and_never_overwrites(
    make_db: MakeDb, reference: Reference, tmp_path: Path
) -> None:
    make_db([hand_filing(1, Stage.PHOTO_REVIEW), hand_filing(2, Stage.AUTHORITY_REVIEW)])
    default = tmp_path / "icp-filings-20261125-150000.csv"
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextPromptScreen)
        assert dialog.query_one(Input).value == str(default)
        await pilot.press("escape")
        await settle(pilot)
        assert not default.exists()  # one keystroke writes nothing
        await pilot.press("e", "enter")
        await settle(pilot)
        await wait_for(pilot, default.exists)
        assert len(default.read_text(encoding="utf-8").splitlines()) == 3
        written = default.read_bytes()
        await pilot.press("e", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: any("exists already" in n for n in notifications(app)))
        assert default.read_bytes() == written


async def test_command_palette_lists_the_apps_commands_first(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        commands = palette.query_one(CommandList)
        await wait_for(pilot, lambda: commands.option_count > 15)
        titles = [str(commands.get_option_at_index(i).prompt) for i in range(3)]
        assert "Advance the highlighted filing" in titles[0], titles
        everything = [
            str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)
        ]
        assert any("theme" in t.lower() for t in everything)  # Textual's own come after
        await pilot.press("escape")


# -- item 4: the side pane opens on the current stage, its header stays, focus shows --------------


def current_pane_in_view(detail: FilingDetail) -> bool:
    """Whether the current stage's title (▶) is inside the scrolled viewport of the pane."""
    lines = text_of(detail.query_one("#detail-body", Static)).splitlines()
    row = next(i for i, line in enumerate(lines) if "▶" in line)
    top = round(detail.scroll_y)
    return top <= row < top + detail.scrollable_content_region.height


async def test_side_pane_opens_on_the_current_stage_with_the_header_in_view(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    longest = max((f for f in demo if f.stage is not Stage.APPROVED), key=lambda f: len(f.history))
    short = min(demo, key=lambda f: len(f.history))
    app = build_app(reference)
    async with app.run_test(size=(120, 30)) as pilot:
        detail = app.dashboard.query_one(FilingDetail)
        await highlight(pilot, longest.id)
        await wait_for(pilot, lambda: longest.id in detail_text(app))
        await wait_for(pilot, lambda: detail.max_scroll_y > 0 and current_pane_in_view(detail))
        header = detail.query_one("#detail-header", Static)
        assert longest.id in text_of(header) and "next:" in text_of(header)
        # scrolled to the top by hand, then another filing: it opens on its own current stage
        detail.scroll_home(animate=False, immediate=True)
        await highlight(pilot, short.id)
        await wait_for(pilot, lambda: short.id in text_of(header))
        await wait_for(pilot, lambda: current_pane_in_view(detail))
        await highlight(pilot, longest.id)
        await wait_for(pilot, lambda: longest.id in text_of(header))
        await wait_for(pilot, lambda: current_pane_in_view(detail))
        assert longest.id in screen_text(app)  # the header is drawn, whatever the scroll


async def test_the_focused_pane_shows_and_escape_gives_the_keys_back_to_the_table(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(120, 30)) as pilot:
        detail = app.dashboard.query_one(FilingDetail)
        unfocused = detail.styles.border_left
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is detail
        assert detail.styles.border_left != unfocused
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.dashboard.table


# -- item 5: the full-screen detail follows, offers the keys, opens at the current stage ----------


def note_from_bob(db: Path, reference: Reference, filing_id: str, text: str) -> None:
    """Bob adds a note from his own icp-tui (another store handle on the same file)."""
    store = FilingStore(db)
    store.load()
    FilingService(store, reference, actor="bob", clock=fixed_clock(NOW)).note(filing_id, text)


async def test_full_screen_detail_follows_a_note_added_elsewhere(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference, refresh_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        note_from_bob(db, reference, "ICP-2026-00001", "applicant phoned back")
        await wait_for(pilot, lambda: "applicant phoned back" in text_of(detail.body))
        assert app.screen is detail


async def test_full_screen_detail_offers_the_filings_keys_and_says_how_to_close(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.AUTHORITY_REVIEW)])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        footer = screen_text(app).splitlines()[-1]
        for word in ("Advance", "Note", "Help", "Close"):
            assert word in footer, footer
        # w does not apply (submitted to the authority): it says why and changes nothing
        await pilot.press("w")
        await settle(pilot)
        assert app.screen is detail
        assert any("communications administration" in n for n in notifications(app))
        assert db_bytes(db) == before
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is detail
        # n opens the note dialog over the detail; the saved note shows in it at once
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await type_text(pilot, "asked the authority")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is detail
        await wait_for(pilot, lambda: "asked the authority" in text_of(detail.body))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
    assert [n.text for n in stored(db, "ICP-2026-00001").notes] == ["asked the authority"]


async def test_full_screen_detail_at_80x24_opens_with_due_used_and_next_in_view(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    running = [f for f in demo if f.stage is Stage.AUTHORITY_REVIEW]
    target = max(running, key=lambda f: len(f.history))
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, target.id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        await wait_for(pilot, lambda: "▶" in screen_text(app))
        text = screen_text(app)
        current = text[text.index("▶") :]
        assert "due " in current and "used " in current, text
        assert target.id in text and "next:" in text


# -- item 3: the columns that matter stay at every width ------------------------------------------


def table_row(lines: list[str], filing_id: str) -> str:
    """The table's line of a filing (the id column starts after the health word)."""
    return next(line for line in lines if line[11:].startswith(filing_id))


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 45), (250, 50)])
async def test_every_width_shows_the_columns_that_matter(
    demo_db: Path, demo: list[Filing], reference: Reference, size: tuple[int, int]
) -> None:
    app = build_app(reference)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if line.startswith("HEALTH"))
        wanted = ["HEALTH", "ID", "DOMAIN", "STAGE", "DUE/LEFT"]
        wanted += ["FLAGS/ASSIGNEE"] if size[0] < 100 else ["ASSIGNEE", "FLAGS"]
        for heading in wanted:
            assert f" {heading}" in f" {header}", (heading, header)
        # a row's assignee and its flags are on screen, whole where they are short
        flagged = next(e for e in app.dashboard.table.rows[:10] if "needs ticket" in e.flags())
        row = table_row(lines, flagged.id)
        assert "needs ticket" in row
        if size[0] >= 100:
            assigned = next(e for e in app.dashboard.table.rows[:10] if e.assignee)
            row = table_row(lines, assigned.id)
            assert f" {assigned.assignee} " in f"{row} "
        if size[0] >= 160:  # room to spare: the domain is not cut to 12 characters
            longest = max(app.dashboard.table.rows[:10], key=lambda e: len(e.domain))
            row = table_row(lines, longest.id)
            assert longest.domain in row


# -- item 6: the header counts follow the view; an empty view says so; Chinese province names ------


def status_line(app: IcpApp) -> str:
    return text_of(app.dashboard.query_one("#status", Static)).splitlines()[1]


async def test_header_counts_follow_the_view_and_the_filter(
    demo_db: Path, demo: list[Filing], reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        total = len(demo)
        await pilot.press("6")  # closed
        await pilot.pause()
        closed = [f for f in demo if f.stage in (Stage.APPROVED, Stage.REJECTED, Stage.WITHDRAWN)]
        line = status_line(app)
        assert f"closed · {len(closed)} of {total}" in line, line
        assert f"✔ {len(closed)} done" in line and "✖ 0 breached" in line, line


async def test_filter_by_a_chinese_province_name(make_db: MakeDb, reference: Reference) -> None:
    make_db(
        [
            hand_filing(1, Stage.PHOTO_REVIEW, province="Qinghai"),
            hand_filing(2, Stage.PHOTO_REVIEW, province="Beijing"),
            hand_filing(3, Stage.AUTHORITY_REVIEW, province="Qinghai"),
        ]
    )
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "青海")
        await pilot.pause()
        ids = sorted(e.id for e in app.dashboard.table.rows)
        assert ids == ["ICP-2026-00001", "ICP-2026-00003"]
        assert "filter “青海” · 2 of 3" in status_line(app)


async def test_an_empty_view_says_why(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "no-such-thing")
        await pilot.pause()
        table = app.dashboard.table
        assert not table.rows
        assert "No filing matches “no-such-thing”" in screen_text(app)
        assert "Escape clears the filter" in screen_text(app)
        assert "0 of 40" in status_line(app)


async def test_the_header_keeps_every_count_and_the_file_name_at_80_columns(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = text_of(app.dashboard.query_one("#status", Static)).splitlines()
        assert "filings.json" in lines[0]
        assert "✔ 6" in lines[1] and "sort urgency" in lines[1], lines


# -- item 8: clearing the filter keeps the highlighted row in view ---------------------------------


async def test_escape_after_a_filter_scrolls_to_the_highlighted_row(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.table
        last = table.rows[-1]
        await pilot.press("slash")
        await type_text(pilot, last.id)
        await pilot.press("enter")
        await pilot.pause()
        assert [e.id for e in table.rows] == [last.id]
        await pilot.press("escape")

        def in_view() -> bool:
            top = round(table.scroll_y)
            return top <= table.cursor < top + table.size.height - 1

        await wait_for(pilot, lambda: table.current is not None and table.current.id == last.id)
        await wait_for(pilot, in_view)
        assert last.id in screen_text(app)


# -- item 10: in 16 colours each health has its own colour, unlike the footer keys -----------------


async def test_sixteen_colours_give_each_health_its_own_colour(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.dashboard
        screen.add_class("ansi16")  # what a TERM=xterm terminal (color_system "standard") gets
        await pilot.pause()
        table = screen.table
        colours = {
            health: table.get_component_rich_style(f"filing-table--{health}").color
            for health in ("breached", "at_risk", "on_track", "waiting")
        }
        standard = {h: c.downgrade(ColorSystem.STANDARD).number for h, c in colours.items() if c}
        assert len(standard) == 4 and len(set(standard.values())) == 4, standard
        # red for breached, yellow (not a second red) for at risk
        assert standard["breached"] in (1, 9) and standard["at_risk"] in (3, 11), standard


# -- items 12 and 14: events have their own labels; the help says what re-sorting does -----------


async def test_a_note_is_an_event_with_its_own_label_not_a_why(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "phoned")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        body = app.dashboard.query_one("#detail-body", Static)
        await wait_for(pilot, lambda: "assigned" in text_of(body))
        lines = [line.strip("│┃ ") for line in text_of(body).splitlines()]
        assert any(line.startswith("note ") and "by alice" in line for line in lines), lines
        assert any(line.startswith("assigned ") and "alice" in line for line in lines), lines
        whys = [line for line in lines if line.startswith("why")]
        assert not any("note" in line for line in whys)


async def test_help_says_rows_re_sort_after_a_minute_idle_and_shows_its_text_as_written(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(text_of(app.screen.query_one(Static)).split())
        assert "re-sort by themselves after a minute without a key press" in text
        assert "never move" not in text
        # "[views]" is the config's section, once taken for a style tag and dropped.
        assert "the first three saved views (config [views])" in text


async def test_the_advance_question_keeps_its_end_and_offers_labels_only(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(1, Stage.AWAITING_SUBMISSION)])
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        shown = screen_text(app)
        # The long label wraps: the question still ends with "to:".
        assert "administration to:" in " ".join(shown.split())
        assert rule(Stage.SMS_VERIFICATION).label in shown
        assert "(sms_verification)" not in shown and "(withdrawn)" not in shown
