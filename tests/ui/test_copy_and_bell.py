"""c / C copy through OSC 52, and the bell on a new breach (a setting, off by default)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from ui_helpers import ACTOR, DB, NOW, build_app, hand_filing, notifications, wait_for

from icp_tui.config import Reference, Settings
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.ui.app import make_app

MakeDb = Callable[[Iterable[Filing]], Path]


def osc52(text: str) -> str:
    return "\x1b]52;c;" + base64.b64encode(text.encode()).decode() + "\a"


async def test_c_copies_the_id_and_shift_c_the_domain_through_osc_52(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_db([hand_filing(7, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        monkeypatch.setattr(driver, "write", lambda data: written.append(data))
        await pilot.press("c")
        assert osc52("ICP-2026-00007") in written
        assert app.clipboard == "ICP-2026-00007"
        assert "Copied id ICP-2026-00007" in notifications(app)
        await pilot.press("C")
        assert osc52("site7.example.cn") in written
        assert "Copied domain site7.example.cn" in notifications(app)


class MovingClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("bell", [True, False])
async def test_the_bell_rings_on_a_new_breach_only_when_set(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch, bell: bool
) -> None:
    make_db([hand_filing(2, Stage.SMS_VERIFICATION, hours_ago=1)])
    clock = MovingClock(NOW)
    settings = Settings(db_path=DB, bell_on_breach=bell)
    app = make_app(DB, reference, settings=settings, clock=clock, actor=ACTOR)
    rung: list[bool] = []
    monkeypatch.setattr(app, "bell", lambda: rung.append(True))
    async with app.run_test(size=(100, 30)) as pilot:
        app.dashboard.tick()
        assert not rung  # nothing breached yet
        clock.now = NOW + timedelta(hours=24)  # the SMS check's 24 hours are over
        app.dashboard.tick()
        await wait_for(pilot, lambda: any("has breached" in n for n in notifications(app)))
        app.dashboard.tick()  # still breached: not new, no second ring
    assert rung == ([True] if bell else [])


def test_the_bell_is_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("ICP_TUI_CONFIG", str(tmp_path / "absent.toml"))
    from icp_tui.config import load_settings

    assert load_settings().bell_on_breach is False
    (tmp_path / "icp-tui.toml").write_text("bell_on_breach = true\n", encoding="utf-8")
    assert load_settings().bell_on_breach is True
