"""The detail of one filing: its submissions, a pane per stage of each, then its notes.

Everything is built as Rich `Text` from data (never markup), so a domain or note that holds
`[red]` or an escape sequence shows as the characters it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.styles import RulesMap
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual
from textual.widget import Widget
from textual.widgets import Static

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.estimate import ApprovalEstimate, estimate_lines
from icp_tui.domain.filing import Filing, Transition, stamp, submission_groups
from icp_tui.domain.sla import (
    Health,
    SlaStatus,
    expires_at,
    expiry_in_words,
    sla_status,
    ticket_words,
)
from icp_tui.domain.stages import ALIBABA_CLOUD_REVIEW, SlaClock, Stage, rule
from icp_tui.domain.transitions import sms_attempts
from icp_tui.ui.resizing import size_that_repaints

#: The labels' column ("entered", "deadline", "materials").
LABEL_WIDTH = 10


@dataclass(frozen=True)
class LabelledLine:
    """A labelled line; a value too long for the pane wraps under itself, not under the label.
    Data, not yet a table: two panes that say the same compare equal (`FilingDetail.show`)."""

    label: str
    value: str
    style: str = ""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width - LABEL_WIDTH
        if width < LABEL_WIDTH:  # a sliver of a pane: let Rich share it out
            yield self._grid()
            return
        # As the grid draws it (a dim label column, the value wrapped beside it), without a
        # Rich table: measuring one per line was half the cost of drawing a filing's panes.
        cell = options.update(justify="left", overflow="ellipsis", height=None)
        dim = console.get_style("dim")
        label = console.render_lines(
            Text(self.label), cell.update(width=LABEL_WIDTH, no_wrap=True), style=dim
        )
        value = console.render_lines(Text(self.value, self.style), cell.update(width=width))
        height = max(len(label), len(value))
        label = Segment.set_shape(label, LABEL_WIDTH, height, style=dim)
        value = Segment.set_shape(value, width, height)
        new_line = Segment.line()
        for left, right in zip(label, value, strict=True):
            yield from left
            yield from right
            yield new_line

    def _grid(self) -> Table:
        grid = Table.grid(expand=True)
        grid.add_column(width=LABEL_WIDTH, no_wrap=True, style="dim")
        grid.add_column(ratio=1)
        grid.add_row(self.label, Text(self.value, self.style))
        return grid


#: Events recorded in place (no move): how their reason starts -> (label, what follows it).
_EVENTS = (
    ("note added", "note", ""),
    ("ticket ", "ticket", None),
    ("assigned to ", "assigned", None),
    ("unassigned", "assigned", "nobody"),
    ("materials ", "materials", None),
    ("undo", "undone", ""),
)


def _event_line(event: Transition) -> LabelledLine:
    """An event with its own label: "note  2026-11-25 12:13 by linyu", "ticket ... TK1"."""
    reason = event.reason
    label, detail = "event", reason
    for prefix, name, fixed in _EVENTS:
        if reason.startswith(prefix):
            label, detail = name, reason[len(prefix) :] if fixed is None else fixed
            break
    value = f"{stamp(event.at)} by {inert(event.by)}"
    if detail:
        value += f": {inert(detail)}"
    return LabelledLine(label, value, "dim")


@dataclass(frozen=True)
class StagePanel:
    """One stage's pane. A label too long for the title line is not cut mid-word: the title
    shows the stage's short name and the whole label opens the pane, wrapped."""

    label: str
    short: str
    body: tuple[LabelledLine, ...]
    current: bool

    def _title(self, name: str) -> Text:
        title = Text.assemble(("▶ " if self.current else "", "bold"), name)
        if self.current:
            title.append("  (current)", "bold")
        return title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = self._title(self.label)
        body: list[RenderableType] = list(self.body)
        if title.cell_len > options.max_width - 6:  # corners, spaces and one rule each side
            title = self._title(self.short)
            body = [Text(self.label, "bold"), *body]
        yield Panel(
            Group(*body),
            title=title,
            title_align="left",
            box=box.HEAVY if self.current else box.ROUNDED,
            border_style="bold" if self.current else "dim",
            padding=(0, 1),
        )


