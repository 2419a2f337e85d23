"""No text typed into a dialog ever reaches the dashboard (issue 13, item 1).

Property-style: for every dialog, random text (seeded, so a failure repeats) is typed key by
key, as fast as a paste; then the dialog must still be the one on top, nothing must be on disk,
and escape must bring back the dashboard with no filing changed and no other screen opened.
A dialog with a text box takes every character, its own answer keys included (they are letters
while typing); a dialog without one takes every character except the keys it answers to.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.keys import key_to_character
from textual.screen import Screen
from textual.widgets import Input, Label
from ui_helpers import NOW, build_app, db_bytes, hand_filing, highlight, settle, type_text, wait_for

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import assign
from icp_tui.ui.app import DashboardScreen, IcpApp

MakeDb = Callable[[Iterable[Filing]], Path]

#: Letters, digits, punctuation, a space and some Chinese: what a reason or a note holds.
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " 公司已更名青海浙ICP备号"
TRIES = 3

#: dialog name -> (filing to highlight, keys that open it, whether it has a text box)
DIALOGS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "advance": ("ICP-2026-00001", ("a",), False),
    "approve: ICP number": ("ICP-2026-00003", ("a", "y"), True),
    "reject reasons": ("ICP-2026-00003", ("a", "down", "y"), False),
    "reject other": ("ICP-2026-00003", ("a", "down", "y", "end"), True),
    "return other": ("ICP-2026-00001", ("a", "down", "y", "end"), True),
    "withdraw reasons": ("ICP-2026-00001", ("w",), False),
    "withdraw other": ("ICP-2026-00001", ("w", "end"), True),
    "note": ("ICP-2026-00001", ("n",), True),
    "ticket": ("ICP-2026-00002", ("t",), True),
    "export": ("ICP-2026-00001", ("e",), True),
    "take from a colleague": ("ICP-2026-00004", ("o",), False),
    "help": ("ICP-2026-00001", ("question_mark",), False),
    "detail": ("ICP-2026-00001", ("enter",), False),
}


def own_characters(screen: Screen[object]) -> set[str]:
    """The printable characters the dialog answers to (its bindings)."""
    chars = set()
    # Inherited bindings count too (the return/reject dialog extends the withdraw one).
    inherited = (getattr(cls, "BINDINGS", []) for cls in type(screen).__mro__)
    for binding in (b for bindings in inherited for b in bindings):
        assert isinstance(binding, Binding)
        for key in binding.key.split(","):
            key = key.strip()
            char = key if len(key) == 1 else key_to_character(key)
            if char:
                chars.add(char)
    return chars


def random_text(rng: random.Random, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 60)))


def filings() -> list[Filing]:
    return [
        hand_filing(1, Stage.PRELIMINARY_REVIEW),
        # over 3 bd in Alibaba Cloud review: t applies
        hand_filing(2, Stage.PHOTO_REVIEW, hours_ago=24 * 9),
        hand_filing(3, Stage.AUTHORITY_REVIEW),
        assign(hand_filing(4, Stage.PHOTO_REVIEW, hours_ago=1), NOW, "carol", "bob"),
    ]


@pytest.mark.parametrize("name", list(DIALOGS))
async def test_random_text_typed_into_a_dialog_never_reaches_the_dashboard(
    make_db: MakeDb, reference: Reference, name: str
) -> None:
    filing_id, opening, has_text_box = DIALOGS[name]
    db = make_db(filings())
    before = db_bytes(db)
    rng = random.Random(f"issue-13 {name}")
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app, IcpApp)
        await highlight(pilot, filing_id)
        for _ in range(TRIES):
            await pilot.press(*opening)
            dialog = app.screen
            assert not isinstance(dialog, DashboardScreen), name
            depth = len(app.screen_stack)
            alphabet = ALPHABET
            if has_text_box:
                box = dialog.focused
                assert isinstance(box, Input), f"{name}: the text box has not taken the focus"
                prefilled = box.value
            else:
                own = own_characters(dialog)
                alphabet = "".join(c for c in ALPHABET if c not in own)
            text = random_text(rng, alphabet)
            await type_text(pilot, text)
            if has_text_box:  # every key has reached the box (a busy machine lags)
                # A prefilled box (the export file) starts selected: typing replaces it.
                typed = (text, prefilled + text)
                await wait_for(pilot, lambda box=box, typed=typed: box.value in typed)
            await settle(pilot)
            assert app.screen is dialog, f"{name} closed while typing {text!r}"
            assert len(app.screen_stack) == depth, f"{name}: another screen opened on {text!r}"
            assert db_bytes(db) == before, f"{name}: {text!r} changed a filing"
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
            await settle(pilot)
            assert len(app.screen_stack) == depth - 1
            assert db_bytes(db) == before
        assert app.is_running


# -- the hint under each dialog names the keys that work there (from its Key declarations) ---------

#: How a hint names a key Textual names otherwise.
HINT_NAMES = {"?": "question_mark"}


def hinted_keys(hint: str) -> list[str]:
    """The keys a hint line names: "y: move   n / escape: cancel" -> y, n, escape."""
    return [
        HINT_NAMES.get(key, key)
        for part in hint.split("   ")
        for key in part.split(": ", 1)[0].split(" / ")
    ]


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("advance", "y: move   n / escape: cancel"),
        ("withdraw reasons", "y: withdraw   n / escape: cancel"),
        ("withdraw other", "enter: done, then y: withdraw   up: the list   escape: cancel"),
        ("reject other", "enter: done, then y: move   up: the list   escape: cancel"),
        ("note", "enter: save   escape: cancel   ctrl+o: $EDITOR"),
        ("ticket", "enter: save   escape: cancel"),
        ("export", "enter: write it   escape: cancel"),
        ("take from a colleague", "y: take it   n / escape: no, change nothing"),
    ],
)
async def test_the_hint_names_the_keys_that_work_in_the_dialog(
    make_db: MakeDb, reference: Reference, name: str, hint: str
) -> None:
    filing_id, opening, _ = DIALOGS[name]
    make_db(filings())
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, filing_id)
        await pilot.press(*opening)
        await settle(pilot)
        shown = str(app.screen.query_one(".hint", Label).render())
        assert shown == hint
        active = app.screen.active_bindings  # the focused box's enter included
        for key in hinted_keys(shown):
            assert key in active and active[key].enabled, (name, key)
