"""Modal screens: advance, withdraw, yes / no, assign, text prompts (note, ticket, export
file), help and the narrow detail.

In every modal the safe answer is the default: escape (or n) cancels and nothing changes; a
change happens only on an explicit `y` (or enter in a text prompt).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import DescendantFocus
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.estimate import ApprovalEstimate
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage, rule
from icp_tui.ui.detail import FilingDetail
from icp_tui.ui.keys import (
    ADVANCE_KEYS,
    ASSIGN_KEYS,
    CONFIRM_KEYS,
    HELP_SCREEN_KEYS,
    PROMPT_KEYS,
    REASON_KEYS,
    bindings,
    hint_line,
    key_named,
)


class AdvanceScreen(ModalScreen[Stage | None]):
    """Pick the stage to move to (the happy-path next one is preselected); y confirms."""

    BINDINGS = bindings(ADVANCE_KEYS)

    def __init__(
        self, filing_id: str, source: Stage, targets: Sequence[Stage], preselected: Stage | None
    ) -> None:
        super().__init__()
        self.filing_id = filing_id
        self.source = source
        self.targets = list(targets)
        self.preselected = preselected if preselected in self.targets else self.targets[0]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Move {self.filing_id} from {rule(self.source).label} to:"))
            yield OptionList(*(Option(Text(rule(s).label), id=s.value) for s in self.targets))
            yield Label(hint_line(ADVANCE_KEYS), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.targets.index(self.preselected)
        options.focus()

    def action_confirm(self) -> None:
        highlighted = self.query_one(OptionList).highlighted
        self.dismiss(self.targets[highlighted] if highlighted is not None else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WithdrawScreen(ModalScreen[str | None]):
    """Pick a withdraw reason ("other" asks for text), then y confirms."""

    BINDINGS = bindings(REASON_KEYS)

    #: What y does, in the hints.
    verb = "withdraw"

    def __init__(self, filing_id: str, reasons: Sequence[str], aside: str = "") -> None:
        super().__init__()
        self.filing_id = filing_id
        self.reasons = list(reasons)
        #: Said after the filing in the question (" (only this one; ...)").
        self.aside = aside

    def question(self) -> str:
        return f"Withdraw {self.filing_id}{self.aside}? Choose the reason:"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question()))
            yield OptionList(*(Option(Text(r), id=str(i)) for i, r in enumerate(self.reasons)))
            yield Input(placeholder="the reason, in words (enter when done)", id="other-reason")
            yield Label(classes="hint", id="reason-hint")  # the keys that apply: `_hint`

    def on_mount(self) -> None:
        self.query_one("#other-reason", Input).display = False
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def _chosen(self) -> str | None:
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is None:
            return None
        reason = self.reasons[highlighted]
        if reason == "other":
            typed = self.query_one("#other-reason", Input).value
            return f"other: {typed}" if typed.strip() else None
        return reason

    @on(OptionList.OptionHighlighted)
    def _toggle_other(self, event: OptionList.OptionHighlighted) -> None:
        # "other" means typing comes next: the box takes the keys at once, so that no letter
        # of the reason is taken for an answer (n) or reaches the dashboard underneath.
        is_other = self.reasons[event.option_index] == "other"
        box = self.query_one("#other-reason", Input)
        box.display = is_other
        if is_other:
            box.focus()

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        # Back to the list (where y answers) only with words typed: an empty enter would leave
        # the next letters to the list, and an `n` among them would cancel.
        if event.value.strip():
            self.query_one(OptionList).focus()
        else:
            self.notify("Type the reason first (enter when done).", severity="warning")

    @on(DescendantFocus)
    def _hint(self) -> None:
        self.query_one("#reason-hint", Label).update(
            hint_line(REASON_KEYS, self.check_action, verb=self.verb)
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing the reason, y and n are letters, not answers; enter ends the typing.
        if action in ("confirm", "cancel", "back_to_list", "submit"):
            typing = isinstance(self.focused, Input)
            return typing if action in ("back_to_list", "submit") else not typing
        return True

    def action_confirm(self) -> None:
        reason = self._chosen()
        if reason is None:
            self.notify("Type the reason first (enter when done).", severity="warning")
            self.query_one("#other-reason", Input).focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_back_to_list(self) -> None:
        self.query_one(OptionList).focus()


class ConfirmScreen(ModalScreen[bool]):
    """A yes / no question; no (escape, n) is the default and changes nothing."""

    BINDINGS = bindings(CONFIRM_KEYS)

    def __init__(self, question: str, yes: str) -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question))
            yield Label(hint_line(CONFIRM_KEYS, yes=self.yes), classes="hint")


class ReasonScreen(WithdrawScreen):
    """Why a filing goes back to the applicant (returned or rejected): a reason from the data
    file, or "other" with free text; y confirms. The text field takes the letters typed."""

    # The keys of the withdraw dialog (escape cancels even while typing).
    verb = "move"

    def __init__(self, filing_id: str, target: Stage, reasons: Sequence[str]) -> None:
        super().__init__(filing_id, reasons)
        self.target = target

    def question(self) -> str:
        return f"Move {self.filing_id} to {rule(self.target).label}? Why:"


class TextPromptScreen(ModalScreen[str | None]):
    """One line of text (a note, a ticket reference); enter saves, escape cancels. With
    `editor`, ctrl+o writes it in $VISUAL / $EDITOR instead (for a long note)."""

    BINDINGS = bindings(PROMPT_KEYS)

    def __init__(
        self,
        prompt: str,
        placeholder: str = "",
        value: str = "",
        action: str = "save",
        check: Callable[[str], str | None] | None = None,
        editor: bool = False,
    ) -> None:
        super().__init__()
        self.editor = editor
        self.prompt = prompt
        self.placeholder = placeholder
        self.value = value
        self.action = action
        #: Says what is wrong with the text (None: fine); the dialog then stays, text kept.
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.prompt))
            yield Input(self.value, placeholder=self.placeholder)
            yield Label(id="prompt-error")  # what `check` says is wrong, under the text
            hint = hint_line(PROMPT_KEYS, self.check_action, action=self.action)
            yield Label(hint, classes="hint")

    def on_mount(self) -> None:
        # Every key typed from now on is text: none may be taken for a command.
        self.query_one(Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.editor or action != "edit"

    def action_edit(self) -> None:
        """Suspend the dashboard, edit the text in the user's editor, save what it leaves
        (the dialog stays, with its text, if the editor fails or leaves nothing)."""
        box = self.query_one(Input)
        try:
            text, said = edit_in_editor(self.app, box.value)
        except SuspendNotSupported:
            said = "This terminal cannot hand over to an editor: type the note here."
            text = None
        if said:
            self.notify(inert(said), severity="warning", markup=False)
        if text is not None and text.strip():
            self.dismiss(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.notify("Nothing typed: nothing saved.", severity="warning")
            return
        wrong = self.check(event.value) if self.check else None
        error = self.query_one("#prompt-error", Label)
        error.update(Text(inert(wrong or "")))
        error.display = bool(wrong)
        if wrong:
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def edit_in_editor(app: App[object], text: str) -> tuple[str | None, str]:
    """Run $VISUAL (or $EDITOR, else vi) on `text` with the app suspended; returns the text it
    left (None if it failed) and what to tell the user ("" if all went well)."""
    command = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    handle, name = tempfile.mkstemp(prefix="icp-tui-note-", suffix=".txt")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        with app.suspend():
            try:
                code = subprocess.call([*command, str(path)])
            except OSError as error:
                return None, f"Cannot run the editor {command[0]}: {error.strerror}"
        if code != 0:
            return None, f"The editor exited with status {code}: nothing saved"
        edited = path.read_text(encoding="utf-8", errors="replace").rstrip("\n")
        return edited, "" if edited.strip() else "The editor left no text: nothing saved"
    finally:
        path.unlink(missing_ok=True)


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard."""

    BINDINGS = bindings(HELP_SCREEN_KEYS)

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        # A grid, so that a long entry wraps under its own text rather than under the key.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=12, no_wrap=True, style="bold")
        grid.add_column(ratio=1)
        for key, what in self.keys:
            grid.add_row(Text(key), Text(what))  # as written: "[views]" is no style
        closing = Text(f"\n{hint_line(HELP_SCREEN_KEYS)}", "dim")
        body = Group(Text("Keys\n", "bold"), grid, closing)
        # Taller than 24 lines: scrollable, and focused so that the arrow keys scroll it.
        with VerticalScroll(classes="dialog help"):
            yield Static(body)

    def action_close(self) -> None:
        self.dismiss(None)


