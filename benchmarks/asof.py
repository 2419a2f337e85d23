#!/usr/bin/env python3
"""Issue 16's speed figures: the queue as it was (--as-of, the dashboard's time keys) at
50,000 filings, and what the approval estimates add to opening the dashboard.

    python benchmarks/asof.py                  # 50,000 filings, 3 runs of each command
    python benchmarks/asof.py --count 10000 --runs 1

A database is written by the command line into a temporary folder, with a fixed time and
seed (``icp-tui --db X --now 2026-11-25T15:00+08:00 demo --count N --seed 0``). Then:

1. ``list`` and ``list --as-of T`` (T one hour, one day, a week and 30 days before the
   database's now) run as child processes, stdout to /dev/null; the figure is the median wall
   time, and the ratio to the plain ``list`` (target: at most 3x). ``show ID --json`` of a
   filing in authority review (it builds its province's queue for the estimate) is timed too.
2. The dashboard runs in-process under ``App.run_test(size=(120, 40))`` on the same database.
   A step is the wall time from ``pilot.press(key)`` until the app shows the new instant and
   ``pilot.pause()`` has returned (the messages handled, the changed lines rendered): ``[``
   from now, then ``[`` five times (an hour back each), ``{`` three times (a day), ``}`` once
   and ``.`` (back to now). The loaded filings are frozen first, as ``icp-tui`` freezes them
   once the dashboard is built (the collector's work differs a lot with and without). Target:
   under 1 s. The pilot's idle detection adds some 65 ms to every figure. Each step is shown
   with the CPU time of the whole process (all threads) too, which the load of a shared
   machine inflates less than the wall time.
3. ``make_app`` itself (load the store, build the queue with its estimates), and the part of
   it spent on the estimates: the same load with ``Queue`` told to count no reviews.

``--against TREE`` (another checkout, e.g. ``/work/main``) times only the dashboard's steps,
of this checkout and of TREE on one database, each run a child process, the two alternated
(this, TREE, this, ...): a shared machine's load then weighs on both alike. The figures are
the medians of ``--runs`` runs each.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A child timing another checkout's steps (--against) imports that checkout's code.
TREE = Path(sys.argv[sys.argv.index("--steps-of") + 2]) if "--steps-of" in sys.argv else REPO
sys.path.insert(0, str(TREE))

from icp_tui.config import Settings, load_reference  # noqa: E402
from icp_tui.domain.filing import BEIJING  # noqa: E402
from icp_tui.services import fixed_clock  # noqa: E402
from icp_tui.ui.app import make_app  # noqa: E402

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)


def cli(db: Path, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "icp_tui", "--db", str(db), "--now", NOW.isoformat(), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def median_of(runs: int, measure: object) -> float:
    return statistics.median(measure() for _ in range(runs))  # type: ignore[operator]


async def dashboard_steps(db: Path) -> list[tuple[str, float, float]]:
    reference = load_reference(Settings())
    app = make_app(
        db, reference, settings=Settings(db_path=db), clock=fixed_clock(NOW), first_rows=0
    )
    freeze_loaded()
    figures: list[tuple[str, float, float]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        async def step(label: str, key: str, expected: datetime | None) -> None:
            start, cpu = time.perf_counter(), time.process_time()
            await pilot.press(key)
            while app.as_of != expected:
                await asyncio.sleep(0.005)
            await pilot.pause()
            figures.append((label, time.perf_counter() - start, time.process_time() - cpu))

        at = NOW - timedelta(hours=1)
        await step("[ from now", "left_square_bracket", at)
        for n in range(5):
            at -= timedelta(hours=1)
            await step(f"[ an hour back ({n + 1})", "left_square_bracket", at)
        for n in range(3):
            at -= timedelta(days=1)
            await step(f"{{ a day back ({n + 1})", "left_curly_bracket", at)
        at += timedelta(days=1)
        await step("} a day on", "right_curly_bracket", at)
        await step(". back to now", "full_stop", None)
    return figures


def freeze_loaded() -> None:
    """What `icp-tui` does once the dashboard is built (run_dashboard), with the function it
    calls where this checkout has it (an older checkout calls gc.freeze itself)."""
    try:
        from icp_tui.domain.collector import freeze_long_lived
    except ImportError:
        gc.freeze()
    else:
        freeze_long_lived()


def opening(db: Path, runs: int) -> tuple[float, float]:
    """make_app wall time, and the same with no review counted (the estimates' share)."""
    from icp_tui import queue as queue_module

    reference = load_reference(Settings())

    def build() -> float:
        start = time.perf_counter()
        make_app(db, reference, settings=Settings(db_path=db), clock=fixed_clock(NOW), first_rows=0)
        return time.perf_counter() - start

    full = median_of(runs, build)
    counted = queue_module.Queue._count_reviews
    queue_module.Queue._count_reviews = lambda self, entry, filing: None  # type: ignore[method-assign]
    try:
        bare = median_of(runs, build)
    finally:
        queue_module.Queue._count_reviews = counted  # type: ignore[method-assign]
    return full, bare


def steps_side_by_side(db: Path, against: Path, runs: int) -> None:
    """The dashboard's steps of this checkout and of `against`, alternated, `runs` each."""
    trees = {"this": REPO, "against": against.resolve()}
    figures: dict[str, list[list[tuple[str, float, float]]]] = {name: [] for name in trees}
    for run in range(runs):
        for name, tree in trees.items():
            child = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--steps-of", str(db), str(tree)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            figures[name].append(json.loads(child.stdout))
            print(f"run {run + 1} {name} done, load average {os.getloadavg()[0]:.1f}")
    print(f"\nthis: {REPO} ({revision(REPO)}), against: {trees['against']} "
          f"({revision(trees['against'])}); medians of {runs} runs, wall / CPU")  # fmt: skip
    print("\n| dashboard step | this: wall | this: CPU | against: wall | against: CPU |")
    print("|---|--:|--:|--:|--:|")
    for i, (label, _took, _cpu) in enumerate(figures["this"][0]):
        cells = []
        for name in trees:
            cells.append(f"{statistics.median(r[i][1] for r in figures[name]) * 1000:.0f} ms")
            cells.append(f"{statistics.median(r[i][2] for r in figures[name]) * 1000:.0f} ms")
        print(f"| {label} | {' | '.join(cells)} |")


def revision(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--against", type=Path, metavar="TREE", help="time the steps of TREE too, alternated"
    )
    parser.add_argument("--steps-of", nargs=2, metavar=("DB", "TREE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps_of:  # a child of --against: the steps of the checkout imported
        print(json.dumps(asyncio.run(dashboard_steps(Path(args.steps_of[0])))))
        return 0
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="icp-asof-") as folder:
        db = Path(folder) / "filings.json"
        start = time.perf_counter()
        cli(db, "demo", "--count", str(args.count), "--seed", "0")
        print(f"wrote {args.count:,} demo filings in {time.perf_counter() - start:.1f} s")
        if args.against:
            steps_side_by_side(db, args.against, args.runs)
            print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
            return 0

        plain = median_of(args.runs, lambda: cli(db, "list"))
        print(f"\n| command at {args.count:,} filings | wall time | / list | target |")
        print("|---|--:|--:|--:|")
        print(f"| list | {plain:.2f} s | 1.00x | |")
        for label, back in (
            ("an hour", timedelta(hours=1)),
            ("a day", timedelta(days=1)),
            ("a week", timedelta(days=7)),
            ("30 days", timedelta(days=30)),
        ):
            at = (NOW - back).isoformat()
            took = median_of(args.runs, lambda at=at: cli(db, "--as-of", at, "list"))
            ok = "yes" if took <= 3 * plain else "NO"
            print(
                f"| list --as-of {label} back | {took:.2f} s | {took / plain:.2f}x | <= 3x: {ok} |"
            )
        authority = subprocess.run(
            [sys.executable, "-m", "icp_tui", "--db", str(db), "--now", NOW.isoformat(),
             "list", "--stage", "authority", "--json"],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
            check=True,
        )  # fmt: skip
        filing_id = authority.stdout.split('"id": "')[1].split('"')[0]
        shown = median_of(args.runs, lambda: cli(db, "show", filing_id, "--json"))
        print(f"| show ID --json (its province's queue, for the estimate) | {shown:.2f} s | | |")

        print(f"\n| dashboard step at {args.count:,} filings | wall time | CPU time | target |")
        print("|---|--:|--:|--:|")
        for label, took, cpu in asyncio.run(dashboard_steps(db)):
            ok = "yes" if took < 1 else "NO"
            print(f"| {label} | {took * 1000:.0f} ms | {cpu * 1000:.0f} ms | < 1 s: {ok} |")

        full, bare = opening(db, args.runs)
        print(f"\n| make_app at {args.count:,} filings | wall time |")
        print("|---|--:|")
        print(f"| with the estimates | {full:.2f} s |")
        print(f"| reviews not counted | {bare:.2f} s |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
