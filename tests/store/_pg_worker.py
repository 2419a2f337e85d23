"""Writer processes for the PostgreSQL load and fault tests (run as a script).

_pg_worker.py notes URI K COUNT    wait for a line on stdin, then commit COUNT notes "pK-i",
                                   round-robin to the first 3 filings
_pg_worker.py steady URI K LOG STOP
                                   commit notes "pK-i" to the first 3 filings until the file STOP
                                   exists, through lost connections; LOG gets "ok ID VERSION TEXT"
                                   once a change is acknowledged, "doubt ID TEXT" if the
                                   connection dropped while it was being committed
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from datetime import datetime

from icp_tui.domain.filing import BEIJING
from icp_tui.domain.transitions import add_note
from icp_tui.store import StoreError
from icp_tui.store.postgres import ConnectionLost, PostgresStore

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=BEIJING)


def notes(uri: str, k: str, count: str) -> None:
    store = PostgresStore(uri)
    ids = store.ids()[:3]
    print("ready", flush=True)
    sys.stdin.readline()  # every writer starts at once
    for i in range(int(count)):
        text = f"p{k}-{i}"
        store.commit(ids[i % 3], lambda f, text=text: add_note(f, NOW, f"p{k}", text))  # type: ignore[misc]


def steady(uri: str, k: str, log: str, stop: str) -> None:
    store = PostgresStore(uri, connect_timeout=2)
    ids = store.ids()[:3]
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    print("ready", flush=True)
    i = 0
    while not os.path.exists(stop):
        text = f"p{k}-{i}"
        filing_id = ids[i % 3]
        try:
            saved = store.commit(filing_id, lambda f, text=text: add_note(f, NOW, f"p{k}", text))  # type: ignore[misc]
        except ConnectionLost as lost:
            if lost.in_doubt:
                os.write(fd, f"doubt {filing_id} {text}\n".encode())
                i += 1  # never reuse a text whose fate is unknown
            time.sleep(0.05)  # the server is down: do not spin while it restarts
            continue
        except StoreError:
            time.sleep(0.05)
            continue
        # Only now is the change acknowledged: it must survive the crash.
        os.write(fd, f"ok {filing_id} {saved.version} {text}\n".encode())
        i += 1


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    try:
        {"notes": notes, "steady": steady}[command](*arguments)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
