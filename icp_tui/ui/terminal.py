"""The terminal driver, made safe for a terminal that goes away (a dropped SSH connection,
a closed tmux session).

Textual writes the screen from a thread of its own, through a queue of 30 writes. Once the
terminal is gone, a write raises EIO and kills that thread; the next 30 writes fill the queue
and the one after blocks the event loop for good. Shutdown is one of them (it restores the
terminal), so a SIGHUP, SIGTERM or SIGINT that asks to exit could never finish, and every
later signal only asked again: the process lingered until `kill -9`. Here output to a
terminal that is gone is dropped, so the writer keeps draining and shutdown completes.

A terminal that goes away also sends SIGCONT, with its SIGHUP, to the session leader, and
tmux's shell passes both on. Textual takes every SIGCONT for the return from a ctrl+z and
starts the screen again: a second input thread that nothing stops, spinning on the dead
terminal, so the process never exits. Here only a SIGCONT after Textual's own ctrl+z resumes.

And a terminal can go without any signal reaching the dashboard (`runuser` or a shell that
ignores SIGHUP in between): Textual's input thread then reads the end of its input over and
over, at a quarter of a core. Here the terminal is checked each second, and the dashboard
leaves, as on SIGHUP, once it has hung up.
"""

from __future__ import annotations

import errno
import termios
from typing import IO, Any

from textual.app import App
from textual.drivers.linux_driver import LinuxDriver
from textual.timer import Timer


class TerminalOutput:
    """The terminal's output stream; after its first failed write, a sink."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        #: True once the terminal refused output (it has gone: EIO, EPIPE, ...).
        self.gone = False

    def write(self, text: str) -> None:
        if not self.gone:
            try:
                self._file.write(text)
            except OSError:
                self.gone = True

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except OSError:
                self.gone = True

    def fileno(self) -> int:
        return self._file.fileno()


class HangupSafeDriver(LinuxDriver):
    """Textual's driver for POSIX terminals, whose output survives the terminal going away."""

    def __init__(self, app: App[Any], **options: Any) -> None:
        super().__init__(app, **options)
        self._hangup_check: Timer | None = None
        if self._file is not None:  # no stderr: Textual fails on its own, as it would anyway
            # Typed as the real stream, but the writer thread only writes, flushes and asks
            # for its fileno.
            self._file = TerminalOutput(self._file)  # type: ignore[assignment]

    def start_application_mode(self) -> None:
        super().start_application_mode()  # type: ignore[no-untyped-call]
        if self._hangup_check is None and self.input_tty:
            self._hangup_check = self._app.set_interval(1.0, self._leave_if_hung_up)

    def _leave_if_hung_up(self) -> None:
        try:
            termios.tcgetattr(self.fileno)  # one ioctl; EIO once the terminal has hung up
        except termios.error as error:
            if error.args[0] == errno.EIO:
                self._app.exit()

    def _sigcont_application(self, *args: Any) -> None:
        # Set by the SIGTSTP handler that suspended the screen; cleared once it has resumed.
        if self._must_signal_resume:
            super()._sigcont_application(*args)
