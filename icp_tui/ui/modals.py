"""Modal screens: advance, withdraw, text prompts (note, ticket), help and narrow detail.

In every modal the safe answer is the default: escape (or n) cancels and nothing changes; a
change happens only on an explicit `y` (or enter in a text prompt).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from icp_tui.domain.stages import Stage, rule


class AdvanceScreen(ModalScreen[Stage | None]):
    """Pick the stage to move to (the happy-path next one is preselected); y confirms."""

    BINDINGS = [
        Binding("y", "confirm", "Yes, move"),
        Binding("n,escape", "cancel", "No"),
    ]

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
            yield OptionList(
                *(Option(Text(f"{rule(s).label} ({s.value})"), id=s.value) for s in self.targets)
            )
            yield Label("y: move   n / escape: cancel", classes="hint")

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

    BINDINGS = [
        Binding("y", "confirm", "Yes, withdraw"),
        Binding("n", "cancel", "No"),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, filing_id: str, reasons: Sequence[str]) -> None:
        super().__init__()
        self.filing_id = filing_id
        self.reasons = list(reasons)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Withdraw {self.filing_id}? Choose the reason:"))
            yield OptionList(*(Option(Text(r), id=str(i)) for i, r in enumerate(self.reasons)))
            yield Input(placeholder="the reason, in words (enter when done)", id="other-reason")
            yield Label("y: withdraw   n / escape: cancel", classes="hint")

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
        is_other = self.reasons[event.option_index] == "other"
        self.query_one("#other-reason", Input).display = is_other

    @on(OptionList.OptionSelected)
    def _ask_other(self, event: OptionList.OptionSelected) -> None:
        if self.reasons[event.option_index] == "other":
            self.query_one("#other-reason", Input).focus()

    @on(Input.Submitted)
    def _typed(self) -> None:
        self.query_one(OptionList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing the reason, y and n are letters, not answers.
        return not (action in ("confirm", "cancel") and isinstance(self.focused, Input))

    def action_confirm(self) -> None:
        reason = self._chosen()
        if reason is None:
            self.notify("Type the reason first (enter when done).", severity="warning")
            self.query_one("#other-reason", Input).focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def key_escape(self) -> None:
        self.dismiss(None)


class ReasonScreen(WithdrawScreen):
    """Why a filing goes back to the applicant (returned or rejected): a reason from the data
    file, or "other" with free text; y confirms. The text field takes the letters typed."""

    BINDINGS = [
        Binding("y", "confirm", "Yes, move"),
        Binding("n", "cancel", "No"),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, filing_id: str, target: Stage, reasons: Sequence[str]) -> None:
        super().__init__(filing_id, reasons)
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Move {self.filing_id} to {rule(self.target).label}? Why:"))
            yield OptionList(*(Option(Text(r), id=str(i)) for i, r in enumerate(self.reasons)))
            yield Input(placeholder="the reason, in words (enter when done)", id="other-reason")
            yield Label("y: move   n / escape: cancel", classes="hint")


class TextPromptScreen(ModalScreen[str | None]):
    """One line of text (a note, a ticket reference); enter saves, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, placeholder: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.prompt))
            yield Input(placeholder=self.placeholder)
            yield Label("enter: save   escape: cancel", classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value)
        else:
            self.notify("Nothing typed: nothing saved.", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Keys\n\n", "bold")
        for key, what in self.keys:
            text.append(f"  {key:<12}", "bold")
            text.append(f"{what}\n")
        text.append("\nescape / q / ?: close this help", "dim")
        # Taller than 24 lines: scrollable, and focused so that the arrow keys scroll it.
        with VerticalScroll(classes="dialog help"):
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)


class DetailScreen(ModalScreen[None]):
    """The detail of a filing on a narrow terminal (enter opens it, escape closes)."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, body: Static) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        # A long history does not fit: scrollable, and focused so that the arrow keys scroll it.
        with VerticalScroll(classes="dialog detail"):
            yield self.body

    def action_close(self) -> None:
        self.dismiss(None)
