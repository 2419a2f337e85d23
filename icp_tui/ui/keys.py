"""Every key of the dashboard, declared once: its binding (footer label, tooltip), its line in
the help screen (`?`) and its command in the palette (ctrl+p) are all made from this table,
and tests/ui/test_keys.py checks the README's key table against it. The dialogs' keys are
here too: their bindings and the hint line under each dialog come from the same Key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.keys import format_key

from icp_tui.domain.transitions import UNDO_WINDOW, in_minutes
from icp_tui.queue import View


@dataclass(frozen=True)
class Key:
    """One key: what it does, how the footer, the help and the palette name it."""

    keys: str  # Textual's key names, comma-separated
    action: str
    label: str  # the footer's word
    help: str = ""  # the help screen's line and the tooltip; "" when another line covers it
    command: str = ""  # the palette's title; "" for keys the palette does not offer
    shown: bool = False  # in the footer
    id: str | None = None
    #: Once greyed out, the key says why (a second binding to `explain`).
    explains: bool = False
    #: How the help names the key, where not simply its keys ("1 .. 6" for six keys).
    help_keys: str = ""
    #: Taken before the focused widget sees the key.
    priority: bool = False
    #: A dialog's hint for the key ("move" in "y: move"); `{name}` fields are filled by the
    #: dialog (`hint_line`).
    hint: str = ""
    #: The focused text box's own key (enter submits it): in the hint, not in BINDINGS.
    widget: bool = False
    #: It needs the whole queue: while the dashboard shows only its first rows (opening a
    #: large database), a last binding (`still_loading`) says that it waits.
    waits: bool = False

    def bindings(self) -> list[Binding]:
        if self.widget:
            return []
        main = Binding(
            self.keys,
            self.action,
            self.label,
            show=self.shown,
            tooltip=self.help,
            id=self.id,
            priority=self.priority,
        )
        found = [main]
        if self.explains:
            found.append(Binding(self.keys, f"explain('{self.action}')", show=False))
        if self.waits:
            found.append(Binding(self.keys, f"still_loading('{self.label}')", show=False))
        return found

    @property
    def typed(self) -> str:
        """The key as typed (`]`, not right_square_bracket), for the palette."""
        return " / ".join(format_key(name) for name in self.keys.split(","))

    @property
    def named(self) -> str:
        """The key as the help shows it."""
        return self.help_keys or " / ".join(self.keys.split(","))


#: The table's own keys (FilingTable).
TABLE_KEYS = (
    Key("j,down", "cursor(1)", "Down", "next filing"),
    Key("k,up", "cursor(-1)", "Up", "previous filing"),
    Key("pageup", "page(-1)", "Page up", "page up / down", help_keys="pgup / pgdn"),
    Key("pagedown", "page(1)", "Page down"),
    Key("home", "jump(0)", "First", "first / last filing", help_keys="home / end"),
    Key("end", "jump(-1)", "Last"),
    Key("enter", "select", "Detail", "open the detail (narrow terminal) or focus it", id="detail"),
)

#: The keys of the first saved views (config [views]); the palette offers all of them.
SAVED_VIEW_KEYS = "789"

VIEWS_HELP = "queues: all, mine, needs our action, applicant, authority, closed"

#: The keys that act on the highlighted filing or on the view (DashboardScreen).
DASHBOARD_KEYS = (
    Key(
        "a",
        "advance",
        "Advance",
        "advance: pick the stage, confirm with y",
        "Advance the highlighted filing",
        shown=True,
        id="advance",
        explains=True,
    ),
    Key(
        "w",
        "withdraw",
        "Withdraw",
        "withdraw: pick the reason, confirm with y",
        "Withdraw the highlighted filing",
        shown=True,
        id="withdraw",
        explains=True,
    ),
    Key(
        "n",
        "note",
        "Note",
        "add a note (ctrl+o in the note box: write a long one in $EDITOR)",
        "Add a note to the highlighted filing",
        True,
        "note",
        explains=True,
    ),
    Key(
        "t",
        "ticket",
        "Ticket",
        "record the ticket of an escalated filing",
        "Record a ticket for the highlighted filing",
        shown=True,
        id="ticket",
        explains=True,
    ),
    Key(
        "u",
        "undo",
        "Undo",
        f"undo your own last change ({in_minutes(UNDO_WINDOW)})",
        "Undo my last change",
        shown=True,
        id="undo",
        explains=True,
    ),
    Key(
        "o",
        "take",
        "Take",
        "take the filing: assign it to me (asks first if it is a colleague's)",
        "Take the highlighted filing (assign it to me)",
        id="take",
        explains=True,
    ),
    Key(
        "A",
        "assign",
        "Assign",
        "assign the filing (or the marked ones) to anyone: pick a name or type one",
        "Assign the highlighted (or marked) filings to someone",
        id="assign",
        explains=True,
        waits=True,
    ),
    Key(
        "space",
        "mark",
        "Mark",
        "mark / unmark the filing; with marks set, o, n, a and A act on all of them",
        "Mark or unmark the highlighted filing",
        id="mark",
    ),
    Key(
        "asterisk",
        "mark_all",
        "Mark all",
        "mark every filing of the view",
        "Mark all",
        help_keys="*",
        waits=True,
    ),
    Key("minus", "clear_marks", "Clear marks", "clear the marks", "Clear the marks", help_keys="-"),
    Key(
        "c",
        "copy('id')",
        "Copy id",
        "copy the filing's id / domain to your clipboard (OSC 52: over SSH and in tmux)",
        "Copy the highlighted filing's id",
        help_keys="c / C",
    ),
    Key("C", "copy('domain')", "Copy domain", command="Copy the highlighted filing's domain"),
    Key(
        "x",
        "materials_received",
        "Materials in",
        "the mailed verification materials arrived (where the province asks for them)",
        "Mailed materials received",
        id="materials",
        explains=True,
    ),
    Key(
        "v",
        "sms_resent",
        "SMS resent",
        "the MIIT SMS was resent: its 24 hours restart (SMS check only)",
        "The SMS was resent",
        id="sms_resent",
        explains=True,
    ),
    Key(
        "m",
        "mine",
        "Mine",
        "mine only: toggle the queue of filings assigned to me",
        "Show only my filings / all filings",
        id="mine",
        waits=True,
    ),
    Key(
        "e",
        "export",
        "Export",
        "export the view as it is (filter, sort) to a CSV file: asks for the name",
        "Export the view to a CSV file",
        id="export",
        waits=True,
    ),
    Key(
        "g",
        "stats",
        "Stats",
        "stats: filings per stage and health, breaches per day, review times",
        "Statistics",
        id="stats",
        waits=True,
    ),
    Key(
        "slash",
        "filter",
        "Filter",
        "query as you type: words (id, domain, entity, province, assignee), health:, stage:, "
        "province:, assignee:NAME|me|none, ticket:yes|no, escalate:yes|no, due:today, "
        "due:<Nbd, due:<Nh, over:>Nbd, waiting:>Nd, expires:<Nd; a - negates a term",
        "Filter the queue",
        shown=True,
        id="filter",
        help_keys="/",
        waits=True,
    ),
    Key("escape", "clear_filter", "Clear filter", "clear the filter"),
    # Enter in the query box, handled at once (a priority key), not by a message that keys
    # typed right after it would overtake: they are dashboard keys again.
    Key("enter", "query_done", "Done", priority=True),
    Key(
        "s",
        "cycle_sort",
        "Sort",
        "cycle the sort: urgency, due, likely approval, stage, province, id",
        "Cycle the sort order",
        shown=True,
        id="sort",
        waits=True,
    ),
    Key(
        "r",
        "resort",
        "Re-sort",
        "re-sort now (otherwise rows stay put while you work, and re-sort by themselves "
        "after a minute without a key press)",
        "Re-sort now",
        waits=True,
    ),
    *(
        Key(
            key,
            f"view('{view.name}')",
            view.value,
            "queues: all, mine, needs our action, applicant, authority, closed"
            if key == "1"
            else "",
            f"Queue: {view.value}",
            help_keys="1 .. 6",
            waits=True,
        )
        for key, view in zip("123456", View, strict=True)
    ),
    *(
        Key(
            key,
            f"saved_view({i})",
            f"saved view {i + 1}",
            "the first three saved views (config [views]); ctrl+p lists them all"
            if key == "7"
            else "",
            help_keys="7 / 8 / 9",
            waits=True,
        )
        for i, key in enumerate(SAVED_VIEW_KEYS)
    ),
    # The queue as it was (ui/timetravel.py): read-only away from now.
    Key(
        "left_square_bracket",
        "travel(-1)",
        "Hour back",
        "the queue as it was an hour earlier / later (read-only while in the past)",
        "The queue an hour earlier",
        id="time.hour_back",
        help_keys="[ / ]",
        waits=True,
    ),
    Key(
        "right_square_bracket",
        "travel(1)",
        "Hour on",
        command="The queue an hour later",
        waits=True,
    ),
    Key(
        "left_curly_bracket",
        "travel(-24)",
        "Day back",
        "the queue as it was a day earlier / later",
        "The queue a day earlier",
        help_keys="{ / }",
        waits=True,
    ),
    Key("right_curly_bracket", "travel(24)", "Day on", command="The queue a day later", waits=True),
    Key(
        "at",
        "jump_to_time",
        "Go to a time",
        "the queue as it was at a time you type (Beijing time, e.g. 2026-11-30 09:00)",
        "The queue as it was at a time",
        help_keys="@",
        waits=True,
    ),
    Key(
        "full_stop",
        "back_to_now",
        "Back to now",
        "back to now: the live queue, where the keys act again",
        "The queue now",
        help_keys=".",
        waits=True,
    ),
)

#: The app's keys (IcpApp): they work on every screen.
APP_KEYS = (
    Key("ctrl+p", "command_palette", "Commands", "command palette"),
    Key("question_mark", "help", "Help", "this help", shown=True, id="help", help_keys="?"),
    Key("q", "quit", "Quit", "quit", shown=True, id="quit"),
    # Over SSH people press ctrl+c to leave; a focused text box still takes it as copy.
    Key("ctrl+c", "quit", "Quit"),
)


def _typed(hint: str) -> Key:
    """Enter in a dialog's text box: the box's own key (it submits the text)."""
    return Key("enter", "submit", "Done", hint=hint, widget=True)


#: AdvanceScreen: the stage list.
ADVANCE_KEYS = (
    Key("y", "confirm", "Yes, move", hint="move"),
    Key("n,escape", "cancel", "No", hint="cancel"),
)

#: WithdrawScreen and ReasonScreen: a reason from the list, or typed for "other". The keys of
#: the list and those of the text box are told apart by the dialog's check_action.
REASON_KEYS = (
    _typed("done, then y: {verb}"),
    Key("y", "confirm", "Yes", hint="{verb}"),
    Key("n", "cancel", "No", hint="cancel"),
    # From the reason box back to the list (the list itself moves with up on its own).
    Key("up", "back_to_list", "The list", hint="the list"),
    Key("escape", "dismiss", "Cancel", hint="cancel"),
)

#: ConfirmScreen: a yes / no question.
CONFIRM_KEYS = (
    Key("y", "dismiss(True)", "Yes", hint="{yes}"),
    Key("n,escape", "dismiss(False)", "No", hint="no, change nothing"),
)

#: TextPromptScreen: one line of text (ctrl+o only where the dialog offers the editor).
PROMPT_KEYS = (
    _typed("{action}"),
    Key("escape", "cancel", "Cancel", hint="cancel"),
    Key("ctrl+o", "edit", "Edit in $EDITOR", hint="$EDITOR"),
)

#: AssignScreen: a name typed, or one picked from the people below.
ASSIGN_KEYS = (
    _typed("assign"),
    Key("down", "to_people", "The people", hint="the people"),
    Key("escape", "dismiss", "Cancel", hint="cancel"),
)

#: HelpScreen.
HELP_SCREEN_KEYS = (
    Key(
        "escape,q,question_mark",
        "close",
        "Close",
        hint="close this help",
        help_keys="escape / q / ?",
    ),
)


#: A screen's `check_action`: whether an action applies now (falsy: not).
ActionCheck = Callable[[str, tuple[object, ...]], bool | None]


def hint_line(keys: Iterable[Key], check: ActionCheck | None = None, **fields: str) -> str:
    """The hint under a dialog, from its keys whose action `check` lets run now (neighbours
    with the same hint share it: "y: move   n / escape: cancel"); `fields` fill the `{name}`s."""
    shown = [key for key in keys if key.hint and (check is None or check(key.action, ()))]
    parts: list[tuple[str, str]] = []
    for key in shown:
        hint = key.hint.format_map(fields)
        if parts and parts[-1][1] == hint:
            parts[-1] = (f"{parts[-1][0]} / {key.named}", hint)
        else:
            parts.append((key.named, hint))
    return "   ".join(f"{named}: {hint}" for named, hint in parts)


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    """The bindings of `keys`, for a BINDINGS list."""
    return [binding for key in keys for binding in key.bindings()]


def help_lines() -> list[tuple[str, str]]:
    """The help screen's lines: every key with a help text, in the order declared."""
    return [(k.named, k.help) for k in (*TABLE_KEYS, *DASHBOARD_KEYS, *APP_KEYS) if k.help]


def key_named(action: str) -> Key:
    """The dashboard key that runs `action`."""
    return next(k for k in DASHBOARD_KEYS if k.action == action)
