"""Issue 15's figures: a query keystroke at 50,000 filings, and mark all and take 1,000.

    python benchmarks/queries.py [--size 50000] [--take 1000] [--dir FOLDER]

Both run the real dashboard (`make_app`, as the command line builds it) under Textual's
`App.run_test`, on demo databases written by `icp-tui demo` into a temporary folder:

- query keystroke: `/`, then a query typed one key at a time (free words and field terms,
  `health:`, `stage:`, `due:<Nbd`, `-assignee:`); each key is timed in CPU seconds of this
  process from the press until the app is idle again (the table re-filtered, the count and the
  status line redrawn). A key that leaves the query wrong for a moment (`health:`) is timed
  too: the table then stays as it was. The pure matching of the whole query over the queue
  (`Queue.matching`) is printed beside it.
- mark all and take: `*` marks every filing of a queue of N filings (none of them the
  actor's), `o` asks, `y` takes them all: wall time from `y` until the summary is shown, so
  every filing's own locked, versioned, fsynced change is in it; per filing as well.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOW_TEXT = "2026-11-25T15:00+08:00"
QUERY = "health:at stage:pre -assignee:none due:<3bd cn"
TARGET_MS = 100.0


def demo_db(folder: Path, size: int) -> Path:
    path = folder / f"filings-{size}.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "icp_tui", "--db", str(path), "--now", NOW_TEXT]
    demo = [*argv, "demo", "--count", str(size), "--force"]
    subprocess.run(demo, check=True, env=env, timeout=900, stdout=subprocess.DEVNULL)
    return path


def now() -> datetime:
    from icp_tui.domain.filing import BEIJING

    return datetime.fromisoformat(NOW_TEXT).astimezone(BEIJING)


def build(db: Path, actor: str) -> object:
    from icp_tui.config import Settings, load_reference
    from icp_tui.services import fixed_clock
    from icp_tui.ui.app import make_app

    settings = Settings(db_path=db)
    return make_app(
        db,
        load_reference(settings),
        settings=settings,
        clock=fixed_clock(now()),
        actor=actor,
        first_rows=0,  # the whole queue at once: a query while it loads only says so
    )


def stats(ms: list[float]) -> str:
    ordered = sorted(ms)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {max(ms):.1f} ms"


async def keystrokes(db: Path) -> tuple[list[float], list[float], float, int, int]:
    from icp_tui.domain.query import parse_query

    app = build(db, "bench")
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        await pilot.pause()
        screen = app.dashboard  # type: ignore[attr-defined]
        total = len(screen.table.rows)
        noop = []  # a key nothing is bound to: what any key costs the app and the test driver
        for _ in range(10):
            c0 = time.process_time()
            await pilot.press("f20")
            await pilot.pause()
            noop.append((time.process_time() - c0) * 1000)
        await pilot.press("slash")
        cpu = []
        for char in QUERY:
            key = {" ": "space", ":": "colon", "<": "less_than_sign", "-": "minus"}.get(char, char)
            c0 = time.process_time()
            await pilot.press(key)
            await pilot.pause()
            cpu.append((time.process_time() - c0) * 1000)
        assert screen.filter_query.text == QUERY, screen.filter_query.text
        shown = len(screen.table.rows)
        queue = screen.queue
        query = parse_query(QUERY, queue.reference.provinces)
        entries = list(queue.entries.values())
        t0 = time.perf_counter()
        for _ in range(5):
            queue.matching(entries, query, "bench")
        pure = (time.perf_counter() - t0) / 5 * 1000
    return cpu, noop, pure, shown, total


async def take_all(db: Path) -> tuple[float, float, int, str]:
    app = build(db, "bench-taker")
    async with app.run_test(size=(120, 40)) as pilot:  # type: ignore[attr-defined]
        await pilot.pause()
        screen = app.dashboard  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        await pilot.press("asterisk")
        await pilot.pause()
        marking = (time.perf_counter() - t0) * 1000
        marked = len(screen.marks)
        await pilot.press("o")
        await pilot.pause()
        done = []
        screen.notify = lambda said, **kw: done.append(str(said))  # the summary, when it comes
        t0 = time.perf_counter()
        await pilot.press("y")
        while not done:
            await pilot.pause(0.01)
        took = time.perf_counter() - t0
    return marking, took, marked, done[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--take", type=int, default=1_000)
    parser.add_argument(
        "--dir", type=Path, help="where to write the databases (default: temporary)"
    )
    opts = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="icp-bench-") as tmp:
        folder = opts.dir or Path(tmp)
        print(
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
            f"Python {sys.version.split()[0]}"
        )
        big = demo_db(folder, opts.size)
        cpu, noop, pure, shown, total = asyncio.run(keystrokes(big))
        print(
            f"query keystroke at {total:,} filings "
            f"({len(cpu)} keys of {QUERY!r}, {shown} rows left):"
        )
        print(
            f"  CPU until idle: {stats(cpu)} (target < {TARGET_MS:.0f} ms: "
            f"{'yes' if statistics.median(cpu) < TARGET_MS else 'NO'})"
        )
        print(f"  of which matching the whole query over the queue: {pure:.1f} ms")
        print(f"  (a key bound to nothing, for comparison: {stats(noop)})")
        if not opts.take:
            return 0
        small = demo_db(folder, opts.take)
        marking, took, marked, said = asyncio.run(take_all(small))
        print(
            f"mark all and take {marked:,}: * {marking:.0f} ms; o, y until the summary "
            f"{took:.2f} s ({took / marked * 1000:.1f} ms a filing); said: {said.splitlines()[0]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
