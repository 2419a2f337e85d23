#!/usr/bin/env python3
"""How long a dashboard takes to quit: from `q` until its process has ended.

    python benchmarks/quit.py                                  # this repository, 10 rounds
    python benchmarks/quit.py --repo . --repo /tmp/main-src    # two source trees, side by side

A user presses `q` and waits for their shell; the dashboard's threads (the one that follows
others' changes above all) must not keep the process alive after the screen is gone. Each
round opens one dashboard per source tree (``python -m icp_tui --db X``, the tree on
PYTHONPATH) in a private tmux server (``tmux -L NAME``, killed at the end) at 120x40, waits
until a filing id shows and then ``--settle`` seconds (2) and a random part of a second (the
phase of the dashboard's 1 s refresh: a fixed pause would always press ``q`` at the same point
of it), sends ``q`` with ``tmux send-keys`` and times until the dashboard's process has ended
(/proc read every 5 ms). The trees take turns at going first, so both see the same machine.

Two conditions, each its own set of rounds: idle (nobody writes), and writing (a shell loop in
another process runs ``icp-tui note`` on the database without pause from before the
dashboard opens until it has quit: changes keep waking the dashboard, as with a busy shift).
The database is ``icp-tui demo --count N --seed 0`` in a temporary folder (removed at the
end). It prints the machine's load average before and after, each quit, then per tree and
condition the median and the worst.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import acceptance  # the private tmux server, its sessions, and finding the dashboard's process
import scale  # the demo database and the child's environment

POLL = 0.005  # seconds between looks at /proc while the dashboard quits
# Each dashboard's session is killed once it has quit: the server must outlive its last one.
acceptance.TMUX_CONFIG += "set -s exit-empty off\n"
QUIT_TIMEOUT = 30.0


def writer(db: Path, filing_id: str) -> subprocess.Popen[bytes]:
    """A shell loop in a process group of its own, adding notes to `filing_id` without pause."""
    note = f'{sys.executable} -m icp_tui --db "{db}" note {filing_id} "trial $i"'
    loop = f"i=0; while :; do i=$((i+1)); {note} >/dev/null 2>&1; done"
    return subprocess.Popen(["sh", "-c", loop], env=scale.child_env(), start_new_session=True)


def quit_seconds(tmux: acceptance.Tmux, name: str, repo: Path, db: Path, settle: float) -> float:
    """Open a dashboard of `repo`'s code, let it settle, press q: seconds until it has ended."""
    argv = ["env", f"PYTHONPATH={repo}", sys.executable, "-m", "icp_tui", "--db", str(db)]
    start = time.monotonic()
    tmux.open(name, argv)
    while acceptance.FILING_ID not in tmux.capture([name])[name][0]:
        if time.monotonic() - start > 120:
            raise scale.BenchError(f"{name}: no rows on screen in 120 s")
        time.sleep(0.05)
    pid = acceptance.dashboard_pid(tmux.pane_pid(name))
    time.sleep(settle + random.random())
    tmux.run("send-keys", "-t", name, "q")
    pressed = time.monotonic()
    while acceptance._is_dashboard(pid):
        if time.monotonic() - pressed > QUIT_TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            raise scale.BenchError(f"{name}: still running {QUIT_TIMEOUT:.0f} s after q")
        time.sleep(POLL)
    seconds = time.monotonic() - pressed
    tmux.run("kill-session", "-t", name)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, action="append", help="a source tree (repeatable)")
    parser.add_argument("--count", type=int, default=10_000, help="demo filings (10,000)")
    parser.add_argument("--rounds", type=int, default=10, help="quits per tree and condition")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds open before q")
    opts = parser.parse_args(argv)
    repos = [path.resolve() for path in opts.repo or [scale.REPO]]
    print(f"load average {os.getloadavg()}, {opts.count} filings, {opts.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="icp-tui-quit-") as tmp:
        folder = Path(tmp)
        db, _ = scale.make_db(folder, opts.count, None)
        filing_id = scale._top_row(db)
        figures: dict[tuple[str, Path], list[float]] = {}
        with acceptance.private_tmux(folder) as (tmux, _):
            for condition in ("idle", "writing"):
                loop = writer(db, filing_id) if condition == "writing" else None
                try:
                    for round_ in range(opts.rounds):
                        order = repos if round_ % 2 == 0 else repos[::-1]
                        for repo in order:
                            name = f"quit-{condition}-{round_}-{repos.index(repo)}"
                            seconds = quit_seconds(tmux, name, repo, db, opts.settle)
                            figures.setdefault((condition, repo), []).append(seconds)
                            print(f"  {condition:<8} {repo}  {seconds:.3f} s", flush=True)
                finally:
                    if loop is not None:
                        os.killpg(loop.pid, signal.SIGKILL)
                        loop.wait()
    print(f"load average {os.getloadavg()}")
    print(f"{'condition':<9} {'median':>8} {'worst':>8}  tree")
    for (condition, repo), values in figures.items():
        print(f"{condition:<9} {statistics.median(values):>7.3f}s {max(values):>7.3f}s  {repo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
