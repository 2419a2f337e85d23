"""The detail of one filing: its submissions, a pane per stage of each, then its notes.

Everything is built as Rich `Text` from data (never markup), so a domain or note that holds
`[red]` or an escape sequence shows as the characters it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.filing import Filing, Transition, stamp, submission_groups
from icp_tui.domain.sla import Health, expires_at, expiry_in_words, sla_status
from icp_tui.domain.stages import ALIBABA_CLOUD_REVIEW, Clock, Stage, rule
from icp_tui.domain.transitions import sms_attempts


def _line(label: str, value: str, style: str = "") -> Text:
    return Text.assemble((f"{label:<10}", "dim"), (value, style))


class StagePanes:
    """Builds the panes of one filing at one moment."""

    def __init__(self, filing: Filing, reference: Reference, now: datetime) -> None:
        self.filing = filing
        self.reference = reference
        self.now = now
        self.status = sla_status(filing, reference.policy, now)

    def render(self) -> RenderableType:
        f = self.filing
        parts: list[RenderableType] = [self._summary()]
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
        return Group(*parts)

    def _summary(self) -> Text:
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
        if s.escalate:
            text.append("\n")
            text.append(
                f"ticket {inert(f.ticket)}"
                if f.ticket
                else "NEEDS A TICKET: Alibaba Cloud review over "
                f"{self.reference.policy.escalate_after_bd} bd since submission",
                "bold",
            )
        return text

    def _pane(
        self, entry: Transition, following: Transition | None, events: list[Transition]
    ) -> Panel:
        stage = entry.target
        current = following is None
        body: list[Text] = [
            _line("entered", f"{stamp(entry.at)} by {inert(entry.by)}"),
        ]
        if entry.reason:
            body.append(_line("why", inert(entry.reason)))
        body.extend(
            _line("", f"{stamp(e.at)} {inert(e.by)}: {inert(e.reason)}", "dim") for e in events
        )
        if following is not None:
            body.append(_line("left", f"{stamp(following.at)} by {inert(following.by)}"))
        body.extend(self._clock_lines(entry, following))
        body.extend(self._stage_lines(stage, current))
        title = Text.assemble(("▶ " if current else "", "bold"), rule(stage).label)
        if current:
            title.append("  (current)", "bold")
        return Panel(
            Group(*body),
            title=title,
            title_align="left",
            box=box.HEAVY if current else box.ROUNDED,
            border_style="bold" if current else "dim",
            padding=(0, 1),
        )

    def _clock_lines(self, entry: Transition, following: Transition | None) -> list[Text]:
        stage = entry.target
        policy = self.reference.policy
        target = policy.target(stage, self.filing.province)
        clock = rule(stage).clock
        end = following.at if following else self.now
        if following is None:
            # The current stay runs from entered_at (an undo puts it back to the first entry).
            entry = Transition(self.filing.entered_at, entry.by, entry.source, stage, entry.reason)
        if clock is Clock.BUSINESS_DAYS and target is not None:
            used = policy.calendar.elapsed(entry.at, end)
            due = policy.calendar.due(entry.at, target)
            # Breached once past the due time, as the queue says (the weekend after a Friday
            # due day too, with no business day over yet).
            late = end > due
            outcome = "breached" if late else ("met" if following else "running")
            return [
                _line("due", stamp(due)),
                _line("used", f"{used} of {target} bd: {outcome}", "bold" if late else ""),
            ]
        if clock is Clock.WALL_HOURS and target is not None:
            sent = entry.at
            if following is None and self.filing.sms_sent_at is not None:
                sent = self.filing.sms_sent_at  # the 24 hours count from the latest SMS
            deadline = sent + timedelta(hours=target)
            # Whole hours, never rounded up; breached from the deadline itself, as the queue.
            hours = int((end - sent).total_seconds() // 3600)
            late = end >= deadline
            outcome = "breached" if late else ("met" if following else "running")
            return [
                _line("deadline", f"{stamp(deadline)} ({target} hours)"),
                _line("used", f"{hours} of {target} h: {outcome}", "bold" if late else ""),
            ]
        if clock is Clock.PAUSED:
            return [_line("clock", "paused: waiting for the applicant")]
        return []

    def _stage_lines(self, stage: Stage, current: bool) -> list[Text]:
        f = self.filing
        lines: list[Text] = []
        if stage is Stage.AWAITING_PHOTO:
            lines.append(_line("photo", "received" if f.checklist.admin_photo else "not yet"))
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
                    _line("materials", f"{inert(f.province)} requires mailing: {state}"),
                    _line("mail to", f"{m.addressee}, {m.address}"),
                    _line("", f"postal code {m.postal_code}, phone {m.phone} ({m.hours})"),
                ]
        elif stage is Stage.SMS_VERIFICATION and current:
            attempts = sms_attempts(f)
            sent = ", ".join(f"{stamp(t.at)} {inert(t.by)}" for t in attempts)
            lines.append(_line("SMS sent", f"{len(attempts)}x: {sent}"))
        elif stage is Stage.AUTHORITY_REVIEW:
            target = self.reference.policy.target(stage, f.province)
            lines.append(_line("target", f"{target} bd for {inert(f.province)}"))
        elif stage is Stage.APPROVED:
            lines.append(_line("ICP no.", inert(f.icp_number or "not recorded")))
        elif stage is Stage.WITHDRAWN:
            lines.append(_line("reason", inert(f.last_move.reason)))
        if current and stage in ALIBABA_CLOUD_REVIEW and (f.ticket or self.status.escalate):
            lines.append(_line("ticket", inert(f.ticket) if f.ticket else "needed", "bold"))
        return lines

    def _notes(self) -> RenderableType:
        if not self.filing.notes:
            return Text("no notes", "dim")
        text = Text()
        for note in self.filing.notes:
            text.append(f"{stamp(note.at)} {inert(note.by)}\n", "dim")
            text.append(inert(note.text, keep_newlines=True) + "\n")
        return Panel(text, title="Notes", title_align="left", box=box.ROUNDED, padding=(0, 1))


class FilingDetail(VerticalScroll):
    """The detail of the highlighted filing."""

    def compose(self) -> ComposeResult:
        yield Static(Text("No filing selected.", "dim"), id="detail-body")

    def show(self, filing: Filing | None, reference: Reference, now: datetime) -> None:
        body = self.query_one("#detail-body", Static)
        if filing is None:
            body.update(Text("No filing selected.", "dim"))
            return
        body.update(StagePanes(filing, reference, now).render())
