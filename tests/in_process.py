"""`icp-tui ARGS` run inside the test process, as the interpreter would run it in a child.

A child interpreter costs about half a second to start, and the CLI tests run hundreds of
commands whose subject is what the command does, not the process around it. Here `main` runs
with the child's working directory, environment (os.environ replaced whole, so libraries that
read it, libpq and getpass included, see the same), closed stdin and UTF-8 pipes for stdout
(strict, like PYTHONIOENCODING=utf-8) and stderr (backslashreplace); an uncaught exception
prints its traceback and exits 1, SystemExit gives its code, and warnings are printed to stderr
under the interpreter's default filters, all as in a child. Tests whose subject is the real
process (signals, locks between processes, other users, the installed script) start one.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from icp_tui.__main__ import main

#: The interpreter's default warning filters (Python 3.11, no -W option, not a debug build).
_DEFAULT_FILTERS: tuple[tuple[str, type[Warning], str], ...] = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def _pipe(errors: str) -> io.TextIOWrapper:
    """A stream like a child's redirected stdout or stderr: UTF-8, "\\n" kept as it is."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, newline="\n")


def _bytes(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


@contextlib.contextmanager
def _as_child(cwd: Path, env: Mapping[str, str]) -> Iterator[None]:
    """The working directory and environment of the child, restored afterwards."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run_main(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> tuple[int, bytes, bytes]:
    """`icp-tui ARGS` in `cwd` with exactly `env`: exit status, stdout and stderr bytes."""
    out, err = _pipe("strict"), _pipe("backslashreplace")

    def show_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: object = None,
        line: str | None = None,
    ) -> None:
        err.write(warnings.formatwarning(message, category, filename, lineno, line))

    with (
        _as_child(cwd, env),
        open(os.devnull, encoding="utf-8") as stdin,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.resetwarnings()
        for action, category, module in reversed(_DEFAULT_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
        warnings.showwarning = show_warning
        saved_stdin, sys.stdin = sys.stdin, stdin
        try:
            code = main(list(args))
        except SystemExit as done:
            code = _exit_status(done, err)
        except Exception:
            err.write(traceback.format_exc())
            code = 1
        finally:
            sys.stdin = saved_stdin
    return code, _bytes(out), _bytes(err)


def _exit_status(done: SystemExit, err: io.TextIOWrapper) -> int:
    """What the interpreter makes of an uncaught SystemExit."""
    if done.code is None:
        return 0
    if isinstance(done.code, int):
        return done.code
    err.write(f"{done.code}\n")
    return 1
