"""Each key is declared once (icp_tui/ui/keys.py): the README's table lists the same keys, and
every key runs an action the screen that owns it has."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Input

from icp_tui.ui.app import IcpApp
from icp_tui.ui.dashboard import DashboardScreen
from icp_tui.ui.keys import (
    ADVANCE_KEYS,
    APP_KEYS,
    ASSIGN_KEYS,
    CONFIRM_KEYS,
    DASHBOARD_KEYS,
    HELP_SCREEN_KEYS,
    PROMPT_KEYS,
    REASON_KEYS,
    TABLE_KEYS,
    Key,
    hint_line,
)
from icp_tui.ui.modals import (
    AdvanceScreen,
    AssignScreen,
    ConfirmScreen,
    HelpScreen,
    ReasonScreen,
    TextPromptScreen,
    WithdrawScreen,
)
from icp_tui.ui.table import FilingTable

README = Path(__file__).resolve().parents[2] / "README.md"
#: How the README writes a key Textual names otherwise.
README_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "pageup": "pgup",
    "pagedown": "pgdn",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
    "at": "@",
    "full_stop": ".",
    "asterisk": "*",
    "minus": "-",
}


def readme_keys() -> set[str]:
    """The keys in the first column of the README's "key | what it does" table."""
    text = README.read_text(encoding="utf-8")
    table = text.split("| key | what it does |", 1)[1].split("\n\n", 1)[0]
    keys: set[str] = set()
    for row in table.splitlines()[2:]:
        cell = row.split("|")[1]
        if "arrows" in cell:
            keys |= {"up", "down"}
        for first, last in re.findall(r"`(\d)`\.\.`(\d)`", cell):
            keys |= {str(n) for n in range(int(first), int(last) + 1)}
        keys |= set(re.findall(r"`([^`]+)`", cell))
    return keys


def declared_keys() -> set[str]:
    return {
        README_NAMES.get(name, name)
        for key in (*TABLE_KEYS, *DASHBOARD_KEYS, *APP_KEYS)
        for name in key.keys.split(",")
    }


def test_the_readme_lists_exactly_the_declared_keys() -> None:
    assert readme_keys() == declared_keys()


def test_every_key_runs_an_action_of_the_screen_that_owns_it() -> None:
    owners: list[tuple[type, tuple[Key, ...]]] = [
        (FilingTable, TABLE_KEYS),
        (DashboardScreen, DASHBOARD_KEYS),
        (IcpApp, APP_KEYS),
        (AdvanceScreen, ADVANCE_KEYS),
        (WithdrawScreen, REASON_KEYS),
        (ReasonScreen, REASON_KEYS),
        (ConfirmScreen, CONFIRM_KEYS),
        (TextPromptScreen, PROMPT_KEYS),
        (AssignScreen, ASSIGN_KEYS),
        (HelpScreen, HELP_SCREEN_KEYS),
    ]
    for owner, keys in owners:
        for key in keys:
            name = key.action.partition("(")[0]
            # A dialog's enter is its text box's own key.
            acting = Input if key.widget else owner
            assert callable(getattr(acting, f"action_{name}", None)), (owner, key.action)


def test_a_dialog_hint_shows_the_keys_that_apply_and_fills_in_its_words() -> None:
    def typing(action: str, parameters: tuple[object, ...]) -> bool:
        return action in ("submit", "back_to_list", "dismiss")

    def listing(action: str, parameters: tuple[object, ...]) -> bool:
        return not typing(action, parameters) or action == "dismiss"

    # n and escape share "cancel" in the list; up sits between them while typing.
    assert hint_line(REASON_KEYS, listing, verb="withdraw") == "y: withdraw   n / escape: cancel"
    assert hint_line(REASON_KEYS, typing, verb="move") == (
        "enter: done, then y: move   up: the list   escape: cancel"
    )
    assert hint_line(CONFIRM_KEYS, yes="take it") == "y: take it   n / escape: no, change nothing"
    assert hint_line(HELP_SCREEN_KEYS) == "escape / q / ?: close this help"


def test_every_key_the_help_shows_has_a_tooltip_and_the_footer_a_label() -> None:
    for key in (*TABLE_KEYS, *DASHBOARD_KEYS, *APP_KEYS):
        for binding in key.bindings()[:1]:
            assert binding.description, key
            assert binding.tooltip == key.help


def test_the_palette_names_keys_as_they_are_typed() -> None:
    """`]` and `}`, never Textual's names for them (right_square_bracket...)."""
    by_action = {key.action: key for key in DASHBOARD_KEYS}
    assert by_action["travel(1)"].typed == "]"
    assert by_action["travel(24)"].typed == "}"
    for key in DASHBOARD_KEYS:
        assert "_" not in key.typed, key
