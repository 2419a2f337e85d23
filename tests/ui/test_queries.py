"""The dashboard's query box, saved views (7/8/9, the palette) and the state kept per user;
the dashboard and `list --query` select the same filings (a property test)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import Input
from ui_helpers import ACTOR, DB, NOW, build_app, notifications, screen_text, type_text, wait_for

from icp_tui.__main__ import main
from icp_tui.config import Reference, Settings
from icp_tui.domain.filing import Filing
from icp_tui.services import current_actor, fixed_clock
from icp_tui.ui.app import IcpApp, make_app
from icp_tui.ui.querybox import QueryBox
from icp_tui.ui.sticky import DashboardState, database_key, load_state

MakeDb = Callable[[Iterable[Filing]], Path]
VIEWS = (("late", "health:breached"), ("waiting long", "waiting:>2d"), ("zj", "province:浙江"))


def app_with(reference: Reference, state_file: Path | None = None, **extra: object) -> IcpApp:
    """The dashboard as `build_app` makes it, with saved views and a state file."""
    base = build_app(reference).settings
    chosen = replace(base, **{"views": VIEWS, "state_file": state_file, **extra})  # type: ignore[arg-type]
    return make_app(DB, reference, settings=chosen, clock=fixed_clock(NOW), actor=ACTOR)


def shown_ids(app: IcpApp) -> list[str]:
    return [e.id for e in app.dashboard.table.rows]


async def test_query_box_counts_as_you_type_and_shows_an_error_inline(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        everything = shown_ids(app)
        await pilot.press("slash")
        await type_text(pilot, "health:breached")
        box = app.dashboard.query_one(QueryBox)
        breached = shown_ids(app)
        assert breached and all(e.health.value == "breached" for e in app.dashboard.table.rows)
        assert box.input.border_subtitle == f"{len(breached)} of {len(everything)} in this view"
        assert f"{len(breached)} of {len(everything)} in this view" in screen_text(app)
        # A wrong term: the error shows under the box, the text stays; the table and the
        # status line keep the last whole query, not the half-typed free word "colour".
        await type_text(pilot, " colour")
        assert shown_ids(app) == []  # "colour" is a free word so far
        await type_text(pilot, ":red")
        assert box.input.value == "health:breached colour:red"
        assert "unknown field colour" in screen_text(app)
        await wait_for(pilot, lambda: shown_ids(app) == breached)
        assert "“health:breached”" in screen_text(app)
        assert f" · {len(breached)} of " in screen_text(app)
        assert "in this view" not in screen_text(app)  # no count for a wrong query
        await pilot.press("enter")  # a wrong query keeps the keys in the box
        assert app.focused is box.input
        await pilot.press(*["backspace"] * len(" colour:red"))
        await wait_for(pilot, lambda: not box.has_class("wrong"))
        assert "unknown field" not in screen_text(app)
        await type_text(pilot, " -escalate:yes")
        assert all(not e.escalate for e in app.dashboard.table.rows)
        await pilot.press("escape")
        await wait_for(pilot, lambda: shown_ids(app) == everything)


async def test_the_query_box_shown_or_hidden_moves_the_table_and_the_detail(
    demo_db: Path, reference: Reference
) -> None:
    """The box opens between the status lines and the table: the table and the detail move
    down and shrink by its height (laid out once), and take the room back when it closes."""
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        main = dashboard.query_one("#main")
        closed = main.region
        await pilot.press("slash")
        box = dashboard.query_one(QueryBox)
        await wait_for(pilot, lambda: box.region.height > 0)
        await pilot.pause()
        assert main.region.y == box.region.bottom
        assert main.region.bottom == closed.bottom
        for part in ("#table", "#detail"):
            assert dashboard.query_one(part).region.y == box.region.bottom
        await pilot.press("escape")
        await wait_for(pilot, lambda: main.region == closed)
        await pilot.pause()
        for part in ("#table", "#detail"):
            assert dashboard.query_one(part).region.y == closed.y
        assert "ICP-20" in screen_text(app)


async def test_saved_views_on_7_8_9_and_in_the_palette(demo_db: Path, reference: Reference) -> None:
    app = app_with(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        everything = {e.id: e for e in app.dashboard.table.rows}
        await pilot.press("7")
        late = shown_ids(app)
        assert late == [i for i in everything if everything[i].health.value == "breached"]
        assert "view late" in screen_text(app)
        await pilot.press("9")
        assert {everything[i].province for i in shown_ids(app)} == {"Zhejiang"}
        # The filter narrows the saved view further.
        await pilot.press("8", "slash")
        await type_text(pilot, "stage:await")
        assert shown_ids(app)
        assert all(e.stage.value.startswith("awaiting") for e in app.dashboard.table.rows)
        await pilot.press("escape", "1")
        assert len(shown_ids(app)) == len(everything)
        await pilot.press("ctrl+p")
        await type_text(pilot, "View: waiting long")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "view waiting long" in screen_text(app))
        assert all(e.health.value == "waiting" for e in app.dashboard.table.rows)


async def test_a_key_without_a_saved_view_does_nothing(demo_db: Path, reference: Reference) -> None:
    app = build_app(reference)  # no [views]
    async with app.run_test(size=(100, 30)) as pilot:
        before = shown_ids(app)
        await pilot.press("7", "8", "9")
        assert shown_ids(app) == before
        assert app.dashboard.view_title() == "all"


async def test_view_sort_and_filter_are_restored_from_the_users_state(
    demo_db: Path, reference: Reference, tmp_path: Path
) -> None:
    state = tmp_path / "state" / "icp-tui" / "dashboard.json"
    first = app_with(reference, state)
    async with first.run_test(size=(100, 30)) as pilot:
        await pilot.press("8", "s", "s", "s", "slash")  # urgency, due, likely approval, stage
        await type_text(pilot, "-health:done")
        await pilot.press("enter")
        await wait_for(pilot, lambda: first.remembered.filter == "-health:done")
        shown = shown_ids(first)
    kept = load_state(state, database_key(DB))
    assert kept == DashboardState("view:waiting long", "stage", "-health:done")
    assert not (tmp_path / "filings.json.state").exists()  # never beside the database
    again = app_with(reference, state)
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: shown_ids(again) == shown)
        screen = again.dashboard
        assert (screen.saved_view, screen.sort.value) == ("waiting long", "stage")
        assert screen.query_one("#filter", Input).value == "-health:done"
        assert "filter “-health:done”" in screen_text(again)


async def test_a_filter_cleared_just_before_quitting_is_not_restored(
    demo_db: Path, reference: Reference, tmp_path: Path
) -> None:
    """Quitting within the second in which the filter is kept once typing pauses."""
    state = tmp_path / "state" / "icp-tui" / "dashboard.json"
    first = app_with(reference, state)
    async with first.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "lina")
        await pilot.press("enter")
        await wait_for(pilot, lambda: first.remembered.filter == "lina")
        await pilot.press("escape")  # clears the filter; `q` at once
        await wait_for(pilot, lambda: first.dashboard.filter_query.text == "")
        await pilot.press("q")
    assert load_state(state, database_key(DB)) == DashboardState("ALL", "urgency", "")


async def test_a_damaged_state_file_is_ignored(
    demo_db: Path, reference: Reference, tmp_path: Path
) -> None:
    state = tmp_path / "dashboard.json"
    kept = json.dumps({"databases": {database_key(DB): {"view": "view:gone", "sort": "nope"}}})
    state.write_text(kept[:-3], encoding="utf-8")  # cut short
    app = app_with(reference, state)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.dashboard.view_title() == "all" and len(shown_ids(app)) == 40
    damaged = {"view": "view:gone", "sort": "nope", "filter": "colour:red", "x": 3}
    state.write_text(json.dumps({"databases": {database_key(DB): damaged}}), "utf-8")
    app = app_with(reference, state)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.dashboard.view_title() == "all" and len(shown_ids(app)) == 40
        assert "unknown field colour" in screen_text(app)  # said, with the text kept
        assert not notifications(app)


# -- the dashboard and `list --query` select the same filings --------------------------------

TERMS = [
    "health:breached", "health:at", "health:waiting", "-health:done", "stage:authority",
    "stage:pre", "province:Zhejiang", "province:广东", "assignee:me", "assignee:none",
    "ticket:no", "escalate:yes", "due:today", "due:<3bd", "due:<20h", "over:>1bd",
    "waiting:>3d", "expires:<12d", "cn", "科技", "-com",
]  # fmt: skip


def cli_ids(db: Path, query: str) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            ["list", "--json", "--db", str(db), "--now", NOW.isoformat(), f"--query={query}"]
        )
    assert code == 0
    return [row["id"] for row in json.loads(out.getvalue())]


async def dashboard_ids(reference: Reference, queries: list[str]) -> list[list[str]]:
    # The OS user, as the command line acts: assignee:me means the same person.
    app = make_app(
        DB, reference, settings=Settings(db_path=DB), clock=fixed_clock(NOW), actor=current_actor()
    )
    chosen = []
    async with app.run_test(size=(100, 30)) as pilot:
        for query in queries:
            await pilot.press("slash")
            app.dashboard.query_one("#filter", Input).value = query
            await wait_for(pilot, lambda q=query: app.dashboard.filter_query.text == q)
            chosen.append(shown_ids(app))
            await pilot.press("escape")
    return chosen


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    terms=st.lists(st.lists(st.sampled_from(TERMS), min_size=1, max_size=3), min_size=4, max_size=4)
)
def test_the_dashboard_and_list_query_select_the_same_filings(
    demo_db: Path, reference: Reference, terms: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(demo_db.parent / "config"))  # no machine config
    queries = [" ".join(t) for t in terms]
    on_screen = asyncio.run(dashboard_ids(reference, queries))
    for query, shown in zip(queries, on_screen, strict=True):
        assert shown == cli_ids(demo_db, query), query


@pytest.mark.parametrize(
    ("views", "said"),
    [
        ((), "No saved view 2 (key 8): the config file has no [views] (icp-tui config says where)"),
        (
            VIEWS[:1],
            "No saved view 2 (key 8): the config file has 1 view (icp-tui config says where)",
        ),
    ],
)
async def test_a_saved_view_key_the_config_has_no_view_for_says_so(
    demo_db: Path, reference: Reference, views: tuple[tuple[str, str], ...], said: str
) -> None:
    app = app_with(reference, views=views)
    async with app.run_test(size=(100, 30)) as pilot:
        before = shown_ids(app)
        await pilot.press("8")
        await wait_for(pilot, lambda: said in notifications(app))
        assert shown_ids(app) == before  # the view is as it was