class DrawnOnce:
    """A renderable drawn once per width, then repeated from the segments kept.

    Textual draws a Static's content to measure its height at every layout of the screen and
    again to paint it, so one change on screen (the row, the status line, this pane) drew the
    panes several times; their Rich tables and panels cost tens of ms a time. Drawn to their
    own height, what they show depends on the width alone: the width is the key.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._drawn: dict[int, list[Segment]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        drawn = self._drawn.get(width)
        if drawn is None:
            drawn = list(console.render(self.renderable, options.reset_height()))
            self._drawn[width] = drawn
        yield from drawn


class DrawnLines(RichVisual):
    """What a Static shows, its height and its lines worked out once per width.

    Textual works out a Static's height from its content at each layout and draws all of it
    again at each paint: passes over every line of the detail, several for one cursor move.
    Its content does not change until the next `update`, which makes a new one.
    """

    def __init__(self, widget: Widget, renderable: RenderableType) -> None:
        super().__init__(widget, renderable)
        self._heights: dict[int, int] = {}
        self._lines: dict[tuple[int, int | None, Style], list[Strip]] = {}

    def get_height(self, rules: RulesMap, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().get_height(rules, width)
        return height

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        key = (width, height, style)
        lines = self._lines.get(key)
        if lines is None:
            lines = self._lines[key] = super().render_strips(width, height, style, options)
        return lines


class StagePanes:
    """Builds the panes of one filing at one moment."""

    def __init__(
        self,
        filing: Filing,
        reference: Reference,
        now: datetime,
        eta: ApprovalEstimate | None = None,
        keys: bool = True,
    ) -> None:
        self.filing = filing
        self.reference = reference
        self.now = now
        self.status = sla_status(filing, reference.policy, now)
        #: When it is likely approved (the queue's estimate; authority review only).
        self.eta = eta
        #: Whether the advice names the keys (not while they are greyed out).
        self.keys = keys

    def render(self) -> RenderableType:
        """The summary, then every pane: the whole detail as one renderable."""
        return Group(self.summary(), *self.panes())

    def panes(self) -> list[RenderableType]:
        """A pane per stage on the path, oldest first (the current one last), then the notes."""
        f = self.filing
        parts: list[RenderableType] = []
        # One pane per stay: a move, and the changes recorded in place until the next move.
        visits: list[tuple[Transition, list[Transition]]] = []
        for entry in f.history:
            if entry.moved or not visits:
                visits.append((entry, []))
            else:
                visits[-1][1].append(entry)
        # The history is read per submission (DOMAIN.md): a heading where each one starts.
        groups = submission_groups(f.history)
        starts = {id(group[0]): n for n, group in enumerate(groups, 1)}
        for i, (entry, events) in enumerate(visits):
            number = starts.get(id(entry))
            if number is not None and len(groups) > 1:
                parts.append(
                    Text(f"Submission {number} of {len(groups)}, {stamp(entry.at)}", "bold")
                )
            following = visits[i + 1][0] if i + 1 < len(visits) else None
            parts.append(self._pane(entry, following, events))
        parts.append(self._notes())
        return parts

    def summary(self) -> RenderableType:
        """Id, domain, entity, health, assignee, ticket and what to do next."""
        f, s = self.filing, self.status
        text = Text()
        text.append(f"{f.id}  ", "bold")
        text.append(inert(f.domain), "bold")
        text.append(f"  v{f.version}\n", "dim")
        text.append(inert(f.entity))
        text.append(f"  ({f.entity_type.value}, {inert(f.province)})\n")
        text.append(
            f"{s.health.glyph} {s.health.word}", "bold" if s.health is Health.BREACHED else ""
        )
        text.append(f"  {s.left}")
        text.append(f"  assignee {inert(f.assignee or '-')}")
        policy = self.reference.policy
        expiry = expiry_in_words(expires_at(f, policy), policy, self.now)
        if expiry:
            text.append(f"\norder {expiry}", "bold" if expiry == "expired" else "")
        ticket = ticket_words(f, s, policy)
        if ticket:
            text.append("\n")
            text.append(f"ticket {inert(ticket)}", "bold")
        # "next:" wraps under itself, so the advice reads as one block in a narrow pane.
        advice = Table.grid(expand=True)
        advice.add_column(width=6, no_wrap=True, style="bold")
        advice.add_column(ratio=1)
        advice.add_row("next:", next_step(f, s, self.reference, self.keys))
        return Group(text, advice)

    def _pane(
        self, entry: Transition, following: Transition | None, events: list[Transition]
    ) -> StagePanel:
        stage = entry.target
        current = following is None
        body = [
            LabelledLine("entered", f"{stamp(entry.at)} by {inert(entry.by)}"),
        ]
        if entry.reason:
            body.append(LabelledLine("why", inert(entry.reason)))
        # Later events (a note, a ticket, an assignment) have their own label and time: they
        # are not part of why the filing entered the stage.
        body.extend(_event_line(e) for e in events)
        if following is not None:
            body.append(LabelledLine("left", f"{stamp(following.at)} by {inert(following.by)}"))
        body.extend(self._clock_lines(entry, following))
        body.extend(self._stage_lines(stage, current))
        return StagePanel(rule(stage).label, rule(stage).short, tuple(body), current)

    def _clock_lines(self, entry: Transition, following: Transition | None) -> list[LabelledLine]:
        stage = entry.target
        policy = self.reference.policy
        target = policy.target(stage, self.filing.province)
        clock = rule(stage).clock
        end = following.at if following else self.now
        if following is None:
            # The current stay runs from entered_at (an undo puts it back to the first entry).
            entry = Transition(self.filing.entered_at, entry.by, entry.source, stage, entry.reason)
        if clock is SlaClock.BUSINESS_DAYS and target is not None:
            used = policy.calendar.elapsed(entry.at, end)
            due = policy.calendar.due(entry.at, target)
            # Breached once past the due time, as the queue says (the weekend after a Friday
            # due day too, with no business day over yet).
            late = end > due
            outcome = "breached" if late else ("met" if following else "running")
            return [
                LabelledLine("due", stamp(due)),
                LabelledLine("used", f"{used} of {target} bd: {outcome}", "bold" if late else ""),
            ]
        if clock is SlaClock.WALL_HOURS and target is not None:
            sent = entry.at
            if following is None and self.filing.sms_sent_at is not None:
                sent = self.filing.sms_sent_at  # the 24 hours count from the latest SMS
            deadline = sent + timedelta(hours=target)
            # Whole hours, never rounded up; breached from the deadline itself, as the queue.
            hours = int((end - sent).total_seconds() // 3600)
            late = end >= deadline
            outcome = "breached" if late else ("met" if following else "running")
            return [
                LabelledLine("deadline", f"{stamp(deadline)} ({target} hours)"),
                LabelledLine("used", f"{hours} of {target} h: {outcome}", "bold" if late else ""),
            ]
        if clock is SlaClock.PAUSED:
            return [LabelledLine("clock", "paused: waiting for the applicant")]
        return []

    def _stage_lines(self, stage: Stage, current: bool) -> list[LabelledLine]:
        f = self.filing
        lines: list[LabelledLine] = []
        if stage is Stage.AWAITING_PHOTO:
            lines.append(
                LabelledLine("photo", "received" if f.checklist.admin_photo else "not yet")
            )
            province = self.reference.provinces.get(f.province)
            if province and province.requires_mailing:
                m = self.reference.mailing
                state = (
                    "received"
                    if f.checklist.materials_received
                    else "mailed, not received"
                    if f.checklist.materials_mailed
                    else "not mailed yet"
                )
                lines += [
                    LabelledLine("materials", f"{inert(f.province)} requires mailing: {state}"),
                    LabelledLine("mail to", f"{m.addressee}, {m.address}"),
                    LabelledLine("", f"postal code {m.postal_code}, phone {m.phone} ({m.hours})"),
                ]
        elif stage is Stage.SMS_VERIFICATION and current:
            attempts = sms_attempts(f)
            sent = ", ".join(f"{stamp(t.at)} {inert(t.by)}" for t in attempts)
            lines.append(LabelledLine("SMS sent", f"{len(attempts)}x: {sent}"))
        elif stage is Stage.AUTHORITY_REVIEW:
            target = self.reference.policy.target(stage, f.province)
            lines.append(LabelledLine("target", f"{target} bd for {inert(f.province)}"))
            if current and self.eta is not None:
                estimate, *late = estimate_lines(self.eta, f.province, self.now)
                lines.append(LabelledLine("estimate", inert(estimate)))
                lines.extend(LabelledLine("", inert(words), "bold") for words in late)
        elif stage is Stage.APPROVED:
            lines.append(LabelledLine("ICP no.", inert(f.icp_number or "not recorded")))
        elif stage is Stage.WITHDRAWN:
            lines.append(LabelledLine("reason", inert(f.last_move.reason)))
        if current and stage in ALIBABA_CLOUD_REVIEW and (f.ticket or self.status.escalate):
            lines.append(LabelledLine("ticket", inert(f.ticket) if f.ticket else "needed", "bold"))
        return lines

    def _notes(self) -> RenderableType:
        if not self.filing.notes:
            return Text("no notes", "dim")
        text = Text()
        for note in self.filing.notes:
            text.append(f"{stamp(note.at)} {inert(note.by)}\n", "dim")
            text.append(inert(note.text, keep_newlines=True) + "\n")
        return Panel(text, title="Notes", title_align="left", box=box.ROUNDED, padding=(0, 1))


def next_step(filing: Filing, status: SlaStatus, reference: Reference, keys: bool = True) -> str:
    """What staff should do now, from the stage and its flags, and the keys that do it;
    without `keys` (they are greyed out: the past, a read-only database) what to do only."""
    task, key = _next_step(filing, status, reference)
    return task + key if keys else task


def _next_step(filing: Filing, status: SlaStatus, reference: Reference) -> tuple[str, str]:
    """What to do, and the keys that do it (said after it)."""
    stage = filing.stage
    if status.escalate and not filing.ticket:
        return "open a ticket with the ICP Filing team", ", then t to record it"
    late = status.health is Health.BREACHED
    if stage is Stage.PRELIMINARY_REVIEW:
        return "review the application", ": a to pass it (photo next) or return it"
    if stage is Stage.RETURNED:
        return "wait for the applicant's corrections", "; a once resubmitted"
    if stage is Stage.AWAITING_PHOTO:
        province = reference.provinces.get(filing.province)
        mailing = province is not None and province.requires_mailing
        if mailing and not filing.checklist.materials_received:
            return "wait for the photo and the mailed materials", " (x when they arrive)"
        return "wait for the administrator photo", "; a once it is uploaded"
    if stage is Stage.PHOTO_REVIEW:
        return "review the photo", ": a to pass it, or return it"
    if stage is Stage.AWAITING_SUBMISSION:
        return "submit it to the communications administration", ", then a"
    if stage is Stage.SMS_VERIFICATION:
        if late:
            return "the SMS check was missed", ": a to return it to the applicant"
        return "wait for the applicant's SMS check (24 hours)", "; a once done"
    if stage is Stage.AUTHORITY_REVIEW:
        if late:
            return "overdue at the authority: follow up", "; a to record the decision"
        return "wait for the authority's decision", "; a to record it"
    if stage is Stage.REJECTED:
        return "wait for the applicant to resubmit", "; a once resubmitted"
    return "nothing: the filing is closed", ""


class PaneText(Static):
    """The detail's header or body: a Static whose new height lays the screen out once."""

    virtual_size = size_that_repaints()

    def __init__(self, content: RenderableType = "", *, id: str) -> None:
        super().__init__(content, id=id)
        # No links in a filing's detail: spares restyling every line of it at each paint (and
        # a repaint whenever the mouse moves over it).
        self.set_reactive(Widget.auto_links, False)


