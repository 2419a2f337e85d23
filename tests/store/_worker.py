"""Worker processes for the storage tests (run as a script, one process per worker).

_worker.py notes PATH K COUNT       commit COUNT notes "pK-i" round-robin to 3 filings
_worker.py reader PATH STOP         load (and poll) repeatedly until the file STOP exists
_worker.py follow PATH STOP         poll only when woken by a file-change notification, as a
                                    dashboard does; once STOP exists and 2 s pass without one,
                                    print "id version" for every filing it holds
_worker.py crash PATH LOG SEED      commit and compact forever; log "id version" per commit
_worker.py hold PATH                hold the database's lock until killed
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from icp_tui.domain.filing import BEIJING
from icp_tui.domain.transitions import add_note
from icp_tui.store import FilingStore, lock_path

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=BEIJING)


def small_store(path: str) -> FilingStore:
    """Small compaction thresholds, so that the tests see compactions, not just appends."""
    return FilingStore(path, lock_timeout=30, compact_min_bytes=4096, compact_ratio=0.05)


def notes(path: str, k: str, count: str) -> None:
    store = small_store(path)
    ids = store.ids()[:3]
    print("ready", flush=True)
    for i in range(int(count)):
        text = f"p{k}-{i}"
        store.commit(ids[i % 3], lambda f, text=text: add_note(f, NOW, f"p{k}", text))  # type: ignore[misc]
        store.compact_if_due()


def reader(path: str, stop: str) -> None:
    store = FilingStore(path)
    print("ready", flush=True)
    loads = polls = 0
    while not os.path.exists(stop):
        fresh = FilingStore(path)
        fresh.load(lambda filing: None)
        loads += 1
        store.poll()
        polls += 1
    print(loads, polls, flush=True)


def follow(path: str, stop: str) -> None:
    store = FilingStore(path)
    store.load()
    store.wait_for_change(2.0)  # starts watching
    store.poll()
    print("ready", flush=True)
    while True:
        if store.wait_for_change(2.0):
            store.poll()
        elif os.path.exists(stop):
            break
    if store.notifications is not None:
        raise SystemExit(store.notifications)
    for filing_id in store.ids():
        print(filing_id, store.summary(filing_id).version, flush=True)


def crash(path: str, log: str, seed: str) -> None:
    rng = random.Random(seed)
    store = small_store(path)
    ids = store.ids()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    print("ready", flush=True)
    while True:
        filing_id = rng.choice(ids)
        saved = store.commit(filing_id, lambda f: add_note(f, NOW, "w", "n" * rng.randint(1, 400)))
        # Only now is the change acknowledged: it must survive whatever happens next.
        os.write(fd, f"{filing_id} {saved.version}\n".encode())
        store.compact_if_due()
        if rng.random() < 0.15:
            store.compact()


def hold(path: str) -> None:
    import filelock

    lock = filelock.FileLock(str(lock_path(Path(path))))
    lock.acquire()
    print("ready", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    commands: dict[str, Callable[..., None]] = {
        "notes": notes,
        "reader": reader,
        "follow": follow,
        "crash": crash,
        "hold": hold,
    }
    try:
        commands[command](*arguments)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
