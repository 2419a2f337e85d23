"""The dashboard app and its factory (used by the command line and the tests alike)."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable
from copy import copy
from datetime import datetime
from functools import partial
from pathlib import Path

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from icp_tui.config import Reference, Settings
from icp_tui.display import inert
from icp_tui.domain.errors import IcpError
from icp_tui.domain.filing import BEIJING, Filing
from icp_tui.domain.provinces import icp_number_example, icp_number_problem
from icp_tui.domain.query import Query, QueryError, parse_query
from icp_tui.domain.sla import HEALTH_ORDER, Health
from icp_tui.domain.stages import REASONED_STAGES, Stage, rule
from icp_tui.domain.transitions import advance_targets, withdraw_refusal
from icp_tui.queue import QuerySelection, Queue, QueueEntry, Sort, View, health_counts, in_view
from icp_tui.report import build_report
from icp_tui.services import BatchResult, Clock, FilingService, system_clock
from icp_tui.store import (
    Location,
    StaleChange,
    Store,
    WakesOnChange,
    location_name,
    open_store,
)
from icp_tui.transfer import export_file_name, export_rows, save_csv, stored_filings
from icp_tui.ui.detail import FilingDetail
from icp_tui.ui.marks import batch_summary, marked_filings, people_seen
from icp_tui.ui.modals import (
    AdvanceScreen,
    AssignScreen,
    ConfirmScreen,
    DetailScreen,
    HelpScreen,
    ReasonScreen,
    TextPromptScreen,
    WithdrawScreen,
)
from icp_tui.ui.querybox import QueryBox
from icp_tui.ui.stats import StatsScreen
from icp_tui.ui.sticky import DashboardState, load_state, save_state
from icp_tui.ui.table import COLUMNS, DOMAIN_BONUS, TABLE_NEED, FilingTable

#: At this width and more, the detail sits beside the table; below, `enter` opens it.
WIDE = 120
#: Re-sort by itself only after the user has left the keyboard alone this long (seconds).
IDLE_RESORT = 60.0
VIEW_KEYS = dict(zip("123456", View, strict=True))
#: The keys of the first saved views (config [views]); the palette offers all of them.
SAVED_VIEW_KEYS = "789"
WRITE_ACTIONS = frozenset(
    {
        "advance",
        "withdraw",
        "note",
        "ticket",
        "undo",
        "take",
        "assign",
        "materials_received",
        "sms_resent",
    }
)
#: The actions that act on every marked filing while marks are set.
MARKED_ACTIONS = frozenset({"advance", "note", "take", "assign"})
#: The side pane never narrower than this (it wraps its lines below) ...
PANE_MIN = 34
#: ... nor wider than this share of the window.
PANE_SHARE = 0.45


def side_pane_width(width: int) -> int:
    """The side pane takes only what the table can spare.

    The table keeps every column staff need (TABLE_NEED, plus its scrollbar); beyond that it
    would like the entity and a wider domain before the pane grows past PANE_MIN.
    """
    table_need = TABLE_NEED + 1
    table_want = table_need + COLUMNS["entity"].width + 1 + DOMAIN_BONUS
    spare = width - table_need
    return max(0, min(spare, max(PANE_MIN, min(int(width * PANE_SHARE), width - table_want))))


#: Smaller than this, the layout cannot show what staff need: say so instead.
MIN_SIZE = (80, 24)

HELP_KEYS = (
    ("j / down", "next filing"),
    ("k / up", "previous filing"),
    ("pgup / pgdn", "page up / down"),
    ("home / end", "first / last filing"),
    ("enter", "open the detail (narrow terminal) or focus it"),
    ("a", "advance: pick the stage, confirm with y"),
    ("w", "withdraw: pick the reason, confirm with y"),
    ("n", "add a note (ctrl+o in the note box: write a long one in $EDITOR)"),
    ("t", "record the ticket of an escalated filing"),
    ("u", "undo your own last change (5 minutes)"),
    ("o", "take the filing: assign it to me (asks first if it is a colleague's)"),
    ("A", "assign the filing (or the marked ones) to anyone: pick a name or type one"),
    ("space", "mark / unmark the filing; with marks set, o, n, a and A act on all of them"),
    ("*", "mark every filing of the view"),
    ("-", "clear the marks"),
    ("c / C", "copy the filing's id / domain to your clipboard (OSC 52: over SSH and in tmux)"),
    ("x", "the mailed verification materials arrived (where the province asks for them)"),
    ("v", "the MIIT SMS was resent: its 24 hours restart (SMS check only)"),
    ("m", "mine only: toggle the queue of filings assigned to me"),
    ("e", "export the view as it is (filter, sort) to a CSV file: asks for the name"),
    ("g", "stats: filings per stage and health, breaches per day, review times"),
    (
        "/",
        "query as you type: words (id, domain, entity, province, assignee), health:, "
        "stage:, province:, assignee:NAME|me|none, ticket:yes|no, escalate:yes|no, due:today, "
        "due:<Nbd, due:<Nh, over:>Nbd, waiting:>Nd, expires:<Nd; a - negates a term",
    ),
    ("escape", "clear the filter"),
    ("s", "cycle the sort: urgency, due, stage, province, id"),
    (
        "r",
        "re-sort now (otherwise rows stay put while you work, and re-sort by themselves "
        "after a minute without a key press)",
    ),
    ("1 .. 6", "queues: all, mine, needs our action, applicant, authority, closed"),
    ("7 / 8 / 9", "the first three saved views (config [views]); ctrl+p lists them all"),
    ("ctrl+p", "command palette"),
    ("?", "this help"),
    ("q", "quit"),
)


class StoreChanged(Message):
    """Filings changed on disk (another user, the command line)."""

    def __init__(self, filings: list[Filing] | None, queue: Queue | None = None) -> None:
        self.filings = filings  # None: the whole database was reloaded...
        self.queue = queue  # ...and this is the queue rebuilt from it
        super().__init__()


class ChangeSaved(Message):
    """A change of ours is on disk."""

    def __init__(self, filing: Filing, said: str) -> None:
        self.filing = filing
        self.said = said
        super().__init__()


class ChangeRefused(Message):
    """A change of ours was refused; `fresh` is the filing as it now is, if known."""

    def __init__(self, said: str, fresh: Filing | None) -> None:
        self.said = said
        self.fresh = fresh
        super().__init__()


class BatchSaved(Message):
    """A change to many filings is done: each saved or refused on its own."""

    def __init__(self, result: BatchResult, done: str) -> None:
        self.result = result
        self.done = done  # "taken", "noted", "moved to ..." (after the count)
        super().__init__()


class StatusLine(Static):
    """Data file, Beijing time, counts per health, view, sort, last refresh."""


class DashboardScreen(Screen[None]):
    """The queue table, the detail of the highlighted filing, and the keys that act on it."""

    _detail_timer: Timer | None = None
    _remember_timer: Timer | None = None

    BINDINGS = [
        Binding("a", "advance", "Advance", id="advance"),
        Binding("a", "explain('advance')", show=False),
        Binding("w", "withdraw", "Withdraw", id="withdraw"),
        Binding("w", "explain('withdraw')", show=False),
        Binding("n", "note", "Note", id="note"),
        Binding("t", "ticket", "Ticket", id="ticket"),
        Binding("t", "explain('ticket')", show=False),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("u", "explain('undo')", show=False),
        Binding("o", "take", "Take", id="take", show=False),
        Binding("o", "explain('take')", show=False),
        Binding("x", "materials_received", "Materials in", id="materials", show=False),
        Binding("v", "sms_resent", "SMS resent", id="sms_resent", show=False),
        Binding("v", "explain('sms_resent')", show=False),
        Binding("x", "explain('materials_received')", show=False),
        Binding("A", "assign", "Assign", id="assign", show=False),
        Binding("space", "mark", "Mark", id="mark", show=False),
        Binding("asterisk", "mark_all", "Mark all", id="mark_all", show=False),
        Binding("minus", "clear_marks", "Clear marks", id="clear_marks", show=False),
        Binding("c", "copy('id')", "Copy id", id="copy_id", show=False),
        Binding("C", "copy('domain')", "Copy domain", id="copy_domain", show=False),
        Binding("m", "mine", "Mine", id="mine", show=False),
        Binding("e", "export", "Export", id="export", show=False),
        Binding("g", "stats", "Stats", id="stats", show=False),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        # Enter in the query box, handled at once (a priority key), not by a message that
        # keys typed right after it would overtake: they are dashboard keys again.
        Binding("enter", "query_done", show=False, priority=True),
        Binding("s", "cycle_sort", "Sort", id="sort"),
        Binding("r", "resort", "Re-sort", show=False),
        *(Binding(k, f"view('{v.name}')", v.value, show=False) for k, v in VIEW_KEYS.items()),
        *(
            Binding(k, f"saved_view({i})", f"saved view {i + 1}", show=False)
            for i, k in enumerate(SAVED_VIEW_KEYS)
        ),
    ]

    def compose(self) -> ComposeResult:
        app = self.icp
        yield StatusLine(id="status")
        yield Static(id="banner")
        yield Static(id="too-small")
        yield QueryBox(app.reference, id="query")
        with Horizontal(id="main"):
            yield FilingTable(app.reference, app.clock, id="table")
            yield FilingDetail(id="detail")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def icp(self) -> IcpApp:
        assert isinstance(self.app, IcpApp)
        return self.app

    @property
    def table(self) -> FilingTable:
        return self.query_one(FilingTable)

    def on_mount(self) -> None:
        self.view_name = View.ALL
        #: A saved view (config [views]) in force over "all", by name; None: a queue of 1-6.
        self.saved_view: str | None = None
        self._saved_query = Query()
        self.sort = Sort.URGENCY
        self.filter_query = Query()
        self._ordered: list[QueueEntry] = []
        self._last_input = time.monotonic()
        self._order_stale = False
        self._undone: str | None = None  # the change last undone, for a second `u`
        #: The marked filings' ids: the table draws their mark from this same set.
        self.marks: set[str] = self.table.marked
        self.query_one(QueryBox).show(False)
        self.restore(self.icp.remembered)
        self.reselect()
        self.table.focus()
        self.update_banner()
        self.update_status()
        self.set_interval(1.0, self.tick)
        self.set_interval(self.icp.refresh_seconds, self.icp.poll_store)

    def on_resize(self) -> None:
        width, height = self.size
        self.set_class(width >= WIDE, "wide")
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        self.set_class(small, "too-small")
        if small:
            self.query_one("#too-small", Static).update(
                Text(
                    f"Enlarge the window to at least {MIN_SIZE[0]}x{MIN_SIZE[1]} "
                    f"(it is {width}x{height} now).",
                    justify="center",
                )
            )
        if width >= WIDE:
            self.query_one(FilingDetail).styles.width = side_pane_width(width)
        self.show_detail()

    # -- selecting what the table shows -----------------------------------------------

    def reselect(self) -> None:
        """Recompute the sorted view (after a sort, view or re-sort), keep the cursor."""
        keep = self.table.current.id if self.table.current else None
        actor = self.icp.service.actor
        saved = self.saved_query()
        self._ordered = self.icp.queue.select(self.view_name, saved, actor, self.sort)
        self._selection: QuerySelection | None = None  # what typing narrows, from _ordered
        self._order_stale = False
        self.table.show_rows(self.filtered(self._ordered), keep)
        self.update_status()

    def apply_filter(self, query: Query) -> None:
        if self._selection is None:
            actor = self.icp.service.actor
            self._selection = QuerySelection(self.icp.queue, self._ordered, actor)
        self.filter_query = query
        keep = self.table.current.id if self.table.current else None
        self.table.show_rows(self._selection.select(query), keep)
        self.update_status()
        # Kept for the next start once typing pauses, not at every key.
        if self._remember_timer is not None:
            self._remember_timer.stop()
        self._remember_timer = self.set_timer(1.0, self.remember, name="remember")

    def filtered(self, entries: list[QueueEntry]) -> list[QueueEntry]:
        """`entries` that the query typed at `/` selects (the code `list --query` runs)."""
        return self.icp.queue.matching(entries, self.filter_query, self.icp.service.actor)

    def saved_query(self) -> Query:
        """The query of the saved view in force (an empty one in the queues of 1-6)."""
        return self._saved_query if self.saved_view else Query()

    def choose_saved_view(self, index: int) -> bool:
        """Put the index-th saved view in force; False (and says why) if its query is wrong."""
        name, text = self.icp.settings.views[index]
        try:
            query = parse_query(text, self.icp.reference.provinces)
        except QueryError as error:  # a province the team's data does not know
            self.notify(inert(f"View {name}: {error}"), severity="error", markup=False)
            return False
        self.view_name, self.saved_view, self._saved_query = View.ALL, name, query
        return True

    def restore(self, state: DashboardState) -> None:
        """Take back the view, sort and filter of the last session (what still makes sense)."""
        names = [name for name, _ in self.icp.settings.views]
        if state.view.startswith("view:") and state.view[5:] in names:
            self.choose_saved_view(names.index(state.view[5:]))
        elif state.view in View.__members__:
            self.view_name = View[state.view]
        if state.sort in Sort._value2member_map_:
            self.sort = Sort(state.sort)
        if state.filter:
            box = self.query_one(QueryBox)
            query = box.parse(state.filter)
            box.input.value = state.filter
            box.show(True)
            if query is not None:
                self.filter_query = query

    def remember(self) -> None:
        """Keep the view, sort and filter for the next start (in the user's state folder)."""
        view = f"view:{self.saved_view}" if self.saved_view else self.view_name.name
        self.icp.remember(DashboardState(view, self.sort.value, self.filter_query.text))

    # -- periodic work ---------------------------------------------------------------

    def tick(self) -> None:
        """Move health with the clock; re-sort by itself only when the user is idle."""
        now = self.icp.clock()
        changed = self.icp.queue.refresh(now)
        if changed:
            self._order_stale = True
            self._selection = None  # healths moved: typing starts from the whole view again
            self.table.update_entries(changed)
            breached = self.icp.queue.newly_breached
            if breached and self.icp.settings.bell_on_breach:
                self.app.bell()
            if len(breached) > 3:
                self.notify(f"{len(breached)} filings have just breached", severity="error")
            else:
                for entry in breached:
                    said = inert(f"{entry.id} has breached ({rule(entry.stage).short})")
                    self.notify(said, severity="error", markup=False)
        if self._order_stale and time.monotonic() - self._last_input > IDLE_RESORT:
            self.reselect()
        self.table.refresh()  # "left" and "in stage" move with the clock
        self.update_status()

    def on_key(self) -> None:
        self._last_input = time.monotonic()

    def filings_changed(self, filings: list[Filing] | None) -> None:
        queue = self.icp.queue
        if filings is None:
            self.reselect()
        else:
            entries = [queue.put(f) for f in filings]
            missing = self.table.update_entries(entries)
            actor = self.icp.service.actor
            fresh = [e for e in missing if in_view(self.view_name, e, actor)]
            fresh = queue.matching(fresh, self.saved_query(), actor)
            if fresh:
                # New to this view: keep them for the next filter too, until the next re-sort.
                known = {e.id for e in self._ordered}
                self._ordered += [e for e in fresh if e.id not in known]
            self.table.append_entries(self.filtered(fresh))
            self._order_stale = True
            self._selection = None
        self.icp.last_refresh = self.icp.clock()
        self.update_banner()
        self.update_status()
        self.show_detail()

    # -- header, banner, detail --------------------------------------------------------

    def update_status(self) -> None:
        app = self.icp
        rows = self.table.rows
        counts = health_counts(rows)  # the view's, not the whole queue's
        width = max(20, self.size.width)
        now = app.clock().astimezone(BEIJING)
        first = Text()
        first.append(f" {now:%Y-%m-%d %H:%M} Beijing", "bold")
        if app.service.store.read_only:
            first.append("  READ-ONLY", "bold reverse")
        if app.last_refresh:
            first.append(f"  refreshed {app.last_refresh.astimezone(BEIJING):%H:%M:%S}", "dim")
        # The path last, cut from the left: its file name is what tells two databases apart.
        room = width - first.cell_len - 2
        path = app.display_path
        if cell_len(path) > room:
            path = "…" + path[-max(1, room - 1) :]
        first.append(f"  {path}")
        # View, filter and row count first: they say what the counts are of.
        second = Text(" ")
        second.append(self.view_title(), "bold")
        if self.filter_query:
            second.append(" · filter ")
            second.append(f"“{inert(self.filter_query.text)}”", "bold")
        total = len(app.queue.entries)
        if self.marks:
            second.append(f" · {len(self.marks)} marked", "bold")
        second.append(f" · {len(rows)} of {total} │ " if len(rows) != total else f" · {total} │ ")
        words = Text()
        glyphs = Text()
        for health in HEALTH_ORDER:
            style = "bold" if health is Health.BREACHED and counts[health] else ""
            words.append(f"{health.glyph} {counts[health]} {health.word}  ", style)
            glyphs.append(f"{health.glyph} {counts[health]}  ", style)
        sort = Text(f"sort {self.sort.value}", "dim")
        # Narrow: the words go (each glyph is distinct), rather than the last counts or the
        # sort in force being cut off.
        for candidate in (second + words + sort, second + glyphs + sort):
            if candidate.cell_len <= width:
                break
        second = candidate
        for line in (first, second):
            line.no_wrap = True
            line.overflow = "ellipsis"
        self.query_one(StatusLine).update(Group(first, second))
        self.query_one(QueryBox).counted(len(rows), len(self._ordered))
        self.table.empty_message = self._empty_message()

    def view_title(self) -> str:
        """The queue or saved view in force, as the status line names it."""
        return f"view {inert(self.saved_view)}" if self.saved_view else self.view_name.value

    def _empty_message(self) -> str:
        where = f"in “{self.view_title()}”"
        if self.filter_query:
            return (
                f"No filing matches “{inert(self.filter_query.text)}” {where}. "
                "Escape clears the filter; 1 shows all filings."
            )
        if self.view_name is View.ALL and not self.saved_view:
            return "No filings in this database yet."
        return f"No filing {where}. 1 shows all filings."

    def update_banner(self) -> None:
        app = self.icp
        messages = []
        if app.service.store.read_only:
            messages.append(f"Read-only: {app.service.store.read_only_reason}")
        if app.poll_error:
            messages.append(f"{inert(app.poll_error)}; retrying")
        for year in app.reference.calendar.provisional_years(app.queue.years_in_use()):
            messages.append(
                f"{year} is provisional: no official holiday schedule yet, so its business days "
                f"follow the statutory holidays with no adjusted working days; "
                f"{app.reference.holidays_advice(year)}"
            )
        banner = self.query_one("#banner", Static)
        banner.update(Text("\n".join(f"⚠ {m}" for m in messages)))
        banner.set_class(bool(messages), "shown")

    def current_filing(self) -> Filing | None:
        """The highlighted filing as stored; the row follows if the store knows a newer one."""
        entry = self.table.current
        if entry is None:
            return None
        try:
            filing = self.icp.service.store.get(entry.id)
        except IcpError as error:
            self.notify(inert(str(error)), severity="error", markup=False)
            return None
        if filing.version != entry.version:
            # Our own save caught up with others' changes before the next poll shows them.
            self.filings_changed([filing])
        return filing

    def show_detail(self) -> None:
        opened = [s for s in self.app.screen_stack if isinstance(s, DetailScreen)]
        if not self.has_class("wide") and not opened:
            return
        filing = self.current_filing()
        if self.has_class("wide"):
            self.query_one(FilingDetail).show(filing, self.icp.reference, self.icp.clock())
        for screen in opened:  # the full-screen detail follows live changes too
            if filing is not None and filing.id == screen.filing.id:
                screen.show(filing, self.icp.clock())

    @on(FilingTable.Highlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()
        # Building the panes is cheap but not free: do it once the cursor rests.
        if self.has_class("wide"):
            if self._detail_timer is not None:
                self._detail_timer.stop()  # the cursor moved on: only the last one counts
            self._detail_timer = self.set_timer(0.05, self.show_detail, name="detail")

    @on(FilingDetail.Left)
    def _detail_left(self) -> None:
        self.table.focus()

    @on(FilingTable.Selected)
    def _selected(self, event: FilingTable.Selected) -> None:
        if self.has_class("wide"):
            self.query_one(FilingDetail).focus()
            return
        filing = self.current_filing()
        if filing is not None:
            self.app.push_screen(DetailScreen(filing, self.icp.reference, self.icp.clock()))

    # -- which keys apply ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "query_done":  # enter is the query box's only while it has the keys
            return self.is_mounted and self.focused is self.query_one(QueryBox).input
        if action == "saved_view":  # 7-9 only when the config has that many views
            index = parameters[0]
            return isinstance(index, int) and index < len(self.icp.settings.views)
        if action not in WRITE_ACTIONS and action != "explain":
            return True
        entry = self.table.current if self.is_mounted else None
        read_only = self.icp.service.store.read_only
        if self.is_mounted and self.marks and (action in MARKED_ACTIONS or action == "explain"):
            if action == "explain":  # with marks, these keys act on them (the action says why not)
                return False if parameters[0] in MARKED_ACTIONS else None
            return None if read_only else True
        if action == "explain":  # a key that does nothing here says why, once it is greyed out
            kind = str(parameters[0])
            if read_only:
                return False
            if kind == "undo":
                return not self._may_undo()
            return entry is not None and not self._may(kind, entry)
        if read_only:
            return None
        if action == "undo":
            return True if self._may_undo() else None
        if entry is None:
            return None
        return True if self._may(action, entry) else None

    def _may_undo(self) -> bool:
        # Not while a save is on its way: it would undo the one before.
        service = self.icp.service
        return bool(service.last_change or service.last_batch) and not self.icp.saves_pending

    def _may(self, action: str, entry: QueueEntry) -> bool:
        if action == "advance":
            return bool(advance_targets(entry.stage))
        if action == "withdraw":
            return rule(entry.stage).may_withdraw
        if action == "ticket":
            return entry.escalate
        if action == "materials_received":
            return entry.mailing_pending
        if action == "sms_resent":
            return entry.stage is Stage.SMS_VERIFICATION
        if action == "take":
            return entry.assignee != self.icp.service.actor
        return True

    def action_explain(self, kind: str) -> None:
        if kind == "undo":
            self.notify(inert(self._why_no_undo()), severity="warning", markup=False)
            return
        filing = self.current_filing()
        if filing is None:
            return
        if kind == "withdraw":
            said = withdraw_refusal(filing) or ""
        elif kind == "advance":
            said = f"{filing.id} is {rule(filing.stage).label}: a closed filing does not move"
        elif kind == "materials_received":
            said = self._why_no_materials(filing)
        elif kind == "take":
            said = f"{filing.id} is yours already"
        elif kind == "sms_resent":
            said = f"{filing.id} is not in the SMS check: there is no SMS to resend"
        else:
            said = (
                f"{filing.id} does not need a ticket: it is not over "
                f"{self.icp.reference.policy.escalate_after_bd} bd in Alibaba Cloud review"
            )
        self.notify(inert(said), severity="warning", markup=False)

    def _why_no_undo(self) -> str:
        if self.icp.saves_pending:
            return "Nothing to undo yet: your change is still being saved"
        if self._undone:
            return f"Nothing to undo: {self._undone} was undone already (one step only)"
        return "Nothing to undo: you have made no change in this session"

    def _why_no_materials(self, filing: Filing) -> str:
        province = self.icp.reference.provinces.get(filing.province)
        if province is None or not province.requires_mailing:
            return f"{filing.id}: {filing.province} does not ask for mailed materials"
        if filing.checklist.materials_received:
            return f"{filing.id}: the mailed materials are recorded as received already"
        return (
            f"{filing.id} is {rule(filing.stage).label}: materials are awaited only "
            "between the photo and the submission to the authority"
        )

    # -- actions -----------------------------------------------------------------------

    def action_advance(self) -> None:
        if self.marks:
            self.advance_marked()
            return
        filing = self.current_filing()
        if filing is None:
            return
        targets = advance_targets(filing.stage)
        if not targets:  # closed since the row was drawn
            self.action_explain("advance")
            return
        version = filing.version

        def save(target: Stage, reason: str = "", number: str | None = None) -> None:
            self.icp.save(
                lambda s: s.advance(
                    filing.id, target, reason, expected_version=version, icp_number=number
                ),
                f"{filing.id} moved to {rule(target).label}",
            )

        def chosen(target: Stage | None) -> None:
            if target is None:
                return
            if target is Stage.APPROVED:  # the stage means "ICP number issued": ask for it
                prompt = TextPromptScreen(
                    f"ICP number issued to {filing.id} ({filing.province}):",
                    f"e.g. {icp_number_example(filing.province)}",
                    check=lambda n: icp_number_problem(n, filing.province),
                )
                self.app.push_screen(prompt, lambda n: save(target, number=n) if n else None)
            elif target in REASONED_STAGES:
                reasons = self.icp.reference.reasons.offered(target)
                self.app.push_screen(
                    ReasonScreen(filing.id, target, reasons),
                    lambda r: save(target, reason=r) if r else None,
                )
            else:
                save(target)

        screen = AdvanceScreen(filing.id, filing.stage, targets, rule(filing.stage).happy_next)
        self.app.push_screen(screen, chosen)

    def action_withdraw(self) -> None:
        filing = self.current_filing()
        if filing is None:
            return
        version = filing.version

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.icp.save(
                    lambda s: s.withdraw(filing.id, reason, expected_version=version),
                    f"{filing.id} withdrawn ({reason})",
                )

        self.app.push_screen(WithdrawScreen(filing.id, self.icp.settings.withdraw_reasons), chosen)

    def action_note(self) -> None:
        if self.marks:
            self.note_marked()
            return
        self._prompt("note", "Note on {id}:", "what happened, what to do next")

    def action_ticket(self) -> None:
        filing = self.current_filing()
        # Recording a ticket replaces the one there: say which, so it is not lost unseen.
        prompt = "Ticket opened with the ICP Filing team for {id}:"
        if filing is not None and filing.ticket:
            prompt = (
                f"{{id}} has ticket {filing.ticket} already.\n"
                "A new reference replaces it (escape keeps it):"
            )
        self._prompt("ticket", prompt, "e.g. TK2026112500012")

    def _prompt(self, kind: str, prompt: str, placeholder: str) -> None:
        filing = self.current_filing()
        if filing is None:
            return
        version = filing.version

        def typed(text: str | None) -> None:
            if text is None:
                return
            if kind == "note":
                # Notes only append: saving on top of someone else's change loses nothing.
                self.icp.save(
                    lambda s: s.note(filing.id, text),
                    f"note added to {filing.id}",
                )
            else:
                self.icp.save(
                    lambda s: s.record_ticket(filing.id, text, expected_version=version),
                    f"ticket recorded on {filing.id}",
                )

        screen = TextPromptScreen(prompt.format(id=filing.id), placeholder, editor=kind == "note")
        self.app.push_screen(screen, typed)

    def action_take(self) -> None:
        if self.marks:
            self.assign_marked(self.icp.service.actor)
            return
        filing = self.current_filing()
        if filing is None:
            return
        me, version = self.icp.service.actor, filing.version
        if filing.assignee == me:
            self.action_explain("take")
            return

        def take(yes: bool | None) -> None:
            if yes:
                self.icp.save(
                    lambda s: s.assign(filing.id, me, expected_version=version),
                    f"{filing.id} assigned to you ({me})",
                )

        if filing.assignee:  # a colleague's: taking it from them is asked, never silent
            question = f"{filing.id} is assigned to {filing.assignee}. Take it from them?"
            self.app.push_screen(ConfirmScreen(question, "take it"), take)
        else:
            take(True)

    def action_export(self) -> None:
        # Copies: the worker must not read entries the UI thread updates in place.
        entries = [copy(entry) for entry in self.table.rows]
        default = Path(export_file_name(self.icp.clock())).resolve()

        def chosen(name: str | None) -> None:
            if name is not None:
                self.icp.export_view(entries, Path(name.strip()).expanduser())

        prompt = f"Export the {len(entries)} filings of this view (filter and sort) to:"
        screen = TextPromptScreen(prompt, "a .csv file name", str(default), action="write it")
        self.app.push_screen(screen, chosen)

    def action_stats(self) -> None:
        self.icp.open_stats()

    def action_materials_received(self) -> None:
        filing = self.current_filing()
        if filing is None:
            return
        version = filing.version
        self.icp.save(
            lambda s: s.record_materials(filing.id, received=True, expected_version=version),
            f"materials received recorded on {filing.id} (u undoes it)",
        )

    def action_sms_resent(self) -> None:
        filing = self.current_filing()
        if filing is None:
            return
        version = filing.version
        self.icp.save(
            lambda s: s.sms_resent(filing.id, expected_version=version),
            f"SMS resend recorded on {filing.id}: the 24 hours restart",
        )

    def action_mine(self) -> None:
        self.view_name = View.ALL if self.view_name is View.MINE else View.MINE
        self.saved_view = None
        self.reselect()
        self.remember()

    def action_undo(self) -> None:
        if self.icp.service.last_batch:
            self.icp.save_batch(lambda s: s.undo_batch(), "undone")
            return
        last = self.icp.service.last_change
        if last is None:
            return
        what = undo_words(last.what, last.before)
        self._undone = what
        self.icp.save(lambda s: s.undo(), f"Undone: {what}")

    def action_copy(self, what: str) -> None:
        """Copy the highlighted filing's id or domain to the clipboard of the terminal the
        user sits at (OSC 52: it crosses SSH; in tmux, with set-clipboard on)."""
        entry = self.table.current
        if entry is None:
            return
        text = entry.id if what == "id" else entry.domain
        self.app.copy_to_clipboard(text)
        self.notify(inert(f"Copied {what} {text}"), timeout=3, markup=False)

    # -- marks and acting on many -------------------------------------------------------

    def action_mark(self) -> None:
        entry = self.table.current
        if entry is not None:
            self.marks.symmetric_difference_update({entry.id})
            self.marks_changed()

    def action_mark_all(self) -> None:
        self.marks.update(e.id for e in self.table.rows)
        self.marks_changed()

    def action_clear_marks(self) -> None:
        self.marks.clear()
        self.marks_changed()

    def marks_changed(self) -> None:
        self.table.refresh()
        self.update_status()
        self.refresh_bindings()

    def marked_entries(self) -> list[QueueEntry]:
        """The marked filings as the user sees them (their versions are the ones checked)."""
        entries = self.icp.queue.entries
        return [entries[i] for i in sorted(self.marks) if i in entries]

    def action_assign(self) -> None:
        people = people_seen(self.icp.queue.entries.values(), self.icp.service.actor)
        if self.marks:
            what = marked_filings(len(self.marks))
            done = self.assign_marked
        else:
            entry = self.table.current
            if entry is None:
                return
            what, fid, version = entry.id, entry.id, entry.version

            def done(name: str | None) -> None:
                self.icp.save(
                    lambda s: s.assign(fid, name, expected_version=version),
                    f"{fid} assigned to {name or 'nobody'}",
                )

        def picked(name: str | None) -> None:
            if name:
                done(None if name == "-" else name)

        self.app.push_screen(AssignScreen(what, people), picked)

    def assign_marked(self, name: str | None) -> None:
        """Give every marked filing to `name` (None: nobody), after one question."""
        me = self.icp.service.actor
        entries = self.marked_entries()
        todo = [(e.id, e.version) for e in entries if e.assignee != name]
        whom = "you" if name == me else name or "nobody"
        if not todo:
            self.notify(inert(f"The marked filings are all assigned to {whom} already."))
            return
        verb = "Take" if name == me else "Assign"
        question = f"{verb} {marked_filings(len(todo))}? They go to {whom}."
        theirs = sum(1 for e in entries if e.assignee and e.assignee not in (name, me))
        if theirs:
            question += f" {theirs} of them are assigned to colleagues now."
        if len(todo) < len(entries):
            question += f" ({len(entries) - len(todo)} are {whom}'s already: left as they are.)"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.icp.save_batch(
                    lambda s: s.for_each(
                        todo, lambda s, fid, v: s.assign(fid, name, expected_version=v)
                    ),
                    "taken" if name == me else f"assigned to {whom}",
                )

        yes = "take them" if name == me else "assign them"
        self.app.push_screen(ConfirmScreen(question, yes), confirmed)

    def note_marked(self) -> None:
        todo: list[tuple[str, int | None]] = [(e.id, None) for e in self.marked_entries()]
        prompt = f"Note on each of {marked_filings(len(todo))} (enter adds it to all):"

        def typed(text: str | None) -> None:
            if text is not None:
                # Notes only append: none is refused for a change made meanwhile.
                self.icp.save_batch(
                    lambda s: s.for_each(todo, lambda s, fid, _: s.note(fid, text)), "noted"
                )

        screen = TextPromptScreen(prompt, "what happened, what to do next", editor=True)
        self.app.push_screen(screen, typed)

    def advance_marked(self) -> None:
        entries = self.marked_entries()
        stages = {e.stage for e in entries}
        if len(stages) != 1:
            names = ", ".join(sorted(rule(s).short for s in stages))
            self.notify(
                f"The marked filings are in {len(stages)} stages ({names}): advance moves "
                "marked filings that share one stage only",
                severity="warning",
            )
            return
        (stage,) = stages
        # Approval records each filing's own ICP number: one at a time.
        targets = [t for t in advance_targets(stage) if t is not Stage.APPROVED]
        if not targets:
            why = (
                "approve them one at a time (each has its own ICP number)"
                if advance_targets(stage)
                else "a closed filing does not move"
            )
            self.notify(f"The marked filings are {rule(stage).label}: {why}", severity="warning")
            return
        todo: list[tuple[str, int | None]] = [(e.id, e.version) for e in entries]
        what = marked_filings(len(todo))

        def save(target: Stage, reason: str = "") -> None:
            self.icp.save_batch(
                lambda s: s.for_each(
                    todo, lambda s, fid, v: s.advance(fid, target, reason, expected_version=v)
                ),
                f"moved to {rule(target).label}",
            )

        def chosen(target: Stage | None) -> None:
            if target is None:
                return
            if target in REASONED_STAGES:
                reasons = self.icp.reference.reasons.offered(target)
                self.app.push_screen(
                    ReasonScreen(what, target, reasons),
                    lambda r: save(target, reason=r) if r else None,
                )
            else:
                save(target)

        preselected = rule(stage).happy_next
        self.app.push_screen(AdvanceScreen(what, stage, targets, preselected), chosen)

    def action_filter(self) -> None:
        box = self.query_one(QueryBox)
        box.show(True)
        # At once, not after the pending events (as focus() does): the keys typed or pasted
        # right after `/` are query text, never dashboard keys.
        self.set_focus(box.input)

    def action_clear_filter(self) -> None:
        box = self.query_one(QueryBox)
        with box.input.prevent(Input.Changed):
            box.input.value = ""
        box.parse("")
        box.show(False)
        self.apply_filter(Query())
        self.table.focus()

    @on(QueryBox.Changed)
    def _filter_changed(self, event: QueryBox.Changed) -> None:
        self.apply_filter(event.query)

    def action_query_done(self) -> None:
        # A wrong query keeps the keys in the box, so the text can be mended.
        if not self.query_one(QueryBox).has_class("wrong"):
            self.set_focus(self.table)

    def action_cycle_sort(self) -> None:
        order = list(Sort)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        self.reselect()
        self.remember()

    def action_resort(self) -> None:
        self.reselect()

    def action_view(self, name: str) -> None:
        self.view_name = View[name]
        self.saved_view = None
        self.reselect()
        self.remember()

    def action_saved_view(self, index: int) -> None:
        if index < len(self.icp.settings.views) and self.choose_saved_view(index):
            self.reselect()
            self.remember()

    # -- what the workers report (posted here: a screen already closed by a shutdown drops them)

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if message.filings is None:
            assert message.queue is not None
            self.icp.queue = message.queue
        self.filings_changed(message.filings)

    @on(ChangeSaved)
    def _saved(self, message: ChangeSaved) -> None:
        self._save_done()
        self.filings_changed([message.filing])
        # The message may hold what someone typed (a withdraw reason): inert, never markup.
        self.notify(inert(message.said), timeout=4, markup=False)

    def _save_done(self) -> None:
        self.icp.saves_pending -= 1
        self.refresh_bindings()

    @on(BatchSaved)
    def _batch_saved(self, message: BatchSaved) -> None:
        self._save_done()
        result = message.result
        self.filings_changed([*result.done, *result.fresh])
        self.marks.difference_update(f.id for f in result.done)  # the refused stay marked
        self.marks_changed()
        done = message.done
        if result.done and done != "undone":
            done += " (u undoes them)"
        said = batch_summary(result, done)
        severity: SeverityLevel = "warning" if result.refused else "information"
        self.notify(inert(said), severity=severity, timeout=10, markup=False)

    @on(ChangeRefused)
    def _refused(self, message: ChangeRefused) -> None:
        self._save_done()
        if message.fresh is not None:
            self.filings_changed([message.fresh])
        self.notify(inert(message.said), severity="error", timeout=8, markup=False)


def undo_words(what: str, before: Filing) -> str:
    """The change an undo takes back, named with its filing, in words."""
    fid = before.id
    if what in ("advance", "withdraw"):
        return f"your move of {fid} (back to {rule(before.stage).label})"
    return {
        "note": f"your note on {fid}",
        "ticket": f"the ticket you recorded on {fid}",
        "materials": f"materials received on {fid}",
        "assign": f"your assignment of {fid}",
    }.get(what, f"your last change to {fid}")


class FilingCommands(Provider):
    """The filing actions in the command palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, str, str]]:
        commands = [
            ("Advance the highlighted filing", "advance", "move it to the next stage"),
            ("Withdraw the highlighted filing", "withdraw", "before submission only"),
            ("Add a note to the highlighted filing", "note", ""),
            ("Record a ticket for the highlighted filing", "ticket", "escalated filings"),
            ("Undo my last change", "undo", "within 5 minutes"),
            ("Take the highlighted filing (assign it to me)", "take", "key o"),
            ("Mailed materials received", "materials_received", "key x"),
            ("The SMS was resent", "sms_resent", "key v"),
            ("Show only my filings / all filings", "mine", "key m"),
            ("Export the view to a CSV file", "export", "key e"),
            ("Statistics", "stats", "key g"),
            ("Filter the queue", "filter", ""),
            ("Cycle the sort order", "cycle_sort", ""),
            ("Re-sort now", "resort", ""),
        ]
        commands += [
            (f"Queue: {v.value}", f"view('{v.name}')", f"key {k}") for k, v in VIEW_KEYS.items()
        ]
        assert isinstance(self.app, IcpApp)
        for i, (name, query) in enumerate(self.app.settings.views):
            key = f"key {SAVED_VIEW_KEYS[i]}: " if i < len(SAVED_VIEW_KEYS) else ""
            commands.append((f"View: {name}", f"saved_view({i})", f"{key}{query}"))
        return commands

    def _entries(self) -> list[tuple[str, Callable[[], object], str, bool]]:
        """The app's commands first, then Textual's own (theme, keys, quit...)."""
        assert isinstance(self.app, IcpApp)
        dashboard = self.app.dashboard
        entries: list[tuple[str, Callable[[], object], str, bool]] = [
            (title, partial(dashboard.run_action, action), help_text, True)
            for title, action, help_text in self._commands()
        ]
        entries += [
            (c.title, c.callback, c.help, c.discover)
            for c in self.app.get_system_commands(self.screen)
        ]
        return entries

    async def discover(self) -> Hits:
        for title, command, help_text, shown in self._entries():
            if shown:
                yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command, help_text, _ in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)


class IcpApp(App[int]):
    """The ICP filing queue dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "icp-tui"
    # Ours only: it lists Textual's own commands too, after the app's (a set has no order).
    COMMANDS = {FilingCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        # Over SSH people press ctrl+c to leave; a focused text box still takes it as copy.
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]

    def __init__(
        self,
        service: FilingService,
        queue: Queue,
        settings: Settings,
        display_path: str,
        remembered: DashboardState | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.queue = queue
        self.settings = settings
        self.reference: Reference = service.reference
        self.clock: Clock = service.clock
        self.display_path = display_path
        self.refresh_seconds = settings.refresh_seconds
        self.last_refresh: datetime | None = service.clock()
        # One store operation at a time: polls and saves run in worker threads.
        self.store_lock = threading.Lock()
        self.saves_pending = 0
        #: The refresh error last told, while it lasts (the banner shows it too).
        self.poll_error: str | None = None
        # Held, not looked up in the screen stack: shutdown empties the stack while a dialog's
        # answer or a save's result may still arrive (a signal right after a save key).
        self.dashboard = DashboardScreen()
        #: The view, sort and filter of the user's last session (restored on mount).
        self.remembered = remembered or DashboardState()

    def on_mount(self) -> None:
        self.theme = self.settings.theme
        # `kill` or a dropped SSH connection: leave like `q` does (the terminal is restored;
        # a save under way is one fsynced journal line, so it is whole or absent either way).
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self.exit)
        # 16 colours turn $error and $warning into the same bright red: name distinct ones.
        self.dashboard.set_class(self.console.color_system in ("standard", "windows"), "ansi16")
        self.push_screen(self.dashboard)
        if isinstance(self.service.store, WakesOnChange):
            self.follow_changes(self.service.store)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(HELP_KEYS))

    # -- disk work, in threads ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="wake", exit_on_error=False)
    def follow_changes(self, store: WakesOnChange) -> None:
        """Poll as soon as another dashboard commits, not only at the next refresh."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            if store.wait_for_change(1.0) and not worker.is_cancelled:
                self.call_from_thread(self.poll_store)

    @work(thread=True, exclusive=True, group="sticky", exit_on_error=False)
    def remember(self, state: DashboardState) -> None:
        """Write the dashboard's state to the user's state folder (the latest one wins)."""
        path = self.settings.state_file
        if path is None or state == self.remembered:
            return
        try:
            save_state(path, state)
        except OSError as error:  # a full or read-only home: said, never fatal
            said = f"Cannot keep the view for next time: {error}"
            self.call_from_thread(self.notify, inert(said), severity="warning", markup=False)
            return
        self.remembered = state

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll_store(self) -> None:
        """Pick up changes made by others: reads only what was appended since last time."""
        try:
            with self.store_lock:
                changed = self.service.store.poll()
        except IcpError as error:
            said = f"Cannot refresh: {error}"
            if said != self.poll_error:  # once, not at every poll while it lasts
                self.poll_error = said
                self.call_from_thread(self.notify, inert(said), severity="error", markup=False)
                self.call_from_thread(self.dashboard.update_banner)
            return
        if self.poll_error is not None:  # back (a restarted database): the banner clears
            self.poll_error = None
            self.call_from_thread(self.dashboard.update_banner)
        if changed is None or changed:
            fresh = None
            if changed is None:
                with self.store_lock:
                    fresh = rebuild_queue(self.service.store, self.reference, self.clock())
            self.dashboard.post_message(StoreChanged(changed, fresh))
        else:
            self.last_refresh = self.clock()

    def save(self, change: Callable[[FilingService], Filing], said: str) -> None:
        """Save one change off the UI; counted until done, so `u` waits for the right one."""
        self.saves_pending += 1
        self.dashboard.refresh_bindings()
        self._save(change, said)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, change: Callable[[FilingService], Filing], said: str) -> None:
        """Run one change through the service (locked, versioned, fsynced)."""
        try:
            with self.store_lock:
                filing = change(self.service)
        except StaleChange as error:
            self.dashboard.post_message(ChangeRefused(str(error), error.current))
            return
        except IcpError as error:
            self.dashboard.post_message(ChangeRefused(str(error), None))
            return
        self.dashboard.post_message(ChangeSaved(filing, said))
        try:
            with self.store_lock:
                self.service.store.compact_if_due()
        except IcpError as error:
            self.call_from_thread(
                self.notify,
                inert(f"Compaction postponed: {error}"),
                severity="warning",
                markup=False,
            )

    def save_batch(self, change: Callable[[FilingService], BatchResult], done: str) -> None:
        """Save a change to many filings off the UI (counted like `save`)."""
        self.saves_pending += 1
        self.dashboard.refresh_bindings()
        self._save_batch(change, done)

    @work(thread=True, group="save", exit_on_error=False)
    def _save_batch(self, change: Callable[[FilingService], BatchResult], done: str) -> None:
        with self.store_lock:
            result = change(self.service)
        self.dashboard.post_message(BatchSaved(result, done))
        try:
            with self.store_lock:
                self.service.store.compact_if_due()
        except IcpError as error:
            self.call_from_thread(
                self.notify,
                inert(f"Compaction postponed: {error}"),
                severity="warning",
                markup=False,
            )

    @work(thread=True, group="export", exit_on_error=False)
    def export_view(self, entries: list[QueueEntry], path: Path) -> None:
        """Write the rows as shown (filter, sort) to the CSV file `path` (a new file)."""
        now = self.clock()
        path = path.resolve()
        if path.exists():
            said = f"Not exported: {path} exists already (choose another name)"
            self.call_from_thread(self.notify, inert(said), severity="warning", markup=False)
            return
        try:
            with self.store_lock:
                rows = export_rows(entries, self.service.store.get, self.reference, now)
            save_csv(path, rows)
        except (IcpError, OSError) as error:
            said, severity = f"Export failed: {error}", "error"
        else:
            said, severity = f"Exported {len(rows)} filings to {path}", "information"
        self.call_from_thread(self.notify, inert(said), severity=severity, markup=False)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def open_stats(self) -> None:
        """Build the report off the UI thread (it reads every filing's history)."""
        try:
            with self.store_lock:
                report = build_report(
                    stored_filings(self.service.store), self.reference, self.clock()
                )
        except IcpError as error:
            self.call_from_thread(self.notify, inert(str(error)), severity="error", markup=False)
            return
        self.call_from_thread(self.push_screen, StatsScreen(report))


def rebuild_queue(store: Store, reference: Reference, now: datetime) -> Queue:
    """A new queue from the store's summaries (after a reload; no record is decoded)."""
    queue = Queue(reference, now)
    with queue.loading():
        for filing_id in store.ids():
            queue.put(store.summary(filing_id))
    return queue


def make_app(
    db_path: Location,
    reference: Reference,
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> IcpApp:
    """Load the database (errors surface here, before any screen opens) and build the app."""
    settings = settings or Settings(db_path=db_path)
    store = open_store(db_path)
    queue = Queue(reference, clock())
    with queue.loading():
        store.load(queue.put)
    service = FilingService(store, reference, actor=actor, clock=clock)
    remembered = load_state(settings.state_file) if settings.state_file else None
    return IcpApp(
        service, queue, settings, display_path=location_name(db_path), remembered=remembered
    )
