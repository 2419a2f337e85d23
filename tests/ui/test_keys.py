"""Each key is declared once (icp_tui/ui/keys.py): the README's table lists the same keys, and
every key runs an action the screen that owns it has."""

from __future__ import annotations

import re
from pathlib import Path

from icp_tui.ui.app import IcpApp
from icp_tui.ui.dashboard import DashboardScreen
from icp_tui.ui.keys import APP_KEYS, DASHBOARD_KEYS, TABLE_KEYS, Key
from icp_tui.ui.table import FilingTable

README = Path(__file__).resolve().parents[2] / "README.md"
#: How the README writes a key Textual names otherwise.
README_NAMES = {"slash": "/", "question_mark": "?", "pageup": "pgup", "pagedown": "pgdn"}


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
    ]
    for owner, keys in owners:
        for key in keys:
            name = key.action.partition("(")[0]
            assert callable(getattr(owner, f"action_{name}", None)), (owner, key.action)


def test_every_key_the_help_shows_has_a_tooltip_and_the_footer_a_label() -> None:
    for key in (*TABLE_KEYS, *DASHBOARD_KEYS, *APP_KEYS):
        for binding in key.bindings()[:1]:
            assert binding.description, key
            assert binding.tooltip == key.help
