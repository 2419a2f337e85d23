"""Acceptance: the real program in tmux queries, marks rows, takes them, copies an id (read
back from tmux's paste buffer) and writes a long note in $EDITOR."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

EDITOR = """
import sys
with open(sys.argv[1], "a", encoding="utf-8") as note:
    note.write("first line of a long note\\nsecond line\\n")
"""


class Tmux:
    """A private tmux server (its own socket) with one 100x30 window."""

    def __init__(self, folder: Path) -> None:
        self.socket = str(folder / "tmux.sock")

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "icp")

    def wait(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"not on screen after {timeout} s:\n{text}")
            time.sleep(0.1)


def cli(db: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "icp_tui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def notes_of(db: Path, env: dict[str, str], fid: str) -> list[str]:
    return [note["text"] for note in json.loads(cli(db, env, "show", fid, "--json"))["notes"]]


def test_query_mark_take_copy_and_edit_a_note_in_tmux(tmp_path: Path) -> None:
    db = tmp_path / "filings.json"
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ICP_TUI", "TMUX", "NO_COLOR"))}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        EDITOR=f"{sys.executable} {editor}",
        TERM="xterm-256color",
    )
    cli(db, env, "demo", "--count", "60", "--seed", "2")
    pre = json.loads(cli(db, env, "list", "--json", "--query", "assignee:none -health:done"))
    assert len(pre) >= 2
    tmux = Tmux(tmp_path)
    command = " ".join(
        [sys.executable, "-m", "icp_tui", "--db", str(db)]
    )  # the real program, in the session's own terminal
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "icp", "-x", "100", "-y", "30", "sh")
    try:
        tmux("set-option", "-g", "set-clipboard", "on")  # applications may set the buffer
        for name, value in env.items():
            if name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "EDITOR", "PATH", "HOME", "TERM"):
                tmux("set-environment", "-t", "icp", name, value)
        tmux("send-keys", "-t", "icp", f"env XDG_STATE_HOME='{env['XDG_STATE_HOME']}' "
             f"XDG_CONFIG_HOME='{env['XDG_CONFIG_HOME']}' EDITOR='{env['EDITOR']}' {command}",
             "Enter")  # fmt: skip
        tmux.wait(lambda s: "ICP-" in s and "Beijing" in s)
        # The query: only the unassigned filings in preliminary review.
        tmux("send-keys", "-t", "icp", "/")
        tmux.wait(lambda s: "query: words" in s)  # the box is open (and takes the keys)
        tmux("send-keys", "-t", "icp", "-l", "assignee:none -health:done")
        tmux.wait(lambda s: f"{len(pre)} of 60 in this view" in s)
        tmux("send-keys", "-t", "icp", "Enter")
        # Mark them all and take them, after the one question.
        tmux("send-keys", "-t", "icp", "*")
        tmux.wait(lambda s: f"{len(pre)} marked" in s)
        tmux("send-keys", "-t", "icp", "o")
        tmux.wait(lambda s: f"Take the {len(pre)} marked filings?" in s)
        tmux("send-keys", "-t", "icp", "y")
        tmux.wait(lambda s: f"{len(pre)} taken" in s)
        mine = json.loads(cli(db, env, "list", "--json", "--query", "assignee:me"))
        assert sorted(f["id"] for f in mine) == sorted(f["id"] for f in pre)
        # Copy the highlighted id: tmux's paste buffer holds it.
        tmux("send-keys", "-t", "icp", "escape", "home", "c")
        text = tmux.wait(lambda s: "Copied id" in s)
        copied = tmux("show-buffer").strip()
        assert copied.startswith("ICP-") and f"Copied id {copied}" in text
        # A long note in $EDITOR: the app suspends, the editor writes, the note is saved.
        tmux("send-keys", "-t", "icp", "n")
        tmux.wait(lambda s: "ctrl+o: $EDITOR" in s)
        tmux("send-keys", "-t", "icp", "C-o")
        # The saved note itself, not its 4 s toast, which a busy machine can let pass unseen.
        long_note = "first line of a long note\nsecond line"
        deadline = time.monotonic() + 60
        while long_note not in notes_of(db, env, copied):
            assert time.monotonic() < deadline, "the note from $EDITOR was not saved in 60 s"
        assert "Note on" not in tmux.screen()  # the dialog closed on the editor's text
        tmux("send-keys", "-t", "icp", "q")
        tmux.wait(lambda s: "ICP-" not in s or "$" in s.splitlines()[-1])
    finally:
        subprocess.run(["tmux", "-S", tmux.socket, "kill-server"], capture_output=True)
