"""Shared helpers of the hostile-input tests: hostile text, running the CLI, files on disk.

Imported as `hostile_helpers` (a unique name: other test folders have their own conftest.py,
so nothing here is imported from "conftest").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st
from in_process import run_main

from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.stages import HAPPY_PATH, Stage
from icp_tui.domain.transitions import advance, submit

#: The frozen "now" of every test: a Wednesday afternoon, Beijing time (no holiday near).
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)
NOW_TEXT = "2026-11-25T15:00+08:00"

# -- what must never reach a terminal raw ----------------------------------------------------

BIDI = frozenset(
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
C0 = frozenset(chr(c) for c in range(0x20))
C1 = frozenset(chr(c) for c in range(0x80, 0xA0))
DEL = "\x7f"
FORBIDDEN = C0 | C1 | BIDI | {DEL}


def raw_controls(text: str, *, allow_newline: bool = False) -> list[str]:
    """The control, escape and bidi characters in `text` (as reprs, for a readable failure)."""
    return [repr(c) for c in text if c in FORBIDDEN and not (allow_newline and c == "\n")]


# -- hostile text --------------------------------------------------------------------------

MARKUP = (
    "[red]",
    "[/]",
    "[/red]",
    "[bold magenta]",
    "[link=http://x]",
    "[link=https://evil.example/?q=1]",
    "[@click=app.quit]",
    "[@click=screen.dismiss]",
    "[b]",
    "\\[escaped]",
    "[",
    "]",
    "$accent",
)
ESCAPES = (
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[2J",
    "\x1b[H",
    "\x1b]0;title\x07",
    "\x1b]0;pwned\x1b\\",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    "\x1bP+q\x1b\\",
    "\x9b31m",
    "\x9b2J",
    "\r",
    "\n",
    "\t",
    "\b",
    "\x07",
)
CJK = ("深圳市某某科技有限公司", "北京", "广东省", "个人", "企业", "ｆｕｌｌ", "한국어", "カタカナ")
EMOJI = ("😀", "👨‍👩‍👧", "🇨🇳", "✅", "⚠️", "🏳️‍🌈")
BIDI_TEXT = ("\u202e", "\u2066", "\u2067", "\u2069", "\u200f", "\u061c", "abc\u202edcba")
PLAIN = ("evil.cn", "example", " ", "a", "Z9", "-", "--x", "'=1+1", "@SUM(A1)", "\\", "%s", "{}")

_pieces = st.sampled_from(MARKUP + ESCAPES + CJK + EMOJI + BIDI_TEXT + PLAIN)
_controls = st.sampled_from(sorted(FORBIDDEN))
_any_char = st.characters(codec="utf-8")  # no lone surrogates


def hostile_text(
    *, min_pieces: int = 1, max_pieces: int = 12, nul: bool = True
) -> st.SearchStrategy[str]:
    """Text mixing markup, escape sequences, every control character, bidi, CJK and emoji."""
    piece = st.one_of(_pieces, _pieces, _controls, _any_char)
    text = st.lists(piece, min_size=min_pieces, max_size=max_pieces).map("".join)
    if not nul:
        text = text.map(lambda s: s.replace("\x00", "\\0"))
    return text


def nonblank(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`text` with a visible word appended whenever it would be blank (the tool refuses blank)."""
    return text.map(lambda s: s if s.strip() else s + "x")


def arg_text(*, max_pieces: int = 12) -> st.SearchStrategy[str]:
    """Hostile text that can be an argv element (no NUL), never blank."""
    return nonblank(hostile_text(max_pieces=max_pieces, nul=False))


# -- inert text, read back ---------------------------------------------------------------

_VISIBLE = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|t|n|r)")
_NAMED = {"t": "\t", "n": "\n", "r": "\r"}


def decode_inert(shown: str) -> str:
    """Undo display.inert for text that had no backslash of its own."""

    def back(match: re.Match[str]) -> str:
        code = match.group(1)
        return _NAMED.get(code) or chr(int(code[1:], 16))

    return _VISIBLE.sub(back, shown)


# -- filings -------------------------------------------------------------------------------

HAPPY = HAPPY_PATH[1:]  # the moves after submission


def hand_filing(
    n: int,
    stage: Stage = Stage.PRELIMINARY_REVIEW,
    *,
    hours_ago: float = 30.0,
    domain: str | None = None,
    entity: str | None = None,
    province: str = "Beijing",
) -> Filing:
    """A filing built with the domain's own transitions, now in `stage` (on the happy path).

    A hostile `domain` is put in afterwards, as a database written before domains were
    checked (issue 12) may hold one: the screens must still show it inert.
    """
    at = NOW - timedelta(hours=hours_ago)
    filing = submit(
        f"ICP-2026-{n:05d}",
        f"site{n}.example.cn",
        entity or f"Example {n} Co., Ltd.",
        EntityType.COMPANY,
        province,
        at,
        "carol",
    )
    for target in HAPPY[: HAPPY.index(stage) + 1] if stage in HAPPY else ():
        at += timedelta(minutes=1)
        number = "京ICP备2026000001号" if target is Stage.APPROVED else None
        filing = advance(filing, at, "carol", target, icp_number=number)
    assert filing.stage is stage
    return replace(filing, domain=domain) if domain else filing


# -- the command line ----------------------------------------------------------------------


def base_env(private: Path) -> dict[str, str]:
    """A CLI run's environment: no settings of this machine (an empty user config folder
    under `private`, and the dashboard's remembered state there too), and no byte code
    written (a child reads what is already compiled)."""
    dropped = {"ICP_TUI_DB", "ICP_TUI_CONFIG", "ICP_TUI_DATA", "PYTHONPYCACHEPREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    (private / "config").mkdir(parents=True, exist_ok=True)
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUTF8="1",
        PYTHONIOENCODING="utf-8",
        XDG_CONFIG_HOME=str(private / "config"),
        XDG_STATE_HOME=str(private / "state"),
    )
    return env


@dataclass
class Result:
    """A finished CLI run; stdout and stderr decoded as UTF-8 without newline translation
    (so a raw carriage return in the output is seen, not turned into a line break)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"{self.args!r} -> {self.returncode}\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}"
        )


def run_cli(
    args: list[str],
    *,
    cwd: Path,
    private: Path,
    db: Path | None,
    now: str | None = NOW_TEXT,
) -> Result:
    """`icp-tui [--db DB] [--now NOW] ARGS` in `cwd`, stdin closed, run in-process as a child
    interpreter would run it (see in_process.py)."""
    argv = [f"--db={db}"] if db is not None else []
    argv += [f"--now={now}"] if now is not None else []
    argv += args
    code, out, err = run_main(argv, cwd=cwd, env=base_env(private))
    return Result(argv, code, out.decode("utf-8"), err.decode("utf-8"))


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit 1, nothing on stdout, exactly one stderr line, no traceback; returns the line."""
    assert result.returncode == 1, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert result.stdout == "", str(result)
    lines = result.stderr.split("\n")
    assert len(lines) == 2 and lines[1] == "" and lines[0].strip(), str(result)
    assert not raw_controls(lines[0]), str(result)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, str(result))
    return lines[0]


# -- files on disk -------------------------------------------------------------------------


def folder_bytes(folder: Path) -> dict[str, bytes | None]:
    """Every file under `folder` (None for a subfolder): proves nothing changed on disk."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def temp_files(folder: Path) -> list[str]:
    """Temporary files a writer left behind (.NAME.tmp-*)."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)
