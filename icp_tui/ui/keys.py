"""Every key of the dashboard, declared once: its binding (footer label, tooltip), its line in
the help screen (`?`) and its command in the palette (ctrl+p) are all made from this table,
and tests/ui/test_keys.py checks the README's key table against it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType

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

    def bindings(self) -> list[Binding]:
        main = Binding(
            self.keys, self.action, self.label, show=self.shown, tooltip=self.help, id=self.id
        )
        if not self.explains:
            return [main]
        return [main, Binding(self.keys, f"explain('{self.action}')", show=False)]

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
    Key("n", "note", "Note", "add a note", "Add a note to the highlighted filing", True, "note"),
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
    ),
    Key(
        "e",
        "export",
        "Export",
        "export the view as it is (filter, sort) to a CSV file: asks for the name",
        "Export the view to a CSV file",
        id="export",
    ),
    Key(
        "g",
        "stats",
        "Stats",
        "stats: filings per stage and health, breaches per day, review times",
        "Statistics",
        id="stats",
    ),
    Key(
        "slash",
        "filter",
        "Filter",
        "filter by id, domain, entity, province, assignee",
        "Filter the queue",
        shown=True,
        id="filter",
        help_keys="/",
    ),
    Key("escape", "clear_filter", "Clear filter", "clear the filter"),
    Key(
        "s",
        "cycle_sort",
        "Sort",
        "cycle the sort: urgency, due, stage, province, id",
        "Cycle the sort order",
        shown=True,
        id="sort",
    ),
    Key(
        "r",
        "resort",
        "Re-sort",
        "re-sort now (otherwise rows stay put while you work, and re-sort by themselves "
        "after a minute without a key press)",
        "Re-sort now",
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
        )
        for key, view in zip("123456", View, strict=True)
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


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    """The bindings of `keys`, for a BINDINGS list."""
    return [binding for key in keys for binding in key.bindings()]


def help_lines() -> list[tuple[str, str]]:
    """The help screen's lines: every key with a help text, in the order declared."""
    return [(k.named, k.help) for k in (*TABLE_KEYS, *DASHBOARD_KEYS, *APP_KEYS) if k.help]


def key_named(action: str) -> Key:
    """The dashboard key that runs `action`."""
    return next(k for k in DASHBOARD_KEYS if k.action == action)
