"""Helpers for the dashboard tests: a fixed clock, hand-built filings, the app, the keys.

Every test builds the app with `make_app` exactly as the command line does, on a database in
its own temporary folder (the current directory is moved there, so the header shows the
relative path "filings.json" and snapshots stay the same from one machine to the next).
The fixtures are in conftest.py.
"""

from __future__ import annotations

import html
import os
import re
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual import events
from textual.app import App
from textual.keys import ASCII_KEY_NAMES, KEY_NAME_REPLACEMENTS
from textual.pilot import Pilot
from textual.widget import Widget

from icp_tui.config import Reference, Settings
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.provinces import ICP_ABBREVIATIONS
from icp_tui.domain.stages import HAPPY_PATH, Stage
from icp_tui.domain.transitions import advance, submit
from icp_tui.services import fixed_clock
from icp_tui.store import FilingStore, journal_path
from icp_tui.ui.app import IcpApp, make_app

#: The frozen "now" of every dashboard test: a Wednesday afternoon, Beijing time.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)
DB = Path("filings.json")
ACTOR = "alice"
DEMO_COUNT = 40
DEMO_SEED = 1
HAPPY = HAPPY_PATH[1:]  # the moves after submission


def hand_filing(
    n: int,
    stage: Stage,
    *,
    hours_ago: float = 2.0,
    province: str = "Beijing",
    now: datetime = NOW,
) -> Filing:
    """A filing built with the domain's transitions, now in `stage` (on the happy path).

    It was submitted `hours_ago` before `now` (by "carol") and moved one minute per stage.
    """
    at = now - timedelta(hours=hours_ago)
    filing = submit(
        f"ICP-2026-{n:05d}",
        f"site{n}.example.cn",
        f"Example {n} Co., Ltd.",
        EntityType.COMPANY,
        province,
        at,
        "carol",
    )
    for target in HAPPY[: HAPPY.index(stage) + 1] if stage in HAPPY else ():
        at += timedelta(minutes=1)
        # Approval records the ICP number (issue 12).
        number = (
            ICP_ABBREVIATIONS[province][0] + f"ICP备2026{n:06d}号"
            if target is Stage.APPROVED
            else None
        )
        filing = advance(filing, at, "carol", target, icp_number=number)
    assert filing.stage is stage
    return filing


def build_app(reference: Reference, *, refresh_seconds: float = 1.0) -> IcpApp:
    """The dashboard on ./filings.json, frozen at NOW, acting as alice."""
    settings = Settings(db_path=DB, refresh_seconds=refresh_seconds)
    return make_app(DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR)


# -- reading the database as a user would rely on it ---------------------------------------------


def stored(path: Path, filing_id: str) -> Filing:
    """The filing as stored on disk now, through a fresh handle."""
    store = FilingStore(path)
    store.load()
    return store.get(filing_id)


def db_bytes(path: Path) -> dict[str, bytes | None]:
    """The bytes of the base file and its journal, to prove that nothing was written."""
    return {p.name: p.read_bytes() if p.exists() else None for p in (path, journal_path(path))}