class FilingDetail(VerticalScroll):
    """The detail of a filing: its header stays in view, the panes open on the current stage."""

    BINDINGS = [Binding("escape", "leave", "Back to the table", show=False)]

    virtual_size = size_that_repaints()

    _shown: str | None = None  # the filing shown, to know when another one comes

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The stage panes shown, with their drawings, for the next `show` to reuse.
        self._drawings: dict[StagePanel, DrawnOnce] = {}

    class Left(Message):
        """Escape in the detail: the focus goes back to where it came from."""

    def compose(self) -> ComposeResult:
        yield PaneText(Text("No filing selected.", "dim"), id="detail-header")
        yield PaneText(id="detail-body")

    def show(
        self,
        filing: Filing | None,
        reference: Reference,
        now: datetime,
        eta: ApprovalEstimate | None = None,
        keys: bool = True,
    ) -> None:
        """Show `filing` at `now`; without `keys` (greyed out) its advice names none."""
        header = self.query_one("#detail-header", Static)
        body = self.query_one("#detail-body", Static)
        if filing is None:
            self._shown = None
            self._drawings = {}
            header.update(Text("No filing selected.", "dim"))
            body.update("")
            return
        panes = StagePanes(filing, reference, now, eta, keys)
        kept, self._drawings = self._drawings, {}
        parts = [self._drawing(part, kept) for part in panes.panes()]
        header.update(DrawnLines(header, DrawnOnce(panes.summary())))
        body.update(DrawnLines(body, Group(*parts)))
        if filing.id != self._shown:
            # Another filing: start at its current stage (the last pane before the notes),
            # not where the previous one was scrolled to. The same filing changing keeps
            # the reader's place.
            self._shown = filing.id
            before = parts[:-2]
            offset = self._offset(before)
            if offset is not None and self.show_vertical_scrollbar and offset <= self.max_scroll_y:
                # The scroll range reaches it already: scrolled now, the pane is painted once
                # (its new height only clamps the offset as the later scroll would).
                self.scroll_to(y=offset, animate=False, immediate=True)
            else:  # its new height (or width) takes effect at the next layout: scrolled then
                self.call_after_refresh(self._scroll_to_current, before)

    def _drawing(self, part: RenderableType, kept: dict[StagePanel, DrawnOnce]) -> DrawnOnce:
        """`part`, drawn once; a stage's pane that reads as one shown before keeps its drawing:
        a note redraws the current stage and the notes, not every stage of a long history."""
        if not isinstance(part, StagePanel):
            return DrawnOnce(part)
        drawing = kept.get(part) or DrawnOnce(part)
        self._drawings[part] = drawing
        return drawing

    def _scroll_to_current(self, before: Sequence[RenderableType]) -> None:
        offset = self._offset(before)
        if offset is not None:
            self.scroll_to(y=offset, animate=False, immediate=True)

    def _offset(self, before: Sequence[RenderableType]) -> int | None:
        """How many lines `before` (the parts above the current stage) take in the pane (None:
        the pane has no width)."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return None
        console = self.app.console
        options = console.options.update_width(width)
        return sum(len(console.render_lines(part, options, pad=False)) for part in before)

    def action_leave(self) -> None:
        self.post_message(self.Left())
