"""The dashboard screen: the queue table, the detail of the highlighted filing, and the keys
that act on it.

The screen owns the dashboard's state (the queue, the view, sort and filter, the wide layout,
the saves on their way), declared once as reactives; a change to one redraws what shows it.
Keys open dialogs here; a change is saved by an App worker, which reports back by message
(messages.py) to this screen, which puts the saved filing into the queue and the table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from icp_tui.display import inert
from icp_tui.domain.errors import IcpError
from icp_tui.domain.estimate import ApprovalEstimate
from icp_tui.domain.filing import BEIJING, Filing
from icp_tui.domain.naming import counted
from icp_tui.domain.provinces import icp_number_example, icp_number_problem
from icp_tui.domain.query import Query, QueryError, parse_query
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import REASONED_STAGES, Stage, rule
from icp_tui.domain.transitions import advance_targets, withdraw_refusal
from icp_tui.queue import (
    QuerySelection,
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
from icp_tui.services import BatchResult, FilingService
from icp_tui.timetravel import apply_changes
from icp_tui.ui import timetravel
from icp_tui.ui.detail import FilingDetail
from icp_tui.ui.footer import KeysFooter
from icp_tui.ui.keys import DASHBOARD_KEYS, SAVED_VIEW_KEYS, bindings
from icp_tui.ui.marks import batch_summary, marked_filings, people_seen
from icp_tui.ui.messages import (
    BatchSaved,
    ChangeRefused,
    ChangeSaved,
    CompactionDeferred,
    Polled,
    QueueLoaded,
    QueueLoading,
    StoreChanged,
)
from icp_tui.ui.modals import (
    AdvanceScreen,
    Assignee,
    AssignScreen,
    ConfirmScreen,
    DetailScreen,
    ReasonScreen,
    TextPromptScreen,
    WithdrawScreen,
)
from icp_tui.ui.querybox import QueryBox
from icp_tui.ui.resizing import size_that_repaints
from icp_tui.ui.status import StatusLine, fit_banner
from icp_tui.ui.sticky import DashboardState
from icp_tui.ui.table import COLUMNS, DOMAIN_BONUS, TABLE_NEED, FilingTable

if TYPE_CHECKING:
    from icp_tui.ui.app import IcpApp

#: At this width and more, the detail sits beside the table; below, `enter` opens it.
WIDE = 120
#: Re-sort by itself only after the user has left the keyboard alone this long (seconds).
IDLE_RESORT = 60.0
#: Up to this many filings changed since the last sort move one by one at the next re-sort;
#: more (the health of thousands moving at midnight) and every row is sorted again.
RESORT_ONE_BY_ONE = 200
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
#: The actions that need every filing in the queue: while only the first rows are in (the
#: dashboard opening on a large database), their keys say that they wait for it.
WHOLE_QUEUE_ACTIONS = frozenset(key.action.partition("(")[0] for key in DASHBOARD_KEYS if key.waits)
#: The actions that act on every marked filing while marks are set.
MARKED_ACTIONS = frozenset({"advance", "note", "take", "assign"})
#: The side pane never narrower than this (it wraps its lines below) ...
PANE_MIN = 34
#: From this many filings the statistics and an export take seconds: say they are under way.
SLOW_WHOLE_QUEUE = 10_000
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


class SideBySide(Horizontal):
    """The table and the detail beside it: the query box shown or hidden resizes it, and that
    lays the screen out once (ui/resizing.py)."""

    virtual_size = size_that_repaints()


#: Smaller than this, the layout cannot show what staff need: say so instead.
MIN_SIZE = (80, 24)


class DashboardScreen(Screen[None]):
    """The queue table, the detail of the highlighted filing, and the keys that act on it."""

    _detail_timer: Timer | None = None
    _remember_timer: Timer | None = None

    BINDINGS = bindings(DASHBOARD_KEYS)
    #: The table, never the hidden query box that comes first: keys typed while the dashboard
    #: starts are dashboard keys, not query text.
    AUTO_FOCUS = "FilingTable"

    #: The queue shown, and the view, sort and filter that select its rows.
    view_name: var[View] = var(View.ALL, init=False, always_update=True)
    sort: var[Sort] = var(Sort.URGENCY, init=False, always_update=True)
    filter_query: var[Query] = var(Query(), init=False)
    #: A saved view (config [views]) in force over "all", by name; None: a queue of 1-6.
    saved_view: var[str | None] = var(None, init=False)
    #: The detail sits beside the table (the window is WIDE or wider).
    wide: var[bool] = var(False, init=False, toggle_class="wide")
    #: Our changes on their way to the disk: `u` waits for them.
    saves_pending: var[int] = var(0, init=False, bindings=True)
    #: When the database was last read, and why the last read failed (while it lasts).
    last_refresh: var[datetime | None] = var(None, init=False)
    poll_error: var[str | None] = var(None, init=False)

    def __init__(self, queue: Queue, loading: Counter[Health] | None = None) -> None:
        """`loading`: `queue` holds the most urgent filings only, and these are the counts
        per health of the whole queue, built after the first rows are shown."""
        super().__init__()
        self.queue = queue
        self.loading_counts = loading
        self._loaded_share = 0  # per cent of the whole queue built, while loading
        self._ordered: list[QueueEntry] = []
        self._last_input = time.monotonic()
        self._order_stale = False
        #: The filings changed since the rows were sorted, each with the key its row was sorted
        #: under (None: not known), for a re-sort to find it (None: too many to move one by one).
        self._moved: dict[str, Any] | None = {}
        self._undone: str | None = None  # the change last undone, for a second `u`
        self._saved_query = Query()
        self._selection: QuerySelection | None = None  # what typing narrows, from _ordered
        self._banner_text: str | None = None  # as last shown
        #: What `_may` said of the highlighted filing when the keys were last greyed out
        #: (None: no row; the empty tuple: not yet).
        self._keys_for: tuple[bool, ...] | None = ()
        #: The marked filings' ids (the table draws their mark from this same set).
        self.marks: set[str] = set()

    def compose(self) -> ComposeResult:
        app = self.icp
        yield StatusLine(id="status")
        yield Static(id="banner")
        yield Static(id="too-small")
        yield QueryBox(app.reference, id="query")
        with SideBySide(id="main"):
            yield FilingTable(app.reference, app.clock, id="table")
            yield FilingDetail(id="detail")
        yield KeysFooter(compact=True, show_command_palette=False)

    @property
    def icp(self) -> IcpApp:
        return cast("IcpApp", self.app)  # the app imports this module: no isinstance here

    @property
    def service(self) -> FilingService:
        return self.icp.service

    @property
    def table(self) -> FilingTable:
        return self.query_one(FilingTable)

    def on_mount(self) -> None:
        self.last_refresh = self.icp.live_clock()  # read just now, whatever instant is shown
        self.table.marked = self.marks
        self.query_one(QueryBox).show(False)
        self.restore(self.icp.remembered)
        self.reselect()
        self.table.focus()
        self.update_banner()
        self.set_interval(1.0, self.tick)
        if self.loading_counts is not None:
            self.call_after_refresh(self.icp.build_queue)  # the first rows on screen first

    def on_resize(self) -> None:
        width, height = self.size
        self.wide = width >= WIDE
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
        # The status lines and the banner take the form that fits the new width.
        self.update_status()
        self.update_banner()
        self.show_detail()

    # -- watchers: the state changed, what shows it follows -------------------------------

    def watch_view_name(self) -> None:
        self.reselect()

    def watch_sort(self) -> None:
        self.reselect()

    def watch_filter_query(self, query: Query) -> None:
        if self._selection is None:
            self._selection = QuerySelection(self.queue, self._ordered, self.service.actor)
        self.table.show_rows(self._selection.select(query), self._kept(), self._every_count())
        self.update_status()
        # Kept for the next start once typing pauses, not at every key.
        if self._remember_timer is not None:
            self._remember_timer.stop()
        self._remember_timer = self.set_timer(1.0, self.remember, name="remember")  # or on_unmount

    def watch_last_refresh(self) -> None:
        self.update_status()

    def watch_poll_error(self) -> None:
        self.update_banner()

    # -- selecting what the table shows -----------------------------------------------

    def reselect(self) -> None:
        """Recompute the sorted view (after a sort, view or re-sort), keep the cursor."""
        keep = self._kept()
        actor = self.service.actor
        saved = self.saved_query()
        self._ordered = self.queue.select(self.view_name, saved, actor, self.sort)
        self._selection = None
        self._order_stale = False
        self._moved = {}
        self.table.show_eta = self.view_name is View.AUTHORITY or self.sort is Sort.ETA
        # While loading: the first rows, and the counts of them all.
        counts = self.loading_counts if self.loading_counts is not None else self._every_count()
        self.table.show_rows(self.filtered(self._ordered), keep, counts)
        self.update_status()

    def _every_count(self) -> Counter[Health] | None:
        """The rows' counts per health when every filing is shown: the queue keeps them, so a
        sort or a filter cleared needs no recount (~40 ms at 100,000); else None."""
        every = self.view_name is View.ALL and not self.saved_query() and not self.filter_query
        return self.queue.counts() if every else None

    def _kept(self) -> QueueEntry | None:
        """The highlighted filing's entry in the queue, which the new rows come from (a new
        queue after a re-read or a step in time), for the cursor to stay on."""
        current = self.table.current
        return None if current is None else self.queue.entries.get(current.id, current)

    def _placement(self, entry: QueueEntry) -> tuple[Any, bool]:
        """Where `entry` sorts, and whether the view and the filter show it."""
        actor = self.service.actor
        shown = in_view(self.view_name, entry, actor) and bool(
            self.filtered(self.queue.matching([entry], self.saved_query(), actor))
        )
        return sort_key(self.sort)(entry), shown

    def note_moved(
        self, entries: list[QueueEntry], key_before: Callable[[QueueEntry], Any]
    ) -> None:
        """Remember that `entries` may be out of place until the next re-sort, each with the
        key it was sorted under: `key_before(entry)`, its key before the change (None: not
        known), unless it moved already since the sort."""
        moved = self._moved
        if moved is None:
            return
        for entry in entries:
            if entry.id not in moved:
                moved[entry.id] = key_before(entry)
                if len(moved) > RESORT_ONE_BY_ONE:  # midnight: every row is sorted again
                    self._moved = None
                    return

    def resort(self) -> None:
        """Put the rows back in order, cursor kept: when only a few filings changed since the
        last sort (and nothing else moves the order), only they move; twenty dashboards re-sort
        after every change anyone makes, so that is the cost of the change, not of the queue."""
        moved = self._moved
        saved = self.saved_query()
        if moved is None or not order_holds(self.sort, saved, self.filter_query):
            self.reselect()
            return
        queue, actor, view = self.queue, self.service.actor, self.view_name
        entries = [queue.entries[i] for i in moved if i in queue.entries]

        def in_view_now(entry: QueueEntry) -> bool:
            return in_view(view, entry, actor) and bool(queue.matching([entry], saved, actor))

        if self.filter_query:
            position = placed_position(self._ordered, self.sort, moved)
            reposition(self._ordered, entries, self.sort, in_view_now, position)
            keep = lambda e: in_view_now(e) and bool(self.filtered([e]))  # noqa: E731
            self.table.reposition(entries, self.sort, keep, moved)
        else:  # the table shows the view's rows, all of them: they are the order
            self.table.reposition(entries, self.sort, in_view_now, moved)
            self._ordered = list(self.table.rows)
        self._selection = None
        self._order_stale = False
        self._moved = {}
        self.update_status()

    def filtered(self, entries: list[QueueEntry]) -> list[QueueEntry]:
        """`entries` that the query typed at `/` selects (the code `list --query` runs)."""
        return self.queue.matching(entries, self.filter_query, self.service.actor)

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
        self._saved_query = query
        self.saved_view = name
        self.view_name = View.ALL  # always_update: reselects
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
            with box.input.prevent(Input.Changed):
                box.input.value = state.filter
            box.show(True)
            if query is not None:
                self.filter_query = query

    def on_unmount(self) -> None:
        # Quitting within the second after the filter changed: keep what is shown, not the
        # filter of the last pause (a cleared filter came back at the next start). At once:
        # the workers are cancelled by now, and the app is leaving, so nobody is told.
        if self._remember_timer is not None:
            self.icp.keep_state(self.state_to_keep())

    def remember(self) -> None:
        """Keep the view, sort and filter for the next start (in the user's state folder)."""
        if self._remember_timer is not None:
            self._remember_timer.stop()
            self._remember_timer = None
        self.icp.remember(self.state_to_keep())

    def state_to_keep(self) -> DashboardState:
        view = f"view:{self.saved_view}" if self.saved_view else self.view_name.name
        return DashboardState(view, self.sort.value, self.filter_query.text)

    # -- periodic work ---------------------------------------------------------------

    def tick(self) -> None:
        """Move health with the clock; re-sort by itself only when the user is idle."""
        now = self.icp.clock()
        queue = self.queue
        changed = queue.refresh(now)
        if changed:
            self._order_stale = True
            was, sort = queue.urgency_before, self.sort
            self.note_moved(changed, lambda e: key_before(sort, e, was[e.id]))
            self._selection = None  # healths moved: typing starts from the whole view again
            self.table.update_entries(changed)
            if self.showing(changed):
                self.current_changed()
            breached = queue.newly_breached
            if breached and self.icp.settings.bell_on_breach:
                self.app.bell()
            if len(breached) > 3:
                self.notify(f"{len(breached)} filings have just breached", severity="error")
            else:
                for entry in breached:
                    said = inert(f"{entry.id} has breached ({rule(entry.stage).short})")
                    self.notify(said, severity="error", markup=False)
        if self._order_stale and time.monotonic() - self._last_input > IDLE_RESORT:
            self.resort()
        self.table.clock_moved()  # "left" and "in stage" move with the clock
        self.update_status()

    def on_key(self) -> None:
        self._last_input = time.monotonic()

    def filings_changed(self, filings: list[Filing] | None) -> None:
        """Put changed filings into the queue and the table in place (None: all of them)."""
        if self.icp.away_from_now:
            return  # a save that ended after a step back: it shows once back to now
        queue = self.queue
        if filings is None:
            self.reselect()
            self.current_changed()
        else:
            before = {f.id: self._placement(e) for f in filings if (e := queue.entries.get(f.id))}
            entries = [queue.put(f) for f in filings]
            missing = self.table.update_entries(entries)
            actor = self.service.actor
            fresh = [e for e in missing if in_view(self.view_name, e, actor)]
            fresh = queue.matching(fresh, self.saved_query(), actor)
            if fresh:
                # New to this view: keep them for the next filter too, until the next re-sort.
                known = {e.id for e in self._ordered}
                self._ordered += [e for e in fresh if e.id not in known]
            self.table.append_entries(self.filtered(fresh))
            # A note or a ticket leaves the filing where it was: no re-sort for it.
            moved = [e for e in entries if before.get(e.id) != self._placement(e)]
            if moved:
                self._order_stale = True
                self.note_moved(moved, lambda e: before[e.id][0] if e.id in before else None)
            self._selection = None
            self.update_status()
            # Someone else's filing changing leaves the detail shown as it is.
            if self.showing(entries):
                self.current_changed()
        self.last_refresh = self.icp.live_clock()
        self.update_banner()

    def showing(self, entries: list[QueueEntry]) -> bool:
        """Whether the highlighted row is one of `entries`."""
        current = self.table.current
        return current is not None and any(e.id == current.id for e in entries)

    def current_changed(self) -> None:
        """The highlighted filing changed in place: its detail and the keys that apply follow."""
        self.show_detail()
        self.refresh_keys()

    def refresh_keys(self) -> None:
        """Grey out the keys that do not apply to the highlighted filing, when that changes:
        the footer rebuilds its keys each time it is told, and the screen is laid out again
        (twenty dashboards do that for every change anyone makes)."""
        entry = self.table.current
        may = None if entry is None else tuple(self._may(a, entry) for a in sorted(WRITE_ACTIONS))
        if may != self._keys_for:
            self._keys_for = may
            self.refresh_bindings()

    # -- header, banner, detail --------------------------------------------------------

    def update_status(self) -> None:
        app = self.icp
        whole = self.loading_counts  # while loading: the counts of every filing
        self.query_one(StatusLine).show(
            now=app.clock(),
            past=app.as_of is not None,
            read_only=app.read_only,
            last_refresh=self.last_refresh,
            path=app.display_path,
            view=self.view_title(),
            filter_text=self.filter_query.text,
            marked=len(self.marks),
            sort=self.sort,
            rows=len(self.table.rows),
            counts=self.table.health_counts(),  # the view's, not the whole queue's
            total=len(self.queue.entries) if whole is None else whole.total(),
            loading=None if whole is None else self._loaded_share,
            width=self.size.width,
        )
        self.query_one(QueryBox).counted(len(self.table.rows), len(self._ordered))
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
        # Each warning in its forms, longest first, the most important first: in a narrow
        # window the last ones give way first (the time travel's keys are in the help, and
        # the status line says READ-ONLY).
        messages: list[tuple[str, ...]] = []
        if self.poll_error:
            error = inert(self.poll_error)
            messages.append((f"{error}; retrying", f"{error.split(':', 1)[0]}; retrying"))
        if self.service.read_only:
            messages.append((f"Read-only: {self.service.read_only_reason}", "Read-only database"))
        if app.as_of is not None:
            messages.append(timetravel.banner_text(app.as_of))
        for year in app.reference.calendar.provisional_years(self.queue.years_in_use()):
            provisional = f"{year} is provisional: no official holiday schedule yet"
            messages.append(
                (
                    f"{provisional}, so its business days follow the statutory holidays with "
                    f"no adjusted working days; {app.reference.holidays_advice(year)}",
                    f"{provisional}; {app.reference.holidays_advice(year)}",
                    provisional,
                )
            )
        lines = fit_banner(messages, self.size.width - 2)  # inside its padding
        text = "\n".join(lines)
        if text == self._banner_text:
            return  # asked after every change: updating the banner lays the screen out again
        self._banner_text = text
        banner = self.query_one("#banner", Static)
        banner.update(Text(text, no_wrap=True, overflow="ellipsis"))
        banner.set_class(bool(messages), "shown")

    def current_filing(self) -> Filing | None:
        """The highlighted filing as the store last read it (None: no row, or unreadable)."""
        entry = self.table.current
        if entry is None:
            return None
        try:
            return self.icp.record(entry.id)
        except IcpError:
            return None

    def filing_to_act_on(self) -> Filing | None:
        """The highlighted filing, for a key to act on: a read error is told, and a row older
        than the store (our own save caught up with others' changes before the next poll
        shows them) is brought up to date by message."""
        entry = self.table.current
        if entry is None:
            return None
        try:
            filing = self.icp.record(entry.id)
        except IcpError as error:
            self.notify(inert(str(error)), severity="error", markup=False)
            return None
        if filing is not None and filing.version != entry.version and self.icp.as_of is None:
            self.post_message(StoreChanged([filing]))
        return filing

    def show_detail(self) -> None:
        opened = [s for s in self.app.screen_stack if isinstance(s, DetailScreen)]
        if not self.wide and not opened:
            return
        filing = self.current_filing()
        eta = self.eta(filing)
        keys = not self.icp.read_only  # greyed out: the advice offers none
        if self.wide:
            detail = self.query_one(FilingDetail)
            detail.show(filing, self.icp.reference, self.icp.clock(), eta, keys)
        for screen in opened:  # the full-screen detail follows live changes too
            if filing is not None and filing.id == screen.filing.id:
                screen.show(filing, self.icp.clock(), eta, keys)

    def eta(self, filing: Filing | None) -> ApprovalEstimate | None:
        """The queue's approval estimate of `filing`."""
        if self.loading_counts is not None:
            return None  # the first rows' queue has not counted every province's reviews
        entry = self.queue.entries.get(filing.id) if filing is not None else None
        return entry.eta if entry is not None else None

    @on(FilingTable.Highlighted)
    def _highlighted(self) -> None:
        self.refresh_keys()
        # Building the panes is cheap but not free: do it once the cursor rests.
        if self.wide:
            if self._detail_timer is not None:
                self._detail_timer.stop()  # the cursor moved on: only the last one counts
            self._detail_timer = self.set_timer(0.05, self.show_detail, name="detail")

    @on(FilingDetail.Left)
    def _detail_left(self) -> None:
        self.table.focus()

    @on(FilingTable.Selected)
    def _selected(self, event: FilingTable.Selected) -> None:
        if self.wide:
            self.query_one(FilingDetail).focus()
            return
        filing = self.filing_to_act_on()
        if filing is not None:
            now, eta, keys = self.icp.clock(), self.eta(filing), not self.icp.read_only
            screen = DetailScreen(filing, self.icp.reference, now, eta, keys)
            self.app.push_screen(screen)

    # -- which keys apply ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "query_done":  # enter is the query box's only while it has the keys
            return self.is_mounted and self.focused is self.query_one(QueryBox).input
        if action == "still_loading":  # the last binding of a key that waits for the queue
            return self.loading_counts is not None
        if self.loading_counts is not None and action in WHOLE_QUEUE_ACTIONS:
            return False
        if action not in WRITE_ACTIONS and action != "explain":
            return True
        entry = self.table.current if self.is_mounted else None
        read_only = self.icp.read_only
        if action == "explain" and read_only:  # every action key is greyed out: each says why
            return True
        if self.is_mounted and self.marks and (action in MARKED_ACTIONS or action == "explain"):
            if action == "explain":  # with marks, these keys act on them (the action says why not)
                return False if parameters[0] in MARKED_ACTIONS else None
            return None if read_only else True
        if action == "explain":  # a key that does nothing here says why, once it is greyed out
            kind = str(parameters[0])
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
        service = self.service
        return bool(service.last_change or service.last_batch) and not self.saves_pending

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
            return entry.assignee != self.service.actor
        return True

    def action_still_loading(self, label: str) -> None:
        said = (
            f"{label}: wait a moment, the queue is still loading ({self._loaded_share} %); "
            "the rows shown are the most urgent"
        )
        self.notify(said, severity="warning", timeout=3, markup=False)

    def action_explain(self, kind: str) -> None:
        if self.icp.read_only:
            self.notify(inert(self._why_read_only()), severity="warning", markup=False)
            return
        if kind == "undo":
            self.notify(inert(self._why_no_undo()), severity="warning", markup=False)
            return
        filing = self.filing_to_act_on()
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

    def _why_read_only(self) -> str:
        if self.service.read_only:  # coming back to now would not help
            return f"Read-only: {self.service.read_only_reason}"
        return "Viewing the past: press . to come back to now"  # the banner says which instant

    def _why_no_undo(self) -> str:
        if self.saves_pending:
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
        filing = self.filing_to_act_on()
        if filing is None:
            return
        targets = advance_targets(filing.stage)
        if not targets:  # closed since the row was drawn
            self.action_explain("advance")
            return
        version = filing.version

        def save(target: Stage, reason: str = "", number: str | None = None) -> None:
            self.save(
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
        filing = self.filing_to_act_on()
        if filing is None:
            return
        version = filing.version

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.save(
                    lambda s: s.withdraw(filing.id, reason, expected_version=version),
                    f"{filing.id} withdrawn ({reason})",
                )

        # Withdraw acts on one filing only: with marks set, the question says so.
        aside = " (only this one; withdraw is not done on marks)" if self.marks else ""
        screen = WithdrawScreen(filing.id, self.icp.settings.withdraw_reasons, aside)
        self.app.push_screen(screen, chosen)

    def action_note(self) -> None:
        if self.marks:
            self.note_marked()
            return
        self._prompt("note", "Note on {id}:", "what happened, what to do next")

    def action_ticket(self) -> None:
        filing = self.filing_to_act_on()
        # Recording a ticket replaces the one there: say which, so it is not lost unseen.
        prompt = "Ticket opened with the ICP Filing team for {id}:"
        if filing is not None and filing.ticket:
            prompt = (
                f"{{id}} has ticket {filing.ticket} already.\n"
                "A new reference replaces it (escape keeps it):"
            )
        self._prompt("ticket", prompt, "e.g. TK2026112500012")

    def _prompt(self, kind: str, prompt: str, placeholder: str) -> None:
        filing = self.filing_to_act_on()
        if filing is None:
            return
        version = filing.version

        def typed(text: str | None) -> None:
            if text is None:
                return
            if kind == "note":
                # Notes only append: saving on top of someone else's change loses nothing.
                self.save(
                    lambda s: s.note(filing.id, text),
                    f"note added to {filing.id}",
                )
            else:
                self.save(
                    lambda s: s.record_ticket(filing.id, text, expected_version=version),
                    f"ticket recorded on {filing.id}",
                )

        screen = TextPromptScreen(prompt.format(id=filing.id), placeholder, editor=kind == "note")
        self.app.push_screen(screen, typed)

    def action_take(self) -> None:
        if self.marks:
            self.assign_marked(self.service.actor)
            return
        filing = self.filing_to_act_on()
        if filing is None:
            return
        me, version = self.service.actor, filing.version
        if filing.assignee == me:
            self.action_explain("take")
            return

        def take(yes: bool | None) -> None:
            if yes:
                self.save(
                    lambda s: s.assign(filing.id, me, expected_version=version),
                    f"{filing.id} assigned to you ({me})",
                )

        if filing.assignee:  # a colleague's: taking it from them is asked, never silent
            question = f"{filing.id} is assigned to {filing.assignee}. Take it from them?"
            self.app.push_screen(ConfirmScreen(question, "take it"), take)
        else:
            take(True)

    def action_export(self) -> None:
        from icp_tui.transfer import export_file_name  # not needed to open: import on use

        # Copies: the worker must not read entries the UI thread updates in place.
        entries = [copy(entry) for entry in self.table.rows]
        default = Path(export_file_name(self.icp.clock())).resolve()

        def chosen(name: str | None) -> None:
            if name is not None:
                path = Path(name.strip()).expanduser()
                if len(entries) >= SLOW_WHOLE_QUEUE:
                    said = f"Exporting {counted(len(entries), 'filing')} to {path.resolve()}…"
                    self.notify(inert(said), markup=False)
                self.icp.export_view(entries, path)

        prompt = f"Export the {counted(len(entries), 'filing')} of this view (filter and sort) to:"
        screen = TextPromptScreen(prompt, "a .csv file name", str(default), action="write it")
        self.app.push_screen(screen, chosen)

    def action_stats(self) -> None:
        total = len(self.queue.entries)
        if total >= SLOW_WHOLE_QUEUE:
            self.notify(f"Working out the statistics of {counted(total, 'filing')}…")
        self.icp.open_stats()

    def action_materials_received(self) -> None:
        filing = self.filing_to_act_on()
        if filing is None:
            return
        version = filing.version
        self.save(
            lambda s: s.record_materials(filing.id, received=True, expected_version=version),
            f"materials received recorded on {filing.id} (u undoes it)",
        )

    def action_sms_resent(self) -> None:
        filing = self.filing_to_act_on()
        if filing is None:
            return
        version = filing.version
        self.save(
            lambda s: s.sms_resent(filing.id, expected_version=version),
            f"SMS resend recorded on {filing.id}: the 24 hours restart",
        )

    def action_mine(self) -> None:
        self.saved_view = None
        self.view_name = View.ALL if self.view_name is View.MINE else View.MINE
        self.remember()

    def action_undo(self) -> None:
        if self.service.last_batch:
            self.save_batch(lambda s: s.undo_batch(), "undone")
            return
        last = self.service.last_change
        if last is None:
            return
        what = undo_words(last.what, last.before)
        self._undone = what
        self.save(lambda s: s.undo(), f"Undone: {what}")

    def action_filter(self) -> None:
        box = self.query_one(QueryBox)
        box.show(True)
        # At once, not after the pending events (as focus() does): the keys typed or pasted
        # right after `/` are query text, never dashboard keys.
        self.set_focus(box.input)
        box.input.action_end()  # a user refining the query types more, after what is there

    def action_clear_filter(self) -> None:
        box = self.query_one(QueryBox)
        with box.input.prevent(Input.Changed):
            box.input.value = ""
        box.parse("")
        box.show(False)
        self.filter_query = Query()
        self.table.focus()

    @on(QueryBox.Changed)
    def _filter_changed(self, event: QueryBox.Changed) -> None:
        self.filter_query = event.query

    def action_query_done(self) -> None:
        # A wrong query keeps the keys in the box, so the text can be mended.
        if not self.query_one(QueryBox).has_class("wrong"):
            self.set_focus(self.table)

    def action_cycle_sort(self) -> None:
        order = list(Sort)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        self.remember()

    def action_resort(self) -> None:
        self.reselect()

    def action_view(self, name: str) -> None:
        self.saved_view = None
        self.view_name = View[name]
        self.remember()

    def action_saved_view(self, index: int) -> None:
        views = self.icp.settings.views
        if index >= len(views):  # said, rather than a key that does nothing
            have = f"has {counted(len(views), 'view')}" if views else "has no [views]"
            said = (
                f"No saved view {index + 1} (key {SAVED_VIEW_KEYS[index]}): the config file "
                f"{have} (icp-tui config says where)"
            )
            self.notify(said, severity="warning", markup=False)
        elif self.choose_saved_view(index):
            self.remember()

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
        entries = self.queue.entries
        return [entries[i] for i in sorted(self.marks) if i in entries]

    def action_assign(self) -> None:
        people = people_seen(self.queue.entries.values(), self.service.actor)
        entry = self.table.current
        if self.marks:
            what, version = marked_filings(len(self.marks)), None
        elif entry is not None:
            what, version = entry.id, entry.version  # the version shown, checked on saving
        else:
            return

        def picked(choice: Assignee | None) -> None:
            if choice is None:
                return
            name = None if choice.name == "-" else choice.name
            if self.marks:
                self.assign_marked(name, new=choice.new)
            else:
                self.assign_one(what, version, name, new=choice.new)

        self.app.push_screen(AssignScreen(what, people, self.service.known_user), picked)

    def assign_one(self, fid: str, version: int | None, name: str | None, new: bool) -> None:
        """Give one filing to `name` (None: nobody) at once, unless the name may be a slip
        (`new`: no filing has seen it): then after a question."""

        def save(yes: bool | None = True) -> None:
            if yes:
                self.save(
                    lambda s: s.assign(fid, name, expected_version=version),
                    f"{fid} assigned to {name or 'nobody'}",
                )

        if not new or name is None:
            save()
            return
        question = f"Assign {fid} to {name}? {new_name_words(name)}"
        self.app.push_screen(ConfirmScreen(question, "assign"), save)

    def assign_marked(self, name: str | None, new: bool = False) -> None:
        """Give every marked filing to `name` (None: nobody; `new`: a name no filing has
        seen), after one question."""
        me = self.service.actor
        entries = self.marked_entries()
        todo: list[tuple[str, int | None]] = [
            (e.id, e.version) for e in entries if e.assignee != name
        ]
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
        if name is not None and new:
            question += f" {new_name_words(name)}"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.save_batch(
                    lambda s: s.for_each(
                        todo, lambda s, fid, v: s.assign(fid, name, expected_version=v)
                    ),
                    "taken" if name == me else f"assigned to {whom}",
                )

        yes = "take them" if name == me else "assign them"
        self.app.push_screen(ConfirmScreen(question, yes), confirmed)

    def note_marked(self) -> None:
        todo: list[tuple[str, int | None]] = [(e.id, None) for e in self.marked_entries()]
        each = "each of " if len(todo) > 1 else ""
        prompt = f"Note on {each}{marked_filings(len(todo))} (enter adds it to all):"

        def typed(text: str | None) -> None:
            if text is not None:
                # Notes only append: none is refused for a change made meanwhile.
                self.save_batch(
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
            self.save_batch(
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

    def save(self, change: Callable[[FilingService], Filing], said: str) -> None:
        """Save one change off the UI; counted until its result arrives, so `u` waits for it."""
        self.saves_pending += 1
        self.icp.save_change(change, said)

    def save_batch(self, change: Callable[[FilingService], BatchResult], done: str) -> None:
        """Save a change to many filings off the UI (counted like `save`)."""
        self.saves_pending += 1
        self.icp.save_batch(change, done)

    # -- the queue as it was (ui/timetravel.py) ---------------------------------------------

    def action_travel(self, hours: int) -> None:
        app = self.icp
        shown = app.travel_target or app.live_clock()
        app.travel_to(timetravel.stepped(shown, hours, app.live_clock()))

    def action_jump_to_time(self) -> None:
        app = self.icp
        shown = (app.travel_target or app.live_clock()).astimezone(BEIJING)

        def chosen(text: str | None) -> None:
            if text is not None:
                app.travel_to(timetravel.typed_time(text, app.live_clock()))

        screen = TextPromptScreen(
            "Show the queue as it was at (Beijing time):",
            "2026-11-30 09:00",
            f"{shown:%Y-%m-%d %H:%M}",
            action="go there",
            check=lambda text: timetravel.typed_time_problem(text, app.live_clock()),
        )
        self.app.push_screen(screen, chosen)

    def action_back_to_now(self) -> None:
        if self.icp.travel_target is not None:
            self.icp.travel_to(None)

    @on(timetravel.TimeMoved)
    def _time_moved(self, message: timetravel.TimeMoved) -> None:
        app = self.icp
        app.travelling = False
        if message.since != app.as_of:  # worked out from an instant no longer shown
            if app.travel_target != app.as_of:
                app.travel_to(app.travel_target)
            return
        if message.queue is not None:
            self.queue = message.queue
            app.rebuild_on_return = False
        else:
            assert message.changes is not None
            apply_changes(self.queue, message.changes, message.at or app.live_clock())
        app.as_of = message.at
        if message.at != app.travel_target:
            app.travel_to(app.travel_target)  # keys pressed meanwhile: go on from here
        elif message.at is None and app.rebuild_on_return:
            app.travel_to(None)  # the database was read afresh while this was worked out
        self.reselect()
        self.update_banner()
        self.refresh_bindings()
        self.show_detail()

    # -- what the workers report (posted here: a screen already closed by a shutdown drops them)

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        if message.error is not None and message.error != self.poll_error:
            self.notify(inert(message.error), severity="error", markup=False)  # once, not at each
        self.poll_error = message.error
        if message.error is None:
            self.last_refresh = message.at

    @on(QueueLoading)
    def _queue_loading(self, message: QueueLoading) -> None:
        self._loaded_share = message.done * 100 // max(1, message.total)
        self.update_status()

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        if self.loading_counts is None:
            return  # a re-read of the database brought the whole queue first
        queue = message.queue
        # It was built from the summaries read at opening: the filings saved since (ours,
        # and those a poll brought in) are in the first rows' queue, at their new version.
        for entry in self.queue.entries.values():
            built = queue.entries.get(entry.id)
            if built is None or built.version != entry.version:
                queue.put(self.service.summary(entry.id))
        queue.refresh(self.icp.clock())
        self._take_whole(queue)

    def _take_whole(self, queue: Queue) -> None:
        """The whole queue replaces the first rows': every key works from now on."""
        self.queue = queue
        self.loading_counts = None
        self.reselect()
        self.update_banner()
        self.refresh_bindings()
        self.show_detail()
        self.icp.follow_changes()

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        app = self.icp
        if app.away_from_now:
            # The past does not change: records are read again (by version) when needed.
            if message.filings is None:
                app.rebuild_on_return = True
            return
        if message.filings is None:
            assert message.queue is not None
            if self.loading_counts is not None:
                self._take_whole(message.queue)  # read afresh: no need to wait for the rest
                return
            self.queue = message.queue
        self.filings_changed(message.filings)

    @on(ChangeSaved)
    def _saved(self, message: ChangeSaved) -> None:
        self.saves_pending -= 1
        self.filings_changed([message.filing])
        # The message may hold what someone typed (a withdraw reason): inert, never markup.
        self.notify(inert(message.said), timeout=4, markup=False)

    @on(BatchSaved)
    def _batch_saved(self, message: BatchSaved) -> None:
        self.saves_pending -= 1
        result = message.result
        self.filings_changed([*result.done, *result.fresh])
        self.marks.difference_update(f.id for f in result.done)  # the refused stay marked
        self.marks_changed()
        done = message.done
        if result.done and done != "undone":
            done += " (u undoes them)"
        severity: SeverityLevel = "warning" if result.refused else "information"
        self.notify(batch_summary(result, done), severity=severity, timeout=10, markup=False)

    @on(ChangeRefused)
    def _refused(self, message: ChangeRefused) -> None:
        self.saves_pending -= 1
        if message.fresh is not None:
            self.filings_changed([message.fresh])
        self.notify(inert(message.said), severity="error", timeout=8, markup=False)

    @on(CompactionDeferred)
    def _compaction_deferred(self, message: CompactionDeferred) -> None:
        self.notify(inert(message.said), severity="warning", markup=False)


def new_name_words(name: str) -> str:
    """What a confirmation adds for a name no filing has seen (as `assign` warns)."""
    return f"{name} appears in no filing's history: check the spelling."


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
