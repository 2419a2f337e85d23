#!/usr/bin/env python3
"""Scale benchmark: issues 5's and 17's targets for icp-tui at 1,000 to 100,000 filings.

    python benchmarks/scale.py                              # 1k, 10k, 50k (a few minutes)
    python benchmarks/scale.py --sizes 1000,10000,50000,100000
    python benchmarks/scale.py --quick                      # smoke run: 1k and 10k, 1 run each
    python benchmarks/scale.py --runs 7 --keep              # more runs; keep the databases

Run it with the project's virtualenv python; the package need not be installed (the repository
root is put on PYTHONPATH of every child process). Each size gets a database written by the
command line, with a fixed time and seed so that runs are comparable:
``icp-tui --db X --now 2026-11-25T15:00+08:00 demo --count N --seed 0``.

What is measured (medians unless said otherwise; each figure is printed beside its target):

1. Opening. The real program (``python -m icp_tui --db X --now ...``) runs on a 120x40
   pseudo-terminal (TERM=xterm-256color); the figure is the wall time from fork until a filing
   id (``ICP-20``) has been written to the terminal: rows are on screen. The floor is a bare
   ``python -c`` that imports textual, parses the same base file with orjson (the fastest JSON
   parser installed) and stops (os._exit), timed the same way until it has exited. For
   information, a minimal Textual app that parses the file and then paints one line is timed
   too. The three alternate (first one rotating) within each run. Target: <= 1.25x the floor.
2. A change. Notes, advances and withdrawals (18:1:1, on random filings) go through
   FilingService in-process, each followed by ``compact_if_due()`` as the command line and the
   dashboard do. The commit time is the service call (lock, catch up, decode, check, append,
   fsync); compactions are timed apart. Changes go on until a compaction closes a cycle after
   at least 2,000 changes, so the bytes written per change (FilingStore.bytes_written; the
   growth of the database's files is the cross-check) are amortised over whole
   journal-plus-compaction cycles, in multiples of the median record of the changed filings.
   Targets: < 50 ms; <= 20x the record.
3. Other open dashboards. A second, loaded FilingStore polls after every change: its poll time
   and ``bytes_read`` growth per change (the full re-read after a compaction included), in
   multiples of the record. End to end, a real second process (``icp-tui note``) changes a
   filing while the loaded handle polls every 0.2 s: the time from the change reaching the
   files (seen by stat every 2 ms) to the poll that returns it. The dashboard polls every
   ``refresh_seconds`` (1 s), so its worst case is that interval plus the slowest poll seen.
   Targets: <= 2 s; <= 20x the record read.
4. The clock tick. ``Queue.refresh(now)`` on the queue that ``make_app`` builds, for ``now``
   moved on by 1 s (60 times) and by one day (Wednesday 15:00 to Thursday 15:00, where many
   healths change; the clock is set back between repeats, which re-checks the entries whose
   health changed in that day: shown for information). Target < 50 ms. A figure is the CPU
   time of the call (its thread's), as for the keys: on a shared machine its wall time also
   counts the moments other work held the cores, and grew with the load, not the queue. The
   wall times are printed beside them. Also for information: the whole dashboard tick
   (refresh, row updates, status line, repaint) in a running app.
5. Keys. The app from ``make_app`` runs under ``App.run_test(size=(120, 40))``, its loaded
   objects frozen (``freeze_long_lived``) as the program freezes them before it runs. A figure
   is the CPU time of the whole process (all its threads) from ``await pilot.press(key)`` until
   ``await pilot.pause()`` returns. pause() waits until the screen's widgets have handled
   every queued message and the process is idle, then forces the compositor update, which
   renders the changed lines; only writing them to a terminal is missing in a headless run.
   CPU time, not wall time, because the pilot's idle detection sleeps in 20 ms slices (a key
   that does nothing takes ~65 ms of wall time: pilot wall times are printed too). CPU time
   includes what the key sets off, like the detail pane redrawn 50 ms after the cursor moves
   and, now and then, the dashboard's own 1 s tick and poll (hence medians). Keys: ``j``
   (20 presses), ``pagedown`` (20), a filter keystroke (``/`` opens the box, then one letter
   filters every row: the letter is the figure, ``/`` and escape are shown too), ``s`` (cycles
   the five sort orders, 3 presses each: the slowest order's median is the figure) and ``r``
   (re-sort). Target < 100 ms.
6. Memory. VmRSS (from /proc/<pid>/status) of the dashboard of 1., 1 s after its rows are on
   screen and its status line last said "loading" (a large queue opens on its first rows and
   builds the rest after them: the figure is of the whole queue). Target < 300 MB.
3b. Live (issue 17). A real ``icp-tui note`` changes a random filing while two loaded
   handles in this worker follow the files: one polls whenever a file-change notification
   wakes it (``wait_for_change``, as the dashboard's wake worker), the other only at its own
   1 s poll, at a random phase. The figure is the time from the change reaching the files
   (stat every 2 ms) to each handle holding it; rounds where the note's process also
   compacted are counted. Targets: median <= 0.3 s, max < 1 s with notifications.
3c. Twenty dashboards (issue 17), at 50,000 filings (the largest size of a quick run): twenty
   real ``python -m icp_tui`` on 100x30 pseudo-terminals (on the real clock, not --now: the
   status line and the rows' clock columns move as they do for staff), all showing rows,
   then 20 s with nobody typing: their CPU time together (user + system, /proc/<pid>/stat;
   clock ticks and polls included) as a share of one core, and what they read (rchar,
   /proc/<pid>/io). Then
   ``icp-tui assign`` gives the first row a new assignee, and the time until every screen
   shows it. Targets: < 10 % of one core; < 1 s.
8. Import (issue 17), at 10,000 filings: that database exported to CSV and imported by
   ``icp-tui import`` into an empty one; wall and CPU time of the process. Target < 2 s.
7. Scaling. For each cost, its ratio between successive sizes beside the ratio of the sizes:
   no step may be worse than linear (ratio <= 1.1x the size ratio; a step from a figure under
   1 ms is not judged).

The groups of measurements (tick, keys, store) each run in a process of their own, one at a
time and with a timeout, on the database of their size (the store group last, since it changes
it). Every child is killed when the benchmark exits; a worker whose parent died kills itself.
Other work on the machine skews every figure: the load average is printed at both ends.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import fcntl
import gc
import itertools
import json
import math
import os
import platform
import pty
import random
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NOW_TEXT = "2026-11-25T15:00+08:00"  # a Wednesday afternoon, Beijing time
SEED = 0
PATTERN = b"ICP-20"  # a filing id on screen
LOADING = b"loading"  # the status line while the whole queue is built behind the first rows
COLUMNS, LINES = 120, 40
RESULT_MARK = "SCALE-RESULT "
DEFAULT_SIZES = (1_000, 10_000, 50_000)
QUICK_SIZES = (1_000, 10_000)
TARGET_SIZE = 50_000  # the targets are stated at 50,000 filings
IMPORT_ROWS = 10_000  # importing a 10,000-row CSV (issue 17), at the size that has them
IDLE_DASHBOARDS = 20  # the whole shift watching one database, measured at TARGET_SIZE
IDLE_SECONDS = 20.0
#: What --only may name, in the order they run for each size.
MEASUREMENTS = ("opening", "tick", "keys", "import", "idle", "live", "store")
#: The floor: import textual, parse the base file with orjson, and stop (os._exit: neither
#: freeing the parsed objects nor the interpreter's shutdown is part of opening).
FLOOR_CODE = """\
import os, sys, textual, orjson
with open(sys.argv[1], "rb") as f:
    data = orjson.loads(f.read())
os._exit(0)
"""
#: For information: the least a Textual app takes to parse the file and paint one line.
BARE_APP_CODE = """\
import sys, orjson
from textual.app import App
from textual.widgets import Static
with open(sys.argv[1], "rb") as f:
    orjson.loads(f.read())
class Bare(App):
    def compose(self):
        yield Static("ICP-2026 bare Textual app")
