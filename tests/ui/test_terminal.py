"""The terminal's output once the terminal has gone (a dropped SSH connection, a killed tmux
session): writes fail with EIO, and the screen's writer must keep draining its queue, or
the dashboard's shutdown blocks for good (it once lingered until `kill -9`)."""

from __future__ import annotations

import errno
import io
import sys
import threading

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the POSIX driver")


class GoneTerminal(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.EIO, "Input/output error")


def test_the_writer_drains_and_stops_once_the_terminal_is_gone() -> None:
    from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

    from icp_tui.ui.terminal import TerminalOutput

    output = TerminalOutput(GoneTerminal())
    writer = WriterThread(output)  # type: ignore[arg-type]
    writer.start()

    def redraw_then_shut_down() -> None:
        for _ in range(3 * MAX_QUEUED_WRITES):  # more than its queue holds
            writer.write("\x1b[H frame")
        writer.stop()

    screen = threading.Thread(target=redraw_then_shut_down, daemon=True)
    screen.start()
    screen.join(timeout=30)
    assert not screen.is_alive(), "the writes (or the shutdown) blocked on a terminal gone"
    assert output.gone