def deny_writes(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Nothing under `folder` may be written, as for a user without write rights (the tests
    may run as root, whom file modes do not stop): the database opens read-only."""
    real_access = os.access

    def no_write_here(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        if mode & os.W_OK and Path(str(path)).resolve().is_relative_to(folder.resolve()):
            return False
        return real_access(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", no_write_here)


# -- driving the app -----------------------------------------------------------------------------


async def wait_for(
    pilot: Pilot[object], condition: Callable[[], object], timeout: float = 30.0
) -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds (generous: a
    loaded machine may take seconds where an idle one takes milliseconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {condition}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot[object]) -> None:
    """Wait for the save workers to finish and their messages to be handled.

    Finished includes cancelled: an exclusive poll may be replaced by a newer one meanwhile
    (waiting on the workers themselves would then raise WorkerCancelled). The worker that
    waits for changes on disk (and polls) is not waited for: it runs as long as the app.
    """
    await wait_for(
        pilot,
        lambda: all(w.is_finished for w in pilot.app.workers if w.group != "wake"),
    )
    await pilot.pause()
    await pilot.pause()


async def type_text(pilot: Pilot[object], text: str) -> None:
    """Type `text` key by key into the focused input, at typing speed rather than test speed.

    The same key events as `pilot.press`, sent in one go: pressing waits for the app to be
    idle after every key, which costs a tenth of a second a character on a busy machine.
    Use it only where no key of `text` opens or closes a screen.
    """
    for char in text:
        pilot.app.post_message(events.Key(key_name(char), char))
    await pilot.pause()
    await pilot.pause()


def key_name(char: str) -> str:
    """The name Textual gives the key that types `char` (as `pilot.press` names it)."""
    if char.isalnum():
        return char
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:  # a control character has no Unicode name
        name = ASCII_KEY_NAMES.get(char, char)
    return KEY_NAME_REPLACEMENTS.get(name, name)


async def highlight(pilot: Pilot[object], filing_id: str) -> None:
    """Put the cursor on `filing_id` with the keys a user would use: page up / down, j / k."""
    app = pilot.app
    assert isinstance(app, IcpApp)
    table = app.dashboard.table
    target = next(i for i, e in enumerate(table.rows) if e.id == filing_id)
    for _ in range(len(table.rows) + 2):
        gap = target - table.cursor
        if not gap:
            break
        page = max(1, table.size.height - 2)
        if abs(gap) >= page:
            await pilot.press("pagedown" if gap > 0 else "pageup")
        else:
            await pilot.press(*["j" if gap > 0 else "k"] * abs(gap))
    await pilot.pause()
    assert table.current is not None and table.current.id == filing_id


def text_of(widget: Widget) -> str:
    """The plain text a widget shows now, line by line."""
    return "\n".join(strip.text for strip in widget.render_lines(widget.size.region))


def detail_text(app: IcpApp) -> str:
    """The side pane's text: the filing's header, then its stage panes and notes."""
    detail = app.dashboard.query_one("#detail")
    return "\n".join(text_of(detail.query_one(f"#detail-{part}")) for part in ("header", "body"))


_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#terminal-(?:\d+-)?line-(\d+)\)">(.*?)</text>'
)


def screen_text(app: IcpApp) -> str:
    """The whole terminal as plain text lines (toasts and modals included)."""
    return svg_text(app.export_screenshot())


def svg_text(svg: str) -> str:
    """The text of a screenshot (Textual's SVG export), line by line."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for x, line, text in _SVG_TEXT.findall(svg):
        cell = round(float(x) / 12.2)  # Rich's SVG export: 12.2 px per cell
        rows.setdefault(int(line), []).append((cell, html.unescape(text).replace("\xa0", " ")))
    out = []
    for line in sorted(rows):
        text = ""
        for cell, part in sorted(rows[line]):
            text += " " * (cell - cell_len(text)) + part
        out.append(text.rstrip())
    return "\n".join(out)


#: What each app has notified since it started or last cleared its notifications.
_SAID: weakref.WeakKeyDictionary[App[object], list[str]] = weakref.WeakKeyDictionary()


def record_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the text of every notification, not only those still on screen: a toast's own
    timeout can pass on a busy machine before the test reads it."""
    notify, clear = App.notify, App.clear_notifications

    def recording_notify(app: App[object], message: object, **options: Any) -> None:
        _SAID.setdefault(app, []).append(str(message))
        notify(app, message, **options)  # type: ignore[arg-type]

    def recording_clear(app: App[object]) -> None:
        _SAID.pop(app, None)
        clear(app)

    monkeypatch.setattr(App, "notify", recording_notify)
    monkeypatch.setattr(App, "clear_notifications", recording_clear)


def lasting_toasts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every toast on screen for ten minutes, for a test whose subject is how a toast
    looks: at load 12 a 4 s toast can come and go between two reads of the screen."""
    notify = App.notify

    def lasting_notify(app: App[object], message: object, **options: Any) -> None:
        notify(app, message, **{**options, "timeout": 600})  # type: ignore[arg-type]

    monkeypatch.setattr(App, "notify", lasting_notify)


def notifications(app: IcpApp) -> list[str]:
    """The text of every notification the app gave since it started or was last cleared."""
    return list(_SAID.get(app, []))


def first(filings: Iterable[Filing], stage: Stage) -> Filing:
    """The first filing of the demo in `stage`."""
    return next(f for f in filings if f.stage is stage)