Bare().run()
"""
FILTER_LETTERS = "eoihcglmbd"  # none of them is a dashboard key
LINEAR_SLACK = 1.1  # "no step worse than linear": ratio <= 1.1x the ratio of the sizes
NOISE_MS = 1.0  # a step from a figure this small is not judged


class BenchError(Exception):
    """A measurement could not be made (its figure shows as n/a)."""


# ------------------------------------------------------------------------- child processes

_children: set[int] = set()  # process-group leaders we started and have not reaped


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _kill_children() -> None:
    for pid in list(_children):
        _kill_group(pid)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
        _children.discard(pid)


def _on_signal(signum: int, _frame: object) -> None:
    _kill_children()
    raise SystemExit(128 + signum)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["TERM"] = "xterm-256color"
    for name in ("COLUMNS", "LINES", "TEXTUAL", "TEXTUAL_DRIVER", "NO_COLOR"):
        env.pop(name, None)
    return env


def run_child(argv: list[str], *, timeout: float, what: str) -> str:
    """Run `argv` in its own process group; its stdout, or BenchError naming what failed."""
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        text=True,
        start_new_session=True,
    )
    _children.add(proc.pid)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise BenchError(f"{what}: timed out after {timeout:.0f} s") from None
    finally:
        _kill_group(proc.pid)  # anything it left behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _children.discard(proc.pid)
    if proc.returncode != 0:
        tail = " | ".join((err or out).strip().splitlines()[-3:])
        raise BenchError(f"{what}: exit {proc.returncode}: {tail}")
    return out


def run_worker(kind: str, db: Path, size: int, opts: argparse.Namespace, timeout: float) -> Any:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--db", str(db)]
    argv += ["--size", str(size), "--runs", str(slow_runs(opts, size))]
    if opts.quick:
        argv.append("--quick")
    out = run_child(argv, timeout=timeout, what=f"{kind} worker at {size:,}")
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise BenchError(f"{kind} worker at {size:,}: printed no result")


# ------------------------------------------------------------------------ pseudo-terminal


def _screen_text(data: bytes, limit: int = 300) -> str:
    """What a terminal would show, roughly: escape sequences removed, blanks squeezed."""
    text = re.sub(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b.", b" ", data)
    squeezed = " ".join(text.decode("utf-8", "replace").split())
    return squeezed[-limit:] or "(nothing)"


def vm_rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def pty_run(
    argv: list[str],
    *,
    timeout: float,
    pattern: bytes | None,
    rss_after: float | None = None,
) -> tuple[float, int | None]:
    """Run `argv` on a 120x40 pseudo-terminal.

    With `pattern`: seconds from fork until it appears in the output (then, once `rss_after`
    seconds of output were drained without "loading" in it, the VmRSS in kB), and the process
    is killed. Without: seconds from fork until the process exits (it must exit 0).
    """
    env = child_env()
    winsize = struct.pack("HHHH", LINES, COLUMNS, 0, 0)
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
            os.execve(argv[0], argv, env)
        except BaseException as error:
            os.write(2, f"cannot start {argv[0]}: {error}\n".encode())
        finally:
            os._exit(127)
    _children.add(pid)
    reaped = False
    output = bytearray()
    try:
        deadline = start + timeout
        seen = None
        while seen is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise BenchError(f"timed out after {timeout:.0f} s; screen: {_screen_text(output)}")
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:  # EIO: every end of the terminal's other side is closed
                chunk = b""
            if not chunk:
                break
            keep = len(output)
            output += chunk
            if pattern is not None and pattern in output[max(0, keep - len(pattern)) :]:
                seen = time.perf_counter() - start
            if len(output) > 1 << 20:
                del output[: len(output) - (1 << 16)]
        if pattern is None:
            _, status = os.waitpid(pid, 0)
            elapsed = time.perf_counter() - start
            reaped = True
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                raise BenchError(f"exit {code}: {_screen_text(output)}")
            return elapsed, None
        if seen is None:
            raise BenchError(f"exited before showing {pattern.decode()}: {_screen_text(output)}")
        rss = None
        if rss_after is not None:
            # Until `rss_after` seconds have passed since the screen last said "loading".
            until = time.perf_counter() + rss_after
            tail = b""  # the end of the last read: a word may be cut between two
            while (left := until - time.perf_counter()) > 0:
                if time.perf_counter() > deadline:
                    raise BenchError(f"still loading after {timeout:.0f} s")
                ready, _, _ = select.select([fd], [], [], left)
                if ready:
                    with contextlib.suppress(OSError):
                        chunk = tail + os.read(fd, 1 << 16)
                        if LOADING in chunk:
                            until = time.perf_counter() + rss_after
                        tail = chunk[-len(LOADING) :]
            rss = vm_rss_kb(pid)
        return seen, rss
    finally:
        os.close(fd)
        if not reaped:
            _kill_group(pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        _children.discard(pid)


# ------------------------------------------------------------------------------ statistics


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms_stats(seconds: list[float]) -> dict[str, float | int | None]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median": median(ms),
        "p95": percentile(ms, 0.95),
        "max": max(ms) if ms else None,
    }


# ----------------------------------------------------------------------------- the workers


def _now() -> datetime:
    from icp_tui.domain.filing import BEIJING

    return datetime.fromisoformat(NOW_TEXT).astimezone(BEIJING)


def _reference(db: Path) -> tuple[Any, Any]:
    """The project's reference data and default settings (no user config file is read)."""
    from icp_tui.config import Settings, load_reference

    settings = Settings(db_path=db)
    return load_reference(settings), settings


