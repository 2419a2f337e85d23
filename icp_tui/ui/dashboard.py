"""The dashboard screen: the queue table, the detail of the highlighted filing, and the keys
that act on it.

The screen owns the dashboard's state (the queue, the view, sort and filter, the wide layout,
the saves on their way), declared once as reactives; a change to one redraws what shows it.
Keys open dialogs here; a change is saved by an App worker, which reports back by message
(messages.py) to this screen, which puts the saved filing into the queue and the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from icp_tui.display import inert
from icp_tui.domain.errors import IcpError
from icp_tui.domain.filing import Filing
from icp_tui.domain.provinces import icp_number_example, icp_number_problem
from icp_tui.domain.stages import REASONED_STAGES, Stage, rule
from icp_tui.domain.transitions import advance_targets, withdraw_refusal
from icp_tui.queue import Queue, QueueEntry, Sort, View, in_view, matching
from icp_tui.services import FilingService
from icp_tui.transfer import export_file_name
from icp_tui.ui.detail import FilingDetail
from icp_tui.ui.keys import DASHBOARD_KEYS, bindings
from icp_tui.ui.messages import (
    ChangeRefused,
    ChangeSaved,
    CompactionDeferred,
    Polled,
    StoreChanged,
)
from icp_tui.ui.modals import (
    AdvanceScreen,
    ConfirmScreen,
    DetailScreen,
    ReasonScreen,
    TextPromptScreen,
    WithdrawScreen,
)
from icp_tui.ui.status import StatusLine
from icp_tui.ui.table import COLUMNS, DOMAIN_BONUS, TABLE_NEED, FilingTable

if TYPE_CHECKING:
    from icp_tui.ui.app import IcpApp

#: At this width and more, the detail sits beside the table; below, `enter` opens it.
WIDE = 120
#: Re-sort by itself only after the user has left the keyboard alone this long (seconds).
IDLE_RESORT = 60.0
WRITE_ACTIONS = frozenset(
    {"advance", "withdraw", "note", "ticket", "undo", "take", "materials_received", "sms_resent"}
)
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


class DashboardScreen(Screen[None]):
    """The queue table, the detail of the highlighted filing, and the keys that act on it."""

    _detail_timer: Timer | None = None

    BINDINGS = bindings(DASHBOARD_KEYS)

    #: The queue shown, and the view, sort and filter that select its rows.
    view_name: var[View] = var(View.ALL, init=False, always_update=True)
    sort: var[Sort] = var(Sort.URGENCY, init=False, always_update=True)
    filter_text: var[str] = var("", init=False)
    #: The detail sits beside the table (the window is WIDE or wider).
    wide: var[bool] = var(False, init=False, toggle_class="wide")
    #: Our changes on their way to the disk: `u` waits for them.
    saves_pending: var[int] = var(0, init=False, bindings=True)
    #: When the database was last read, and why the last read failed (while it lasts).
    last_refresh: var[datetime | None] = var(None, init=False)
    poll_error: var[str | None] = var(None, init=False)

    def __init__(self, queue: Queue) -> None:
        super().__init__()
        self.queue = queue
        self._ordered: list[QueueEntry] = []
        self._last_input = time.monotonic()
        self._order_stale = False
        self._undone: str | None = None  # the change last undone, for a second `u`

    def compose(self) -> ComposeResult:
        app = self.icp
        yield StatusLine(id="status")
        yield Static(id="banner")
        yield Static(id="too-small")
        yield Input(placeholder="filter: id, domain, entity, province, assignee", id="filter")
        with Horizontal(id="main"):
            yield FilingTable(app.reference, app.clock, id="table")
            yield FilingDetail(id="detail")
        yield Footer(compact=True, show_command_palette=False)

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
        self.last_refresh = self.icp.clock()
        self.query_one("#filter", Input).display = False
        self.reselect()
        self.table.focus()
        self.update_banner()
        self.set_interval(1.0, self.tick)
        self.set_interval(self.icp.refresh_seconds, self.icp.poll_store)

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
        self.show_detail()

    # -- watchers: the state changed, what shows it follows -------------------------------

    def watch_view_name(self) -> None:
        self.reselect()

    def watch_sort(self) -> None:
        self.reselect()

    def watch_filter_text(self, text: str) -> None:
        keep = self.table.current.id if self.table.current else None
        self.table.show_rows(matching(self._ordered, text), keep)
        self.update_status()

    def watch_last_refresh(self) -> None:
        self.update_status()

    def watch_poll_error(self) -> None:
        self.update_banner()

    # -- selecting what the table shows -----------------------------------------------

    def reselect(self) -> None:
        """Recompute the sorted view (after a sort, view or re-sort), keep the cursor."""
        keep = self.table.current.id if self.table.current else None
        self._ordered = self.queue.select(self.view_name, "", self.service.actor, self.sort)
        self._order_stale = False
        self.table.show_rows(matching(self._ordered, self.filter_text), keep)
        self.update_status()

    # -- periodic work ---------------------------------------------------------------

    def tick(self) -> None:
        """Move health with the clock; re-sort by itself only when the user is idle."""
        now = self.icp.clock()
        changed = self.queue.refresh(now)
        if changed:
            self._order_stale = True
            self.table.update_entries(changed)
            breached = self.queue.newly_breached
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
        """Put changed filings into the queue and the table in place (None: all of them)."""
        queue = self.queue
        if filings is None:
            self.reselect()
        else:
            entries = [queue.put(f) for f in filings]
            missing = self.table.update_entries(entries)
            actor = self.service.actor
            fresh = [e for e in missing if in_view(self.view_name, e, actor)]
            if fresh:
                # New to this view: keep them for the next filter too, until the next re-sort.
                known = {e.id for e in self._ordered}
                self._ordered += [e for e in fresh if e.id not in known]
            self.table.append_entries(matching(fresh, self.filter_text))
            self._order_stale = True
            self.update_status()
        self.last_refresh = self.icp.clock()
        self.update_banner()
        self.show_detail()

    # -- header, banner, detail --------------------------------------------------------

    def update_status(self) -> None:
        app = self.icp
        self.query_one(StatusLine).show(
            now=app.clock(),
            read_only=self.service.read_only,
            last_refresh=self.last_refresh,
            path=app.display_path,
            view=self.view_name,
            filter_text=self.filter_text,
            sort=self.sort,
            rows=self.table.rows,
            total=len(self.queue.entries),
            width=self.size.width,
        )
        self.table.empty_message = self._empty_message()

    def _empty_message(self) -> str:
        where = f"in “{self.view_name.value}”"
        if self.filter_text:
            return (
                f"No filing matches “{inert(self.filter_text)}” {where}. "
                "Escape clears the filter; 1 shows all filings."
            )
        if self.view_name is View.ALL:
            return "No filings in this database yet."
        return f"No filing {where}. 1 shows all filings."

    def update_banner(self) -> None:
        app = self.icp
        messages = []
        if self.service.read_only:
            messages.append(f"Read-only: {self.service.read_only_reason}")
        if self.poll_error:
            messages.append(f"{inert(self.poll_error)}; retrying")
        for year in app.reference.calendar.provisional_years(self.queue.years_in_use()):
            messages.append(
                f"{year} is provisional: no official holiday schedule yet, so its business days "
                f"follow the statutory holidays with no adjusted working days; "
                f"{app.reference.holidays_advice(year)}"
            )
        banner = self.query_one("#banner", Static)
        banner.update(Text("\n".join(f"⚠ {m}" for m in messages)))
        banner.set_class(bool(messages), "shown")

    def current_filing(self) -> Filing | None:
        """The highlighted filing as the store last read it (None: no row, or unreadable)."""
        entry = self.table.current
        if entry is None:
            return None
        try:
            return self.service.get(entry.id)
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
            filing = self.service.get(entry.id)
        except IcpError as error:
            self.notify(inert(str(error)), severity="error", markup=False)
            return None
        if filing.version != entry.version:
            self.post_message(StoreChanged([filing]))
        return filing

    def show_detail(self) -> None:
        opened = [s for s in self.app.screen_stack if isinstance(s, DetailScreen)]
        if not self.wide and not opened:
            return
        filing = self.current_filing()
        if self.wide:
            self.query_one(FilingDetail).show(filing, self.icp.reference, self.icp.clock())
        for screen in opened:  # the full-screen detail follows live changes too
            if filing is not None and filing.id == screen.filing.id:
                screen.show(filing, self.icp.clock())

    @on(FilingTable.Highlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()
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
            self.app.push_screen(DetailScreen(filing, self.icp.reference, self.icp.clock()))

    # -- which keys apply ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in WRITE_ACTIONS and action != "explain":
            return True
        entry = self.table.current if self.is_mounted else None
        read_only = self.service.read_only
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
        return bool(self.service.last_change) and not self.saves_pending

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

    def action_explain(self, kind: str) -> None:
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

        self.app.push_screen(WithdrawScreen(filing.id, self.icp.settings.withdraw_reasons), chosen)

    def action_note(self) -> None:
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

        self.app.push_screen(TextPromptScreen(prompt.format(id=filing.id), placeholder), typed)

    def action_take(self) -> None:
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
        self.view_name = View.ALL if self.view_name is View.MINE else View.MINE

    def action_undo(self) -> None:
        last = self.service.last_change
        if last is None:
            return
        what = undo_words(last.what, last.before)
        self._undone = what
        self.save(lambda s: s.undo(), f"Undone: {what}")

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.filter_text = ""
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_cycle_sort(self) -> None:
        order = list(Sort)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]

    def action_resort(self) -> None:
        self.reselect()

    def action_view(self, name: str) -> None:
        self.view_name = View[name]

    def save(self, change: Callable[[FilingService], Filing], said: str) -> None:
        """Save one change off the UI; counted until its result arrives, so `u` waits for it."""
        self.saves_pending += 1
        self.icp.save_change(change, said)

    # -- what the workers report (posted here: a screen already closed by a shutdown drops them)

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        if message.error is not None and message.error != self.poll_error:
            self.notify(inert(message.error), severity="error", markup=False)  # once, not at each
        self.poll_error = message.error
        if message.error is None:
            self.last_refresh = message.at

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if message.filings is None:
            assert message.queue is not None
            self.queue = message.queue
        self.filings_changed(message.filings)

    @on(ChangeSaved)
    def _saved(self, message: ChangeSaved) -> None:
        self.saves_pending -= 1
        self.filings_changed([message.filing])
        # The message may hold what someone typed (a withdraw reason): inert, never markup.
        self.notify(inert(message.said), timeout=4, markup=False)

    @on(ChangeRefused)
    def _refused(self, message: ChangeRefused) -> None:
        self.saves_pending -= 1
        if message.fresh is not None:
            self.filings_changed([message.fresh])
        self.notify(inert(message.said), severity="error", timeout=8, markup=False)

    @on(CompactionDeferred)
    def _compaction_deferred(self, message: CompactionDeferred) -> None:
        self.notify(inert(message.said), severity="warning", markup=False)


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
