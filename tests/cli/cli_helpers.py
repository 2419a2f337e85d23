"""Running the CLI in a private folder, and the checks the CLI tests share.

`run(ARGS)` runs it inside the test process as a child interpreter would (in_process.py);
`run.process(ARGS)` and `run.popen(ARGS)` start a real `python -m icp_tui`, for the tests
whose subject is the process itself.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from in_process import run_main

#: The time every test evaluates at unless it says otherwise (a Wednesday, no holiday near).
NOW = "2026-11-25T15:00+08:00"
#: The operating-system user: who every change must be attributed to.
USER = getpass.getuser()

_DEFAULT = object()  # "use the test's own database"


def base_env(private: Path) -> dict[str, str]:
    """The environment of a CLI run: no byte code written (a child reads what is already
    compiled, rather than compiling every library again into a folder of its own); no inherited
    ICP_TUI_DB or ICP_TUI_CONFIG, and an empty user config folder under `private`, so no
    settings of this machine leak in."""
    dropped = {"ICP_TUI_DB", "ICP_TUI_CONFIG", "ICP_TUI_DATA", "PYTHONPYCACHEPREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    (private / "config").mkdir(exist_ok=True)
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUTF8="1",
        PYTHONIOENCODING="utf-8",
        XDG_CONFIG_HOME=str(private / "config"),
    )
    return env


class Runner:
    """Runs the CLI in `cwd` (a test's tmp_path) on `db`, as of NOW unless told otherwise."""

    def __init__(self, tmp_path: Path, private: Path) -> None:
        self.cwd = tmp_path
        self.db = tmp_path / "db" / "filings.json"
        self.env = base_env(private)

    def command(self, args: tuple[str, ...], now: str | None, db: Any) -> list[str]:
        cmd = [sys.executable, "-m", "icp_tui"]
        chosen = self.db if db is _DEFAULT else db
        if chosen is not None:
            cmd += ["--db", str(chosen)]
        if now is not None:
            cmd += ["--now", now]
        return [*cmd, *args]

    def __call__(
        self,
        *args: str,
        now: str | None = NOW,
        db: Any = _DEFAULT,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """The command run in-process: its exit status, stdout and stderr."""
        argv = self.command(args, now, db)
        code, out, err = run_main(argv[3:], cwd=cwd or self.cwd, env={**self.env, **(env or {})})
        return subprocess.CompletedProcess(argv, code, _text(out), _text(err))

    def process(
        self,
        *args: str,
        now: str | None = NOW,
        db: Any = _DEFAULT,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """The command run in a real child interpreter."""
        return subprocess.run(
            self.command(args, now, db),
            cwd=cwd or self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    def popen(self, *args: str, now: str | None = NOW) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(args, now, _DEFAULT),
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )


def _text(data: bytes) -> str:
    """Output decoded as `subprocess.run(text=True)` decodes it (universal newlines)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()


# -- checks shared by the tests ----------------------------------------------------------


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """Stdout of a run that must have succeeded quietly."""
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert result.stderr == "", result.stderr
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """A user error: exit 1, nothing on stdout, one stderr line, no traceback; returns it."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), result.stderr
    for fragment in fragments:
        assert fragment.casefold() in lines[0].casefold(), (fragment, lines[0])
    return lines[0]


def usage_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """The bytes of every file under `folder`, and its subfolders (None), to prove that
    nothing changed on disk: no file changed, appeared or disappeared."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def unchanged(folder: Path) -> Callable[[], None]:
    """Take a snapshot now; the returned check asserts the folder is byte-identical later."""
    before = snapshot(folder)

    def check() -> None:
        assert snapshot(folder) == before

    return check