def worker_store(db: Path, size: int, quick: bool, runs: int) -> dict[str, Any]:
    """2. changes and their bytes written; 3. polls, bytes read and the end-to-end latency."""
    import orjson

    from icp_tui.domain.errors import IcpError
    from icp_tui.domain.filing import to_record
    from icp_tui.services import FilingService, fixed_clock
    from icp_tui.store import FilingStore

    reference, settings = _reference(db)
    now = _now()
    writer = FilingStore(db)
    writer.load()
    reader = FilingStore(db)
    reader.load()
    service = FilingService(writer, reference, actor="bench", clock=fixed_clock(now))
    ids = writer.ids()
    rng = random.Random(SEED)
    reasons = tuple(getattr(settings, "withdraw_reasons", ())) or ("applicant request",)

    def record_size(filing: Any) -> int:
        return len(orjson.dumps(to_record(filing)))

    db_records = [record_size(writer.get(fid)) for fid in rng.sample(ids, min(len(ids), 1000))]

    def change(kind: str, i: int) -> tuple[str, Any, float, str]:
        attempts = 10 if kind != "note" else 0
        for _ in range(attempts):  # a random filing may be closed or past withdrawal
            fid = rng.choice(ids)
            started = time.perf_counter()
            try:
                if kind == "advance":
                    saved = service.advance(fid)
                else:
                    saved = service.withdraw(fid, reasons[i % len(reasons)])
            except IcpError:
                continue
            return fid, saved, time.perf_counter() - started, kind
        fid = rng.choice(ids)
        started = time.perf_counter()
        saved = service.note(fid, f"scale benchmark note {i}: called the applicant back")
        return fid, saved, time.perf_counter() - started, "note"

    min_changes = 200 if quick else 2000
    max_changes, budget = 60_000, (60.0 if quick else 150.0)
    commits: dict[str, list[float]] = {"note": [], "advance": [], "withdraw": []}
    checks: list[float] = []
    compactions: list[float] = []
    polls: list[float] = []
    polls_after_compaction: list[float] = []
    records: list[int] = []
    file_bytes = 0
    missed = 0
    written0, read0 = writer.bytes_written, reader.bytes_read
    started = time.perf_counter()
    count = 0
    complete = False
    while True:
        kind = "advance" if count % 20 == 7 else "withdraw" if count % 20 == 13 else "note"
        files = db_files(db)
        fid, saved, took, kind = change(kind, count)
        after = db_files(db)
        file_bytes += _bytes_added(files, after)
        files = after
        commits[kind].append(took)
        records.append(record_size(saved))
        t0 = time.perf_counter()
        compacted = writer.compact_if_due()
        (compactions if compacted else checks).append(time.perf_counter() - t0)
        if compacted:
            file_bytes += _bytes_added(files, db_files(db))
        t0 = time.perf_counter()
        seen = reader.poll()
        (polls_after_compaction if compacted else polls).append(time.perf_counter() - t0)
        if seen is not None and fid not in {getattr(f, "id", f) for f in seen}:
            missed += 1
        count += 1
        if compacted and count >= min_changes:
            complete = True
            break
        if count >= max_changes or time.perf_counter() - started > budget:
            break
    written = writer.bytes_written - written0
    read = reader.bytes_read - read0
    record = median([float(r) for r in records]) or 1.0
    all_commits = [t for ts in commits.values() for t in ts]

    # End to end: a real second process changes a filing while this handle polls.
    interval = 0.2
    rounds = 1 if quick else max(3, runs)
    latencies: list[float] = []
    e2e_polls: list[float] = []
    cli_times: list[float] = []
    for k in range(rounds):
        fid = rng.choice(ids)
        reader.poll()
        version = reader.get(fid).version
        state = db_files(db)
        argv = [sys.executable, "-m", "icp_tui", "--db", str(db), "--now", NOW_TEXT]
        argv += ["note", fid, f"scale benchmark: end-to-end check {k}"]
        t_start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env(), text=True
        )
        try:
            committed = seen_at = None
            next_poll = t_start + interval
            while time.perf_counter() - t_start < 60 + size / 2000:
                now_t = time.perf_counter()
                if committed is None and db_files(db) != state:
                    committed = now_t
                if now_t < next_poll:
                    time.sleep(min(0.002, next_poll - now_t))
                    continue
                changed = reader.poll()
                after = time.perf_counter()
                e2e_polls.append(after - now_t)
                if (changed is None or changed) and reader.get(fid).version > version:
                    seen_at = after
                    if committed is None:  # it landed during this poll: count the whole poll
                        committed = now_t
                    break
                next_poll += interval
                if proc.poll() is not None and proc.returncode != 0:
                    break
            _, err = proc.communicate(timeout=60 + size / 2000)
            cli_times.append(time.perf_counter() - t_start)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if proc.returncode != 0:
            raise BenchError(f"icp-tui note exited {proc.returncode}: {err.strip()[-300:]}")
        if seen_at is None or committed is None:
            raise BenchError(f"the change to {fid} by `icp-tui note` was never seen by a poll")
        latencies.append(seen_at - committed)

    slowest = max(polls + polls_after_compaction + e2e_polls)
    refresh = float(getattr(settings, "refresh_seconds", 1.0))
    return {
        "changes": count,
        "cycle_complete": complete,
        "kinds": {k: len(v) for k, v in commits.items()},
        "commit": ms_stats(all_commits),
        "commit_by_kind": {k: ms_stats(v) for k, v in commits.items()},
        "compact_check": ms_stats(checks),
        "compaction": ms_stats(compactions),
        "record_bytes": record,
        "db_record_bytes": median([float(r) for r in db_records]),
        "bytes_written": written,
        "file_bytes": file_bytes,
        "write_x": written / count / record,
        "file_x": file_bytes / count / record,
        "poll": ms_stats(polls),
        "poll_after_compaction": ms_stats(polls_after_compaction),
        "bytes_read": read,
        "read_x": read / count / record,
        "missed": missed,
        "e2e_interval": interval,
        "e2e_latency": latencies,
        "e2e_median": median(latencies),
        "e2e_max": max(latencies),
        "cli_seconds": median(cli_times),
        "slowest_poll": slowest,
        "refresh_seconds": refresh,
        "dashboard_bound": refresh + slowest,
    }


def db_files(db: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime) of the database's files: the base and whatever sits beside it
    under its name (journal, sidecars), but not the lock."""
    found = {}
    with os.scandir(db.parent) as entries:
        for entry in entries:
            if entry.name.startswith(db.name) and not entry.name.endswith(".lock"):
                with contextlib.suppress(FileNotFoundError):
                    st = entry.stat()
                    found[entry.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def _bytes_added(
    before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]
) -> int:
    """Bytes written between two looks: growth of a file appended to, all of a replaced one."""
    total = 0
    for name, (ino, size, _) in after.items():
        old = before.get(name)
        if old is None or old[0] != ino:
            total += size
        elif size > old[1]:
            total += size - old[1]
    return total


def worker_tick(db: Path, size: int, quick: bool, runs: int) -> dict[str, Any]:
    """4. Queue.refresh on the queue make_app builds."""
    from icp_tui.services import fixed_clock
    from icp_tui.ui.app import make_app

    reference, settings = _reference(db)
    now = _now()
    app = make_app(
        db, reference, settings=settings, clock=fixed_clock(now), actor="bench", first_rows=0
    )  # the whole queue at once, not its first rows
    queue = app.dashboard.queue

    walls: dict[str, list[float]] = {"second": [], "day": [], "full": []}

    def step(moment: datetime, what: str) -> tuple[float, int]:
        t0, c0 = time.perf_counter(), time.thread_time()
        changed = queue.refresh(moment)
        took = time.thread_time() - c0
        walls[what].append(time.perf_counter() - t0)
        return took, len(changed)

    moment = now
    seconds, second_changes = [], []
    for _ in range(10 if quick else 60):
        moment += timedelta(seconds=1)
        took, n = step(moment, "second")
        seconds.append(took)
        second_changes.append(n)
    # The same day each time: setting the clock back to `now` (timed too) re-checks the
    # entries whose health changed since, which puts the queue back as make_app built it.
    days, day_changes, fulls, full_changes = [], [], [], []
    for _ in range(2 if quick else max(5, runs)):
        took, n = step(now, "full")
        fulls.append(took)
        full_changes.append(n)
        took, n = step(now + timedelta(days=1), "day")
        days.append(took)
        day_changes.append(n)
    return {
        "entries": len(queue.entries),
        "second": ms_stats(seconds),
        "second_changed": max(second_changes),
        "day": ms_stats(days),
        "day_changed": max(day_changes),
        "full": ms_stats(fulls),
        "full_changed": max(full_changes),
        "wall": {what: ms_stats(samples) for what, samples in walls.items()},
    }


class _Clock:
    """A clock the benchmark moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def worker_keys(db: Path, size: int, quick: bool, runs: int) -> dict[str, Any]:
    """5. keys under App.run_test, and the whole dashboard tick."""
    return asyncio.run(_keys(db, quick, runs))


