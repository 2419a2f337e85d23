"""Several real processes on one database: concurrent writers, readers, kill -9, a held lock."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from store_helpers import fid, new_db, noter, temp_files, wait_ready, worker

from icp_tui.domain.summary import summarize
from icp_tui.store import FilingStore, StoreBusy


def test_four_writers_and_a_reader_lose_nothing(tmp_path: Path) -> None:
    path = new_db(tmp_path, 3, padding=300)
    stop = tmp_path / "stop"
    reader = worker("reader", str(path), str(stop))
    writers = [worker("notes", str(path), str(k), "50") for k in range(4)]
    try:
        for process in [reader, *writers]:
            wait_ready(process)
        for process in writers:
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    loads = int(out.split()[0])
    assert loads >= 1

    store = FilingStore(path)
    store.load()
    assert store.get(fid(1)).version > 1
    seen: dict[str, list[int]] = {f"p{k}": [] for k in range(4)}
    total = 0
    for filing_id in store.ids():
        filing = store.get(filing_id)
        assert filing.version == 1 + len(filing.notes)  # every change bumped the version once
        for note in filing.notes:
            writer, index = note.text.split("-")
            seen[writer].append(int(index))
            total += 1
        # Per filing, each process's notes appear in the order it made them.
        for k in range(4):
            mine = [int(n.text.split("-")[1]) for n in filing.notes if n.by == f"p{k}"]
            assert mine == sorted(mine)
    assert total == 200
    for indexes in seen.values():
        assert sorted(indexes) == list(range(50))
    # Compaction ran during the test (the journal was folded at least once).
    assert '"generation": 1}' not in path.read_text().splitlines()[0]


def test_a_handle_woken_only_by_notifications_follows_writers_and_compactions(
    tmp_path: Path,
) -> None:
    path = new_db(tmp_path, 3, padding=300)
    stop = tmp_path / "stop"  # outside the database's folder: it wakes nobody
    follower = worker("follow", str(path), str(stop))
    wait_ready(follower)
    writers = [worker("notes", str(path), str(k), "40") for k in range(3)]
    try:
        for process in writers:
            wait_ready(process)
        for process in writers:
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
    finally:
        stop.touch()
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    store = FilingStore(path)
    store.load()
    assert '"generation": 1}' not in path.read_text().splitlines()[0]  # compactions ran
    followed = dict(line.split() for line in out.splitlines())
    assert followed == {i: str(store.summary(i).version) for i in store.ids()}
    assert store.summary(fid(1)).version > 1


def test_kill_9_never_loses_a_committed_change(tmp_path: Path) -> None:
    path = new_db(tmp_path, 12, padding=600)
    log = tmp_path / "committed.log"
    rng = random.Random(20261120)
    saw_leftovers = False
    used_sidecar = 0
    for round_no in range(32):
        process = worker("crash", str(path), str(log), str(round_no))
        wait_ready(process)
        time.sleep(rng.uniform(0.0, 0.12))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        assert process.returncode == -signal.SIGKILL

        store = FilingStore(path)
        store.load()  # always a whole, valid database
        committed: Counter[str] = Counter()
        for line in log.read_text().splitlines():
            filing_id, version_text = line.split()
            committed[filing_id] = max(committed[filing_id], int(version_text))
        for filing_id, version in committed.items():
            assert store.get(filing_id).version >= version, (round_no, filing_id)
        for filing_id in store.ids():  # the summaries (sidecar or not) match the records
            assert store.summary(filing_id) == summarize(store.get(filing_id)), round_no
        used_sidecar += store._state is not None and store._state.summary_id is not None
        saw_leftovers = saw_leftovers or bool(temp_files(path))
    # The next writer starts at once (the dead process's lock is gone) and clears leftovers.
    store = FilingStore(path, lock_timeout=1)
    store.load()
    before = store.get(fid(1)).version
    assert store.commit(fid(1), noter("after the crashes")).version == before + 1
    assert temp_files(path) == []
    store.compact()
    assert FilingStore(path).load() == 12
    assert used_sidecar > 0  # most kills leave a sidecar that matches the base
    print(f"leftover temp files seen after some kill: {saw_leftovers}")


def test_a_held_lock_makes_writers_wait_then_fail_busy(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    holder = worker("hold", str(path))
    try:
        wait_ready(holder)
        store = FilingStore(path, lock_timeout=0.5)
        store.load()
        before = path.with_name(path.name + ".journal").read_bytes()
        started = time.monotonic()
        with pytest.raises(StoreBusy, match=r"is busy: another icp-tui is saving; try again"):
            store.commit(fid(1), lambda f: f)
        assert 0.45 <= time.monotonic() - started < 5
        assert path.with_name(path.name + ".journal").read_bytes() == before
        eager = FilingStore(path, lock_timeout=5, compact_min_bytes=0, compact_ratio=0)
        assert eager.compact_if_due() is False  # due, but it never waits for the lock
    finally:
        holder.kill()
        holder.communicate(timeout=10)
    # A lock held by a dead process does not block: the kernel released the flock.
    started = time.monotonic()
    assert store.commit(fid(1), noter("after")).version == 2
    assert time.monotonic() - started < 0.5