#: The dashboard's keys the full-screen detail offers too: (key, action, footer label).
DETAIL_ACTIONS = tuple(
    (key.keys, key.action, key.label)
    for key in map(
        key_named, ("advance", "withdraw", "note", "ticket", "take", "materials_received", "undo")
    )
)


class DetailScreen(ModalScreen[None]):
    """The detail of a filing on a narrow terminal: it follows live changes, and the keys of
    the filing work here as on the dashboard (a key that does not apply says why)."""

    BINDINGS = [
        *(Binding(key, f"act('{action}')", label) for key, action, label in DETAIL_ACTIONS),
        *(Binding(key, f"explain('{action}')", show=False) for key, action, _ in DETAIL_ACTIONS),
        Binding("question_mark", "help", "Help"),
        Binding("escape,q", "dismiss", "Close"),
    ]

    def __init__(
        self,
        filing: Filing,
        reference: Reference,
        now: datetime,
        eta: ApprovalEstimate | None = None,
        keys: bool = True,
    ) -> None:
        super().__init__()
        self.filing = filing
        self.reference = reference
        self.now = now
        self.eta = eta
        self.keys = keys

    def compose(self) -> ComposeResult:
        # A long history does not fit: scrollable, and focused so that the arrow keys scroll it.
        yield FilingDetail(id="detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.show(self.filing, self.now, self.eta, self.keys)
        self.query_one(FilingDetail).focus()

    def show(
        self, filing: Filing, now: datetime, eta: ApprovalEstimate | None = None, keys: bool = True
    ) -> None:
        """Show `filing` as it is now (called again whenever it changes); without `keys`
        (greyed out) its advice names none."""
        self.filing = filing
        self.eta = eta
        self.query_one(FilingDetail).show(filing, self.reference, now, eta, keys)
        self.refresh_bindings()

    @property
    def body(self) -> Static:
        return self.query_one("#detail-body", Static)

    @property
    def header(self) -> Static:
        return self.query_one("#detail-header", Static)

    @property
    def dashboard(self) -> Screen[None]:
        """The dashboard under this screen (its cursor is on this filing); the App holds it."""
        dashboard: Screen[None] = getattr(self.app, "dashboard")  # noqa: B009 (no import cycle)
        return dashboard

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "explain":
            return self.dashboard.check_action("explain", parameters)
        if action == "act":
            return True if self.dashboard.check_action(str(parameters[0]), ()) else None
        return True

    async def action_act(self, action: str) -> None:
        # The dashboard's action opens its dialog over this screen, saves, and tells.
        await self.dashboard.run_action(action)

    async def action_explain(self, action: str) -> None:
        await self.dashboard.run_action(f"explain('{action}')")

    async def action_help(self) -> None:
        await self.app.run_action("help")

    @on(FilingDetail.Left)
    def _left(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Assignee:
    """Whom the assign dialog picked: a name ("-" for nobody), and whether no filing has ever
    seen it (a likely slip, asked about before saving)."""

    name: str
    new: bool = False


class AssignScreen(ModalScreen[Assignee | None]):
    """Whom to give filings to: one of the people seen in the queue (up / down, enter), or a
    name typed (enter); `-` for nobody. Escape cancels.

    A typed name the queue does not show is looked up in every history (`known`) off the UI
    thread: the dialog stays, and takes keys, until the answer comes."""

    BINDINGS = bindings(ASSIGN_KEYS)

    @dataclass
    class Checked(Message):
        """Whether `name` has been given, or acted on, a filing (from the lookup's thread)."""

        name: str
        known: bool

    def __init__(self, what: str, people: Sequence[str], known: Callable[[str], bool]) -> None:
        super().__init__()
        self.what = what
        self.people = list(people)
        self.known = known

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Assign {self.what} to:"))
            yield Input(
                placeholder="a user name (- for nobody), or pick below",
                suggester=SuggestFromList(self.people, case_sensitive=False),
            )
            yield OptionList(*(Option(Text(p), id=p) for p in self.people))
            yield Label(hint_line(ASSIGN_KEYS), classes="hint", id="assign-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # down moves from the name box to the list; in the list it moves as lists do.
        return action != "to_people" or isinstance(self.focused, Input)

    def action_to_people(self) -> None:
        options = self.query_one(OptionList)
        if self.people:
            options.highlighted = 0
            options.focus()

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            self.notify("Type a name, or pick one below.", severity="warning")
            return
        if name == "-" or name in self.people:
            self.dismiss(Assignee(name))  # nobody, or a current assignee: known already
            return
        self.query_one("#assign-hint", Label).update(Text(f"checking {name} in the history …"))
        # On the app, whose one handler tells a failed worker (enter again retries).
        self.app.run_worker(
            partial(self._look_up, name),
            group="assign.name",
            description=f"Looking up {name}",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _look_up(self, name: str) -> None:
        self.post_message(self.Checked(name, self.known(name)))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.name == self.query_one(Input).value.strip():  # else edited meanwhile: stay
            self.dismiss(Assignee(message.name, new=not message.known))
        else:
            self.query_one("#assign-hint", Label).update(hint_line(ASSIGN_KEYS))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Assignee(self.people[event.option_index]))