async def _keys(db: Path, quick: bool, runs: int) -> dict[str, Any]:
    from icp_tui.ui.app import make_app

    reference, settings = _reference(db)
    clock = _Clock(_now())
    # The whole queue at once: the keys that need it would only say that it is loading.
    app = make_app(db, reference, settings=settings, clock=clock, actor="bench", first_rows=0)
    # As the program does once the queue is loaded (run_dashboard): without it, a full
    # collection now and then rescans the ~3 million objects of 100,000 filings, a cost no
    # dashboard pays.
    try:
        from icp_tui.domain.collector import freeze_long_lived
    except ImportError:  # an older checkout (side by side) froze with gc.freeze itself
        freeze_long_lived = gc.freeze
    freeze_long_lived()
    presses = 5 if quick else 20
    out: dict[str, Any] = {}
    async with app.run_test(size=(COLUMNS, LINES)) as pilot:
        await pilot.pause()
        try:
            screen = app.dashboard  # type: ignore[attr-defined]
        except Exception:
            screen = app.screen
        try:
            out["rows"] = len(screen.table.rows)
        except Exception:
            out["rows"] = None

        async def press(key: str, pause: float | None = None) -> tuple[float, float]:
            c0, w0 = time.process_time(), time.perf_counter()
            await pilot.press(key)
            await pilot.pause(pause)
            return time.process_time() - c0, time.perf_counter() - w0

        async def timed(name: str, keys: list[str], pause: float | None = None) -> None:
            cpu, wall = [], []
            for key in keys:
                c, w = await press(key, pause)
                cpu.append(c)
                wall.append(w)
            out[name] = {"cpu": ms_stats(cpu), "wall": ms_stats(wall)}

        await timed("noop", ["f20"] * presses)
        await timed("cursor", ["j"] * presses)
        await timed("cursor_detail", ["j"] * max(5, presses // 2), pause=0.1)
        await timed("page", ["pagedown"] * presses)

        def shown() -> int | None:
            try:
                return len(screen.table.rows)
            except Exception:
                return None

        opened, typed, cleared, matched = [], [], [], []
        for i in range(max(3, presses // 2)):
            opened.append(await press("slash"))
            typed.append(await press(FILTER_LETTERS[i % len(FILTER_LETTERS)]))
            matched.append(shown())
            cleared.append(await press("escape"))
        out["filter_rows"] = matched  # rows left by each one-letter filter (a sanity check)
        out["rows_after_filter"] = shown()
        for name, samples in (
            ("filter_open", opened),
            ("filter", typed),
            ("filter_clear", cleared),
        ):
            out[name] = {
                "cpu": ms_stats([c for c, _ in samples]),
                "wall": ms_stats([w for _, w in samples]),
            }
        # `s` steps through the five orders; the figure is the slowest order's median.
        by_order: dict[str, list[tuple[float, float]]] = {}
        for _ in range(5 if quick else 15):
            sample = await press("s")
            by_order.setdefault(str(getattr(screen, "sort", "?")), []).append(sample)
        out["sort_orders"] = {
            order: {
                "cpu": median([c for c, _ in samples]),
                "wall": median([w for _, w in samples]),
            }
            for order, samples in by_order.items()
        }
        slowest = max(out["sort_orders"].values(), key=lambda v: v["cpu"])
        out["sort"] = {
            "cpu": {"median": slowest["cpu"] * 1000},
            "wall": {"median": slowest["wall"] * 1000},
        }
        await timed("resort", ["r"] * (5 if quick else 10))

        tick = getattr(screen, "tick", None)
        if callable(tick):

            async def timed_tick(moment: datetime) -> tuple[float, float]:
                c0 = time.process_time()
                clock.now = moment
                w0 = time.perf_counter()
                tick()
                took = time.perf_counter() - w0
                await pilot.pause()
                return time.process_time() - c0, took

            start = clock.now
            samples = [
                await timed_tick(start + timedelta(seconds=k + 1))
                for k in range(3 if quick else 10)
            ]
            out["tick_second"] = {
                "cpu": ms_stats([c for c, _ in samples]),
                "sync": ms_stats([w for _, w in samples]),
            }
            samples = []
            for _ in range(2 if quick else max(3, runs)):
                await timed_tick(start)  # back to the start: every entry is re-checked
                samples.append(await timed_tick(start + timedelta(days=1)))
            out["tick_day"] = {
                "cpu": ms_stats([c for c, _ in samples]),
                "sync": ms_stats([w for _, w in samples]),
            }
    return out


def _follow_notified(
    store: Any, fid: str, version: int, seen: dict[str, float], stop: threading.Event
) -> None:
    """As the dashboard's wake worker: poll whenever a notification wakes the handle."""
    while not stop.is_set() and "notified" not in seen:
        if store.wait_for_change(1.0):
            store.poll()
            if store.get(fid).version > version:
                seen["notified"] = time.perf_counter()


def _follow_polled(
    store: Any,
    fid: str,
    version: int,
    seen: dict[str, float],
    stop: threading.Event,
    refresh: float,
    phase: float,
) -> None:
    """As the dashboard's own poll alone, every `refresh` seconds from `phase` on."""
    next_poll = time.perf_counter() + phase
    while not stop.is_set() and "polled" not in seen:
        stop.wait(max(0.0, next_poll - time.perf_counter()))
        store.poll()
        if store.get(fid).version > version:
            seen["polled"] = time.perf_counter()
        next_poll += refresh


def worker_live(db: Path, size: int, quick: bool, runs: int) -> dict[str, Any]:
    """3. Live: how long until an open handle has a change a real `icp-tui note` made, woken
    by file-change notifications (as the dashboard's wake worker) or by its 1 s poll alone."""
    from icp_tui.store import FilingStore

    woken = FilingStore(db)
    polled = FilingStore(db)
    woken.load()
    polled.load()
    woken.wait_for_change(1.0)  # starts watching
    woken.poll()
    refresh = 1.0
    rng = random.Random(SEED + 7)
    ids = woken.ids()
    rounds = 3 if quick else max(10, 2 * runs)
    notified: list[float] = []
    poll_only: list[float] = []
    compacted = 0
    for k in range(rounds):
        fid = rng.choice(ids)
        version = woken.get(fid).version
        seen: dict[str, float] = {}
        stop = threading.Event()

        phase = rng.uniform(0, refresh)
        threads = [
            threading.Thread(target=_follow_notified, args=(woken, fid, version, seen, stop)),
            threading.Thread(
                target=_follow_polled, args=(polled, fid, version, seen, stop, refresh, phase)
            ),
        ]
        for thread in threads:
            thread.start()
        state = db_files(db)
        argv = [sys.executable, "-m", "icp_tui", "--db", str(db), "--now", NOW_TEXT]
        argv += ["note", fid, f"scale benchmark: live check {k}"]
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env(), text=True
        )
        committed = None
        deadline = time.perf_counter() + 60 + size / 2000
        while time.perf_counter() < deadline and len(seen) < 2:
            if committed is None and db_files(db) != state:
                committed = time.perf_counter()
            time.sleep(0.002)
        stop.set()
        _, err = proc.communicate(timeout=60)
        for thread in threads:
            thread.join()
        if proc.returncode != 0:
            raise BenchError(f"icp-tui note exited {proc.returncode}: {err.strip()[-300:]}")
        if committed is None or len(seen) < 2:
            raise BenchError(f"the change to {fid} was not seen by both handles: {seen}")
        if db_files(db).get(db.name) != state.get(db.name):
            compacted += 1  # the note's process compacted too: a new base to follow
        notified.append(seen["notified"] - committed)
        poll_only.append(seen["polled"] - committed)
    return {
        "rounds": rounds,
        "compacted": compacted,
        "notified": ms_stats(notified),
        "poll_only": ms_stats(poll_only),
        "notifications": woken.notifications,
    }


WORKERS: dict[str, Callable[[Path, int, bool, int], dict[str, Any]]] = {
    "live": worker_live,
    "store": worker_store,
    "tick": worker_tick,
    "keys": worker_keys,
}


def _orphan_watch() -> None:
    """Kill this worker and its children if the benchmark that started it is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def worker_main(opts: argparse.Namespace) -> int:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    _orphan_watch()
    try:
        result = WORKERS[opts.worker](Path(opts.db), opts.size, opts.quick, opts.runs)
    except Exception:
        traceback.print_exc()
        return 1
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


# ---------------------------------------------------------------------------- orchestration


def slow_runs(opts: argparse.Namespace, size: int) -> int:
    if opts.runs:
        return opts.runs
    if opts.quick:
        return 1
    return 5 if size <= TARGET_SIZE else 3


def make_db(folder: Path, size: int, now: str | None = NOW_TEXT) -> tuple[Path, float]:
    """`size` demo filings written by the command line as of `now` (None: the clock)."""
    path = folder / f"filings-{size}.json"
    argv = [sys.executable, "-m", "icp_tui", "--db", str(path)]
    argv += ["--now", now] if now else []
    argv += ["demo", "--count", str(size), "--seed", str(SEED)]
    t0 = time.perf_counter()
    run_child(argv, timeout=60 + size / 400, what=f"icp-tui demo --count {size}")
    return path, time.perf_counter() - t0


def remove_db(path: Path) -> None:
    for candidate in path.parent.glob(path.name + "*"):
        with contextlib.suppress(OSError):
            candidate.unlink()


def floor_seconds(db: Path, timeout: float) -> float:
    """One run of the floor (FLOOR_CODE on `db`) on a 120x40 pseudo-terminal: seconds from
    fork until it has exited."""
    seconds, _ = pty_run([sys.executable, "-c", FLOOR_CODE, str(db)], timeout=timeout, pattern=None)
    return seconds


def measure_opening(db: Path, size: int, runs: int, warm_up: bool) -> dict[str, Any]:
    """The dashboard, the floor and the minimal Textual app, alternating, `runs` times each."""
    timeout = 30 + size / 1000
    commands = {
        "app": [sys.executable, "-m", "icp_tui", "--db", str(db), "--now", NOW_TEXT],
        "bare": [sys.executable, "-c", BARE_APP_CODE, str(db)],
    }
    order = ["app", "floor", "bare"]
    times: dict[str, list[float]] = {name: [] for name in order}
    rss: list[float] = []

    def run(name: str) -> None:
        try:
            if name == "floor":
                seconds, kb = floor_seconds(db, timeout), None
            else:
                rss_after = 1.0 if name == "app" else None
                seconds, kb = pty_run(
                    commands[name], timeout=timeout, pattern=PATTERN, rss_after=rss_after
                )
        except BenchError as error:
            raise BenchError(f"{name} at {size:,}: {error}") from None
        times[name].append(seconds)
        if name == "app" and kb is not None:
            rss.append(kb / 1024)

    if warm_up:  # compiled bytecode, page cache: not what a figure should include
        for name in order:
            run(name)
        for values in times.values():
            values.clear()
        rss.clear()
    for i in range(runs):
        for name in order[i % 3 :] + order[: i % 3]:  # rotate who goes first
            run(name)
    app_s, floor_s = median(times["app"]), median(times["floor"])
    return {
        **times,
        "rss": rss,
        "app_s": app_s,
        "floor_s": floor_s,
        "bare_s": median(times["bare"]),
        "ratio": app_s / floor_s if app_s and floor_s else None,
        "rss_mb": median(rss),
    }


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of `pid` so far, in clock ticks."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def chars_read(pid: int) -> int:
    """Bytes `pid` has read so far by any means (rchar: files, the terminal, pipes)."""
    with open(f"/proc/{pid}/io") as handle:
        for line in handle:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def _top_row(db: Path) -> str:
    """The id of the filing on the dashboard's first row (all filings, most urgent first, by
    the real clock, as the idle dashboards run)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from icp_tui.queue import Queue
    from icp_tui.store import FilingStore

    reference, _ = _reference(db)
    from icp_tui.domain.filing import BEIJING

    queue = Queue(reference, datetime.now(BEIJING))
    with queue.loading():
        FilingStore(db).load(queue.put)
    return queue.select()[0].id


def measure_idle_dashboards(db: Path, size: int, count: int, idle: float) -> dict[str, Any]:
    """`count` real dashboards (100x30 pseudo-terminals, so the assignee column shows) open
    on `db`: their CPU together over `idle` seconds of nobody typing (their 1 s clock ticks
    and polls included) and the bytes they read meanwhile; then `icp-tui assign` gives the
    first row a new assignee, and the time until every screen shows it. They run on the real
    clock, as staff's do: under a fixed --now nothing on screen ever moves with time."""
    env = child_env()
    winsize = struct.pack("HHHH", 30, 100, 0, 0)
    argv = [sys.executable, "-m", "icp_tui", "--db", str(db)]
    fds: dict[int, int] = {}  # fd -> pid
    output: dict[int, bytearray] = {}
    try:
        for _ in range(count):
            pid, fd = pty.fork()
            if pid == 0:
                try:
                    fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
                    os.execve(argv[0], argv, env)
                finally:
                    os._exit(127)
            _children.add(pid)
            fds[fd], output[fd] = pid, bytearray()

        def drain(until: float, want: bytes | None = None) -> dict[int, float]:
            seen: dict[int, float] = {}
            while (left := until - time.perf_counter()) > 0:
                if want is not None and len(seen) == len(fds):
                    break
                ready, _, _ = select.select(list(fds), [], [], min(left, 0.2))
                for fd in ready:
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        raise BenchError(f"a dashboard exited: {_screen_text(output[fd])}")
                    keep = len(output[fd])
                    output[fd] += chunk
                    tail = output[fd][max(0, keep - len(want or b"")) :]
                    if want is not None and fd not in seen and want in tail:
                        seen[fd] = time.perf_counter()
                    if len(output[fd]) > 1 << 18:
                        del output[fd][: len(output[fd]) - (1 << 12)]
            return seen

        opened = drain(time.perf_counter() + 60 + count * size / 2000, PATTERN)
        if len(opened) < count:
            raise BenchError(f"only {len(opened)} of {count} dashboards showed their rows")
        # Let the first ticks, polls and the detail settle, and each whole queue be built (a
        # large one opens on its first rows; building the rest is not idling): until no
        # screen has said "loading" for 3 s.
        settled = time.perf_counter() + 120 + count * size / 2000
        while drain(time.perf_counter() + 3.0, LOADING):
            if time.perf_counter() > settled:
                raise BenchError("the dashboards were still loading their queues")
        pids = list(fds.values())
        ticks0 = sum(cpu_ticks(pid) for pid in pids)
        read0 = sum(chars_read(pid) for pid in pids)
        t0 = time.perf_counter()
        drain(t0 + idle)
        elapsed = time.perf_counter() - t0
        ticks = sum(cpu_ticks(pid) for pid in pids) - ticks0
        read = sum(chars_read(pid) for pid in pids) - read0
        name = f"live{random.Random().randrange(1000):03d}"
        fid = _top_row(db)
        for fd in fds:
            output[fd].clear()
        change = [sys.executable, "-m", "icp_tui", "--db", str(db), "assign", fid, name]
        proc = subprocess.Popen(
            change, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
        )
        state = db_files(db)
        committed = None
        while committed is None and proc.poll() is None:
            if db_files(db) != state:
                committed = time.perf_counter()
            else:
                time.sleep(0.002)
        if committed is None:
            committed = time.perf_counter()  # it ended between two looks
        seen = drain(committed + 30, name.encode())
        _, err = proc.communicate(timeout=30)
        if proc.returncode != 0:
            raise BenchError(f"icp-tui assign exited {proc.returncode}: {err.strip()[-300:]}")
        if len(seen) < count:
            raise BenchError(f"only {len(seen)} of {count} dashboards showed the change")
        latencies = [t - committed for t in seen.values()]
    finally:
        for fd, pid in fds.items():
            os.close(fd)
            _kill_group(pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            _children.discard(pid)
    return {
        "count": count,
        "idle_s": elapsed,
        "cpu_pct": 100 * ticks / os.sysconf("SC_CLK_TCK") / elapsed,
        "read_bytes": read,
        "change": ms_stats(latencies),
    }


def measure_import(folder: Path, source: Path, rows: int) -> dict[str, Any]:
    """`icp-tui import` of a `rows`-row CSV (an export of `source`) into an empty database:
    wall time and CPU time of the process, and the lines it added to the journal."""
    csv_path = folder / f"import-{rows}.csv"
    target = folder / f"import-{rows}.json"
    base = [sys.executable, "-m", "icp_tui", "--now", NOW_TEXT]
    run_child(
        [*base, "--db", str(source), "export", "-o", str(csv_path)],
        timeout=300,
        what="export for the import",
    )
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        exported = sum(1 for _ in handle) - 1
    if exported < rows:
        raise BenchError(f"the export has {exported} rows, not {rows}")
    remove_db(target)
    run_child([*base, "--db", str(target), "init"], timeout=60, what="init for the import")
    before = os.times()
    t0 = time.perf_counter()
    run_child(
        [*base, "--db", str(target), "import", str(csv_path)], timeout=600, what="icp-tui import"
    )
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    remove_db(target)
    csv_path.unlink()
    return {"rows": exported, "wall_s": wall, "cpu_s": cpu}


def _dig(result: dict[str, Any], *keys: str) -> Any:
    value: Any = result
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


# -------------------------------------------------------------------------------- figures


def _twenty(result: dict[str, Any], *keys: str) -> Any:
    """An idle figure for the table, which judges twenty dashboards (--idle-dashboards may
    ask for another number: the details show those)."""
    if _dig(result, "idle", "count") != IDLE_DASHBOARDS:
        return None
    return _dig(result, "idle", *keys)


def fmt_s(v: float) -> str:
    return f"{v:.2f} s"


def fmt_ms(v: float) -> str:
    if v < 1:
        return f"{v:.2f} ms"
    return f"{v:.1f} ms" if v < 10 else f"{v:.0f} ms"


def fmt_x(v: float) -> str:
    return f"{v:.2f}x"


def fmt_mb(v: float) -> str:
    return f"{v:.0f} MB"


@dataclass(frozen=True)
class Figure:
    label: str
    get: Callable[[dict[str, Any]], float | None]
    fmt: Callable[[float], str]
    target: str = "-"
    ok: Callable[[float], bool] | None = None
    scales: bool = False  # a cost: must not grow faster than the number of filings
    at: int | None = None  # judged at this size rather than the summary's (if it was run)


def _key(name: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda r: _dig(r, "keys", name, "cpu", "median")


FIGURES: tuple[Figure, ...] = (
    Figure("1 opening: rows on screen", lambda r: _dig(r, "open", "app_s"), fmt_s, scales=True),
    Figure("1 floor: import textual + orjson parse", lambda r: _dig(r, "open", "floor_s"), fmt_s),
    Figure(
        "1 (info) minimal Textual app + parse",
        lambda r: _dig(r, "open", "bare_s"),
        fmt_s,
    ),
    Figure(
        "1 opening / floor",
        lambda r: _dig(r, "open", "ratio"),
        fmt_x,
        "<= 1.0x",
        lambda v: v <= 1.0,
    ),
    Figure(
        "1 opening / floor, at 100k",
        lambda r: _dig(r, "open", "ratio"),
        fmt_x,
        "<= 0.8x",
        lambda v: v <= 0.8,
        at=100_000,
    ),
    Figure(
        "2 change: commit, median",
        lambda r: _dig(r, "store", "commit", "median"),
        fmt_ms,
        "< 50 ms",
        lambda v: v < 50,
        scales=True,
    ),
    Figure(
        "2 change: commit, p95",
        lambda r: _dig(r, "store", "commit", "p95"),
        fmt_ms,
        "< 50 ms",
        lambda v: v < 50,
    ),
    Figure(
        "2 change: compaction (each, apart)",
        lambda r: _dig(r, "store", "compaction", "median"),
        fmt_ms,
        scales=True,
    ),
    Figure(
        "2 bytes written / change (x record)",
        lambda r: _dig(r, "store", "write_x"),
        fmt_x,
        "<= 20x",
        lambda v: v <= 20,
    ),
    Figure(
        "3 poll after a change, median",
        lambda r: _dig(r, "store", "poll", "median"),
        fmt_ms,
        scales=True,
    ),
    Figure(
        "3 poll after a compaction (max)",
        lambda r: _dig(r, "store", "poll_after_compaction", "max"),
        fmt_ms,
        scales=True,
    ),
    Figure(
        "3 bytes read / change (x record)",
        lambda r: _dig(r, "store", "read_x"),
        fmt_x,
        "<= 20x",
        lambda v: v <= 20,
    ),
    Figure(
        "3 CLI change seen, 0.2 s polls (max)",
        lambda r: _dig(r, "store", "e2e_max"),
        fmt_s,
    ),
    Figure(
        "3 dashboard worst case (1 s + slowest poll)",
        lambda r: _dig(r, "store", "dashboard_bound"),
        fmt_s,
        "<= 2 s",
        lambda v: v <= 2,
    ),
    Figure(
        "3 live: change seen, notifications, median",
        lambda r: _dig(r, "live", "notified", "median"),
        fmt_ms,
        "<= 300 ms",
        lambda v: v <= 300,
    ),
    Figure(
        "3 live: change seen, notifications, max",
        lambda r: _dig(r, "live", "notified", "max"),
        fmt_ms,
        "< 1000 ms",
        lambda v: v < 1000,
    ),
    Figure(
        "3 (info) live: 1 s poll alone, median",
        lambda r: _dig(r, "live", "poll_only", "median"),
        fmt_ms,
    ),
    Figure(
        "3 twenty idle dashboards: CPU, % of one core",
        lambda r: _twenty(r, "cpu_pct"),
        lambda v: f"{v:.1f} %",
        "< 10 %",
        lambda v: v < 10,
    ),
    Figure(
        "3 twenty dashboards: change on every screen",
        lambda r: _twenty(r, "change", "max"),
        fmt_ms,
        "< 1000 ms",
        lambda v: v < 1000,
    ),
    Figure(
        "3 twenty idle dashboards: bytes read",
        lambda r: _twenty(r, "read_bytes"),
        lambda v: f"{v:.0f} B",
    ),
    Figure(
        "8 import of 10,000 rows (wall)",
        lambda r: _dig(r, "import", "wall_s"),
        fmt_s,
        "< 2 s",
        lambda v: v < 2,
        at=IMPORT_ROWS,
    ),
    Figure("8 (info) import: its CPU time", lambda r: _dig(r, "import", "cpu_s"), fmt_s),
    Figure(
        "4 Queue.refresh, +1 s",
        lambda r: _dig(r, "tick", "second", "median"),
        fmt_ms,
        "< 50 ms",
        lambda v: v < 50,
        scales=True,
    ),
    Figure(
        "4 Queue.refresh, +1 day",
        lambda r: _dig(r, "tick", "day", "median"),
        fmt_ms,
        "< 50 ms",
        lambda v: v < 50,
        scales=True,
    ),
    Figure(
        "4 Queue.refresh, clock set back a day",
        lambda r: _dig(r, "tick", "full", "median"),
        fmt_ms,
        scales=True,
    ),
    Figure(
        "4 dashboard tick +1 s, with repaint",
        lambda r: _dig(r, "keys", "tick_second", "cpu", "median"),
        fmt_ms,
        scales=True,
    ),
    Figure(
        "4 dashboard tick +1 day, with repaint",
        lambda r: _dig(r, "keys", "tick_day", "cpu", "median"),
        fmt_ms,
        scales=True,
    ),
    Figure("5 key j (cursor)", _key("cursor"), fmt_ms, "< 100 ms", lambda v: v < 100, True),
    Figure("5 (info) j, then 0.1 s for the detail", _key("cursor_detail"), fmt_ms, scales=True),
    Figure("5 key pagedown", _key("page"), fmt_ms, "< 100 ms", lambda v: v < 100, True),
    Figure("5 filter: one keystroke", _key("filter"), fmt_ms, "< 100 ms", lambda v: v < 100, True),
    Figure("5 (info) / (open the filter)", _key("filter_open"), fmt_ms, scales=True),
    Figure("5 (info) escape (clear the filter)", _key("filter_clear"), fmt_ms, scales=True),
    Figure(
        "5 s (cycle sort), slowest of 5 orders",
        lambda r: _dig(r, "keys", "sort", "cpu", "median"),
        fmt_ms,
        "< 100 ms",
        lambda v: v < 100,
        True,
    ),
    Figure("5 r (re-sort)", _key("resort"), fmt_ms, "< 100 ms", lambda v: v < 100, True),
    Figure("5 no-op key (harness)", _key("noop"), fmt_ms),
    Figure(
        "6 dashboard RSS",
        lambda r: _dig(r, "open", "rss_mb"),
        fmt_mb,
        "< 300 MB",
        lambda v: v < 300,
        scales=True,
        at=100_000,
    ),
)


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"


def cell(fig: Figure, result: dict[str, Any] | None) -> str:
    value = fig.get(result) if result else None
    return "n/a" if value is None else fig.fmt(value)


def verdict(fig: Figure, results: dict[int, dict[str, Any]], judged: int) -> str:
    if fig.ok is None:
        return ""
    result = results.get(fig.at or judged)
    value = fig.get(result) if result else None
    if value is None:
        return "n/a"
    return "yes" if fig.ok(value) else "NO"


def judged_size(sizes: list[int]) -> int:
    return TARGET_SIZE if TARGET_SIZE in sizes else max(sizes)


def print_table(rows: list[list[str]], markdown: bool = False) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        cells = [
            text.ljust(width) if i == 0 else text.rjust(width)
            for i, (text, width) in enumerate(zip(row, widths, strict=True))
        ]
        return ("| " + " | ".join(cells) + " |") if markdown else "  ".join(cells)

    print(line(rows[0]))
    if markdown:
        rules = ["-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)]
        print("|" + "|".join(rules) + "|")
    else:
        print("  ".join("-" * w for w in widths))
    for row in rows[1:]:
        print(line(row))


def summary_rows(
    sizes: list[int], results: dict[int, dict[str, Any]], scaling_ok: str, every: bool = True
) -> list[list[str]]:
    """The summary table; `every`: also the figures not measured (n/a), as a full run has."""
    judged = judged_size(sizes)
    head = ["figure", *(size_label(n) for n in sizes), "target", f"met? ({size_label(judged)})"]
    rows = [head]
    for fig in FIGURES:
        if not every and all(fig.get(r) is None for r in results.values()):
            continue  # not among the measurements --only chose
        rows.append(
            [
                fig.label,
                *(cell(fig, results.get(n)) for n in sizes),
                fig.target + (f" at {size_label(fig.at)}" if fig.at else ""),
                verdict(fig, results, judged),
            ]
        )
    if every or len(sizes) > 1:
        rows.append(["7 no step worse than linear", *([""] * len(sizes)), "all steps", scaling_ok])
    return rows


def scaling_rows(
    sizes: list[int], results: dict[int, dict[str, Any]]
) -> tuple[list[list[str]], str]:
    """Each cost's ratio per step between sizes, and whether every step is at most linear."""
    steps = list(itertools.pairwise(sizes))
    head = ["cost", *(f"{size_label(a)}->{size_label(b)} (x{b / a:g})" for a, b in steps)]
    rows = [head]
    worst: list[bool] = []
    for fig in FIGURES:
        if not fig.scales:
            continue
        row = [fig.label]
        for a, b in steps:
            va = fig.get(results.get(a) or {})
            vb = fig.get(results.get(b) or {})
            if va is None or vb is None or va <= 0:
                row.append("n/a")
                continue
            ratio = vb / va
            if fig.fmt is fmt_ms and va < NOISE_MS:
                # Below a millisecond, fixed costs, caches and the timer make the ratio noise.
                row.append(f"x{ratio:.2f} (from <{NOISE_MS:g} ms)")
                continue
            fine = ratio <= LINEAR_SLACK * (b / a)
            worst.append(fine)
            row.append(f"x{ratio:.2f}" + ("" if fine else " WORSE"))
        rows.append(row)
    bad = worst.count(False)
    if not worst:
        return rows, "n/a"
    return rows, "yes" if not bad else f"NO ({bad} of {len(worst)} steps)"


def print_details(n: int, r: dict[str, Any]) -> None:
    def show(label: str, text: str) -> None:
        print(f"  {label:<9} {text}")

    o = r.get("open")
    if o:
        runs = lambda xs: " ".join(f"{x:.2f}" for x in xs)  # noqa: E731
        show(
            "opening",
            f"rows on screen {o['app_s']:.2f} s (runs {runs(o['app'])}) · floor "
            f"{o['floor_s']:.2f} s (runs {runs(o['floor'])}) · {o['ratio']:.2f}x · minimal "
            f"Textual app {o['bare_s']:.2f} s · RSS "
            + (f"{o['rss_mb']:.0f} MB" if o["rss_mb"] else "n/a"),
        )
    s = r.get("store")
    if s:
        kinds = " · ".join(
            f"{k} {v['median']:.2f} ms ({v['n']})" for k, v in s["commit_by_kind"].items() if v["n"]
        )
        show(
            "change",
            f"{s['changes']:,} changes"
            + ("" if s["cycle_complete"] else " (NO compaction reached: not amortised)")
            + f": commit median {s['commit']['median']:.2f} ms, p95 {s['commit']['p95']:.2f}, "
            f"max {s['commit']['max']:.1f} ms [{kinds}]",
        )
        c = s["compaction"]
        if c["n"]:
            show(
                "",
                f"{c['n']} compaction(s): median {c['median']:.0f} ms, max {c['max']:.0f} ms "
                f"(check when not due {s['compact_check']['median']:.3f} ms)",
            )
        show(
            "",
            f"written {s['bytes_written'] / 1e6:.2f} MB = {s['bytes_written'] / s['changes']:,.0f}"
            f" B/change = {s['write_x']:.1f}x the record ({s['record_bytes']:,.0f} B median of "
            f"changed records; database median {s['db_record_bytes']:,.0f} B); file sizes say "
            f"{s['file_x']:.1f}x",
        )
        show(
            "others",
            f"poll median {s['poll']['median']:.2f} ms, p95 {s['poll']['p95']:.2f} ms; after a "
            f"compaction {s['poll_after_compaction']['max'] or 0:.0f} ms; read "
            f"{s['bytes_read'] / s['changes']:,.0f} B/change = {s['read_x']:.1f}x the record; "
            f"changes missed by polls: {s['missed']}",
        )
        show(
            "",
            f"`icp-tui note` -> seen by a handle polling every {s['e2e_interval']} s: "
            + " ".join(f"{x:.3f}" for x in s["e2e_latency"])
            + f" s (the CLI run itself {s['cli_seconds']:.2f} s); dashboard worst case "
            f"{s['refresh_seconds']:.1f} s + slowest poll {s['slowest_poll']:.3f} s = "
            f"{s['dashboard_bound']:.2f} s",
        )
    t = r.get("tick")
    if t:
        show(
            "tick",
            f"Queue.refresh +1 s {t['second']['median']:.3f} ms (max {t['second']['max']:.2f},"
            f" <= {t['second_changed']} changed) · +1 day {t['day']['median']:.1f} ms (max "
            f"{t['day']['max']:.1f}; {t['day_changed']:,} changed) · clock "
            f"set back {t['full']['median']:.0f} ms ({t['full_changed']:,} entries), CPU",
        )
        wall = t["wall"]
        show(
            "",
            f"wall time, median: +1 s {wall['second']['median']:.3f} ms · +1 day "
            f"{wall['day']['median']:.1f} ms · clock set back {wall['full']['median']:.0f} ms",
        )
    k = r.get("keys")
    if k:
        names = (
            ("noop", "no-op"),
            ("cursor", "j"),
            ("cursor_detail", "j+detail"),
            ("page", "pgdn"),
            ("filter_open", "/"),
            ("filter", "letter"),
            ("filter_clear", "esc"),
            ("sort", "s"),
            ("resort", "r"),
        )
        cpu = " · ".join(
            f"{label} {k[name]['cpu']['median']:.1f}" for name, label in names if name in k
        )
        wall = " · ".join(
            f"{label} {k[name]['wall']['median']:.0f}" for name, label in names if name in k
        )
        orders = " · ".join(f"{o} {v['cpu'] * 1000:.0f}" for o, v in k["sort_orders"].items())
        show("keys", f"CPU ms, median: {cpu} (s: slowest order)")
        show("", f"pilot wall ms (incl. its idle-wait sleeps): {wall}")
        show(
            "",
            f"s, CPU ms by order: {orders}; rows {k.get('rows')}, after one letter "
            f"{', '.join(map(str, k['filter_rows']))}, after escape {k['rows_after_filter']}",
        )
        if "tick_second" in k:
            show(
                "",
                f"dashboard tick (CPU incl. repaint): +1 s {k['tick_second']['cpu']['median']:.1f}"
                f" ms, +1 day {k['tick_day']['cpu']['median']:.1f} ms (tick() itself "
                f"{k['tick_second']['sync']['median']:.1f} / {k['tick_day']['sync']['median']:.1f}"
                " ms)",
            )
    live = r.get("live")
    if live:
        n_, p_ = live["notified"], live["poll_only"]
        show(
            "live",
            f"{live['rounds']} changes by `icp-tui note` ({live['compacted']} with a compaction):"
            f" seen on notification median {n_['median']:.0f} ms, max {n_['max']:.0f} ms · by "
            f"the 1 s poll alone median {p_['median']:.0f} ms, max {p_['max']:.0f} ms"
            + (f" · NOTIFICATIONS OFF: {live['notifications']}" if live["notifications"] else ""),
        )
    idle = r.get("idle")
    if idle:
        show(
            "idle",
            f"{idle['count']} dashboards, {idle['idle_s']:.0f} s untouched: CPU "
            f"{idle['cpu_pct']:.1f} % of one core together, {idle['read_bytes']:,} bytes read;"
            f" a change on every screen: median {idle['change']['median']:.0f} ms, max "
            f"{idle['change']['max']:.0f} ms",
        )
    imp = r.get("import")
    if imp:
        show(
            "import",
            f"{imp['rows']:,} rows into an empty database: {imp['wall_s']:.2f} s "
            f"(CPU {imp['cpu_s']:.2f} s)",
        )
    for what, error in r.get("errors", {}).items():
        show("FAILED", f"{what}: {error}")


def machine_lines() -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as handle:
        mem = f"{int(handle.readline().split()[1]) / 1024 / 1024:.1f} GB"
    versions = []
    for package in ("textual", "orjson", "rich"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} missing")
    git = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
        git = f"{head}" + (f" + {len(dirty)} uncommitted paths" if dirty else "")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return [
        f"date:    {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}",
        f"machine: nproc {usable} ({os.cpu_count()} CPUs), {cpu}, {mem} RAM, {platform.system()} "
        f"{platform.release()}",
        f"python:  {platform.python_implementation()} {platform.python_version()} "
        f"({sys.executable}); {', '.join(versions)}",
        f"code:    {REPO} at {git}",
        f"load:    {load_average()} (other work on the machine skews every figure)",
    ]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        help="comma-separated numbers of filings (default 1000,10000,50000; quick: 1000,10000)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="runs of each slow measurement (default 5 up to 50k filings, 3 above; quick: 1)",
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument(
        "--only",
        help=f"comma-separated measurements to run, of {','.join(MEASUREMENTS)} (default: all;"
        " idle runs at 50,000 filings, else the largest size; import at 10,000)",
    )
    parser.add_argument(
        "--idle-dashboards",
        type=int,
        default=IDLE_DASHBOARDS,
        help=f"dashboards the idle measurement opens (default {IDLE_DASHBOARDS})",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=IDLE_SECONDS,
        help=f"seconds they are measured idle (default {IDLE_SECONDS:g}; a minute or more"
        " takes in the ticks at which the clock's minute moves)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--dir", type=Path, help="put the databases here (default: a temp dir)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.runs is not None and opts.runs < 1:
        parser.error("--runs must be at least 1")
    if opts.idle_dashboards < 1 or opts.idle_seconds <= 0:
        parser.error("--idle-dashboards: at least 1; --idle-seconds: more than 0")
    if opts.sizes:
        try:
            opts.size_list = sorted({int(s.replace("_", "")) for s in opts.sizes.split(",")})
        except ValueError:
            parser.error("--sizes: comma-separated whole numbers, e.g. 1000,10000,50000")
        if not opts.size_list or min(opts.size_list) < 20:
            parser.error("--sizes: at least 20 filings each")
    else:
        opts.size_list = list(QUICK_SIZES if opts.quick else DEFAULT_SIZES)
    opts.measured = set(MEASUREMENTS)
    if opts.only:
        opts.measured = {name.strip() for name in opts.only.split(",") if name.strip()}
        if unknown := sorted(opts.measured - set(MEASUREMENTS)):
            parser.error(
                f"--only: no measurement {', '.join(unknown)} (of {', '.join(MEASUREMENTS)})"
            )
    return opts


@contextlib.contextmanager
def attempt(result: dict[str, Any], what: str) -> Iterator[None]:
    """Record a failed measurement and carry on with the next one."""
    try:
        yield
    except BenchError as error:
        result.setdefault("errors", {})[what] = str(error)
        print(f"  ! {what} failed: {error}", flush=True)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.worker:
        return worker_main(opts)
    atexit.register(_kill_children)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    sizes: list[int] = opts.size_list
    print("icp-tui scale benchmark (issue 5)" + (" - QUICK smoke run" if opts.quick else ""))
    for line in machine_lines():
        print(line)
    if opts.dir:
        folder = opts.dir
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="icp-tui-scale-"))
        if not opts.keep:
            atexit.register(shutil.rmtree, folder, True)
    print(
        f"databases: {folder} (--now {NOW_TEXT}, --seed {SEED}); sizes "
        f"{', '.join(f'{n:,}' for n in sizes)}"
    )
    started = time.perf_counter()
    results: dict[int, dict[str, Any]] = {}
    for index, n in enumerate(sizes):
        r: dict[str, Any] = {"size": n}
        results[n] = r
        print(f"\n== {n:,} filings ==", flush=True)
        try:
            db, took = make_db(folder, n)
        except BenchError as error:
            r.setdefault("errors", {})["database"] = str(error)
            print(f"  ! cannot make the database: {error}", flush=True)
            continue
        print(
            f"  database  {db.stat().st_size / 1e6:.1f} MB written by `icp-tui demo` in "
            f"{took:.1f} s",
            flush=True,
        )
        runs = slow_runs(opts, n)
        wanted = opts.measured
        if "opening" in wanted:
            with attempt(r, "opening"):
                r["open"] = measure_opening(db, n, runs, warm_up=index == 0)
        if "tick" in wanted:
            with attempt(r, "tick"):
                r["tick"] = run_worker("tick", db, n, opts, timeout=60 + n / 500)
        if "keys" in wanted:
            with attempt(r, "keys"):
                r["keys"] = run_worker("keys", db, n, opts, timeout=120 + n / 250)
        if n == IMPORT_ROWS and "import" in wanted:
            with attempt(r, "import"):
                r["import"] = measure_import(folder, db, n)
        # At 50,000 filings, the size of the target; else at the largest size asked for.
        idle_size = TARGET_SIZE if TARGET_SIZE in sizes else max(sizes)
        if n == idle_size and "idle" in wanted:
            with attempt(r, "idle"):
                r["idle"] = measure_idle_dashboards(db, n, opts.idle_dashboards, opts.idle_seconds)
        if "live" in wanted:
            with attempt(r, "live"):
                r["live"] = run_worker("live", db, n, opts, timeout=240 + n / 200)
        if "store" in wanted:
            with attempt(r, "store"):  # last: it changes the database
                r["store"] = run_worker("store", db, n, opts, timeout=240 + n / 200)
        print_details(n, r)
        if not opts.keep:
            remove_db(db)
        sys.stdout.flush()

    print(
        f"\n== Summary (medians; runs of slow figures: "
        f"{', '.join(f'{size_label(n)} {slow_runs(opts, n)}' for n in sizes)}) =="
    )
    scaling, scaling_ok = scaling_rows(sizes, results)
    every = not opts.only
    print_table(summary_rows(sizes, results, scaling_ok, every))
    if len(sizes) > 1:
        print(
            f"\n== Scaling: cost ratio per step (linear = the size ratio; WORSE if > "
            f"{LINEAR_SLACK}x that) =="
        )
        print_table(scaling)
    print("\n== For the README ==")
    print_table(summary_rows(sizes, results, scaling_ok, every), markdown=True)
    print(f"\ntotal time {time.perf_counter() - started:.0f} s; load average now {load_average()}")
    failed = any(r.get("errors") for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
