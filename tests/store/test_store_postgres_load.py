"""PostgreSQL under load and under a crash, with real processes and a real server.

Load: 8 writer processes x 50 changes while 3 dashboards follow the queue. Faults: the server
is killed (an immediate shutdown: no checkpoint, every client cut off) and restarted while
writers keep changing filings.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_helpers import Postgres
from store_helpers import make_filing

from icp_tui.store import StoreError
from icp_tui.store.postgres import PostgresStore

WORKER = Path(__file__).with_name("_pg_worker.py")
#: Generous: the machine may be busy. These guard against hangs, they do not measure speed.
TIMEOUT = 120.0


@pytest.fixture
def queue(postgres_uri: str) -> Iterator[str]:
    PostgresStore.create(postgres_uri, [make_filing(n) for n in (1, 2, 3)]).close()
    yield postgres_uri


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise AssertionError(f"worker did not start: {line!r} {process.communicate()[1]}")


def finish(process: subprocess.Popen[str]) -> None:
    _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err


def wait_until(condition: object, what: str) -> None:
    """Check `condition()` until true, briefly pausing between checks; fail after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    pause = threading.Event()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.02)


def stored(uri: str) -> dict[str, list[int]]:
    """Each filing's appended versions, read afresh."""
    import psycopg

    with psycopg.connect(uri) as conn:
        rows = conn.execute(
            "SELECT filing_id, version FROM filing_versions ORDER BY filing_id, version"
        ).fetchall()
    versions: dict[str, list[int]] = {}
    for fid, version in rows:
        versions.setdefault(fid, []).append(version)
    return versions


class Dashboard(threading.Thread):
    """A dashboard's store handle, polling until it shows the versions it is told to expect."""

    def __init__(self, uri: str) -> None:
        super().__init__(daemon=True)
        self.store = PostgresStore(uri)
        self.store.load()
        self.seen: dict[str, list[int]] = {}
        self.expect: dict[str, int] | None = None
        self.caught_up = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        pause = threading.Event()
        deadline = time.monotonic() + 3 * TIMEOUT
        while time.monotonic() < deadline:
            try:
                changed = self.store.poll()
            except StoreError as error:
                self.errors.append(str(error))
                changed = []
            for filing in changed or []:
                self.seen.setdefault(filing.id, []).append(filing.version)
            expect = self.expect
            if expect and all(self.store.summary(f).version == v for f, v in expect.items()):
                self.caught_up.set()
                return
            pause.wait(0.02)


def test_eight_writers_lose_nothing_while_three_dashboards_follow(queue: str) -> None:
    dashboards = [Dashboard(queue) for _ in range(3)]
    for dashboard in dashboards:
        dashboard.start()
    writers = [worker("notes", queue, str(k), "50") for k in range(8)]
    for process in writers:
        wait_ready(process)
    for process in writers:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in writers:
        finish(process)

    versions = stored(queue)
    assert sum(len(v) - 1 for v in versions.values()) == 400  # every change kept
    for numbers in versions.values():
        assert numbers == list(range(1, len(numbers) + 1))  # consecutive, none torn or twice
    final = {fid: numbers[-1] for fid, numbers in versions.items()}
    reader = PostgresStore(queue)
    reader.load()
    for fid in final:
        texts = [n.text for n in reader.get(fid).notes]
        assert len(texts) == len(set(texts)) == final[fid] - 1
    for k in range(8):  # each writer's 50 notes are all there, each filing's in its order
        written = 0
        for fid in final:
            mine = [int(n.text[len(f"p{k}-") :]) for n in reader.get(fid).notes if n.by == f"p{k}"]
            assert mine == sorted(mine)
            written += len(mine)
        assert written == 50
    reader.close()

    for dashboard in dashboards:
        dashboard.expect = final
    for dashboard in dashboards:
        assert dashboard.caught_up.wait(TIMEOUT), dashboard.errors
        dashboard.join(TIMEOUT)
        for seen in dashboard.seen.values():
            assert seen == sorted(set(seen)), "a dashboard saw a filing go back"
        dashboard.store.close()


def test_a_killed_server_keeps_every_acknowledged_change(
    queue: str, postgres: Postgres, tmp_path: Path
) -> None:
    log, stop = tmp_path / "acks.log", tmp_path / "stop"
    dashboard = PostgresStore(queue, connect_timeout=2)
    dashboard.load()
    writers = [worker("steady", queue, str(k), str(log), str(stop)) for k in range(3)]
    for process in writers:
        wait_ready(process)

    def acks() -> int:
        return log.read_text().count("ok ") if log.exists() else 0

    wait_until(lambda: acks() >= 30, "changes before the crash")
    try:
        postgres.crash()
        with pytest.raises(StoreError):
            dashboard.poll()  # the dashboard says so...
    finally:
        postgres.start()
    before = acks()
    wait_until(lambda: acks() >= before + 30, "changes after the restart")
    stop.touch()
    for process in writers:
        finish(process)

    versions = stored(queue)
    for numbers in versions.values():
        assert numbers == list(range(1, len(numbers) + 1))
    reader = PostgresStore(queue)
    reader.load()
    notes = {fid: [n.text for n in reader.get(fid).notes] for fid in versions}
    lines = [line.split() for line in log.read_text().splitlines()]
    for kind, fid, *rest in lines:
        if kind == "ok":  # acknowledged: it survived, at the version it was given
            version, text = int(rest[0]), rest[1]
            assert notes[fid][version - 2] == text
    for texts in notes.values():
        assert len(texts) == len(set(texts))  # in doubt or not, never half or twice
    reader.close()
    changed = dashboard.poll()  # ...and catches up once the server is back
    assert changed is not None
    assert {fid: dashboard.summary(fid).version for fid in versions} == {
        fid: numbers[-1] for fid, numbers in versions.items()
    }
    dashboard.close()
