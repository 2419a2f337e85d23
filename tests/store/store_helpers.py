"""Helpers for the storage tests: valid filings, a fresh database, and worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from icp_tui.domain.filing import BEIJING, EntityType, Filing, Transition
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import add_note
from icp_tui.store import FilingStore, journal_path, summary_path
from icp_tui.store.contract import WakesOnChange
from icp_tui.store.journal import CRC_MARK

#: Where the worker processes run.
REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 14, 3, tzinfo=BEIJING)
WORKER = Path(__file__).with_name("_worker.py")


def fid(n: int) -> str:
    """The id of the n-th test filing."""
    return f"ICP-2026-{n:05d}"


def make_filing(n: int, *, padding: int = 0, at: datetime = T0) -> Filing:
    """A valid filing just submitted to preliminary review; `padding` bytes make it bigger."""
    return Filing(
        id=fid(n),
        domain=f"site{n}.example.cn",
        entity="杭州示例科技有限公司" + "x" * padding,
        entity_type=EntityType.COMPANY,
        province="Zhejiang",
        stage=Stage.PRELIMINARY_REVIEW,
        entered_at=at,
        submitted_at=at,
        history=(Transition(at, "alice", None, Stage.PRELIMINARY_REVIEW, "submitted"),),
    )


def noter(text: str, by: str = "alice", at: datetime | None = None) -> Callable[[Filing], Filing]:
    """A change for FilingStore.commit that adds a note (by default 5 minutes after T0, or at
    the filing's latest entry if later: history stays in time order, issue 12)."""
    if at is not None:
        return lambda filing: add_note(filing, at, by, text)
    return lambda filing: add_note(
        filing, max(T0 + timedelta(minutes=5), filing.latest_at), by, text
    )


def new_db(folder: Path, count: int = 3, *, padding: int = 0) -> Path:
    """A fresh database of `count` filings in `folder`; returns its path."""
    path = folder / "data" / "filings.json"
    FilingStore.create(path, (make_filing(n, padding=padding) for n in range(1, count + 1)))
    return path


def snapshot_files(path: Path) -> dict[str, bytes | None]:
    """The bytes of a database's base, journal and sidecar (None if absent), to prove nothing
    changed."""
    result: dict[str, bytes | None] = {}
    for file in (path, journal_path(path), summary_path(path)):
        result[file.name] = file.read_bytes() if file.exists() else None
    return result


def temp_files(path: Path) -> list[str]:
    """Temporary files of the database at `path` (a writer was killed mid-replace)."""
    return sorted(n for n in os.listdir(path.parent) if n.startswith(f".{path.name}.tmp-"))


def worker(*args: str, **popen: object) -> subprocess.Popen[str]:
    """Start tests/store/_worker.py in a new Python process."""
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, str(WORKER), *args],
        cwd=REPO_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def wait_ready(process: subprocess.Popen[str]) -> None:
    """Block until the worker printed "ready" (it has imported and loaded)."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"worker did not start: {line!r} {err}")


def edit_journal(path: Path, edit: Callable[[bytes], bytes], *, only: int | None = None) -> None:
    """Apply `edit` to each change line (or line number `only`) of the journal of `path` and
    give the line the checksum of its new content: a line as a buggy writer could have
    written it, so what is tested is the record, not the checksum."""
    journal = journal_path(path)
    header, *lines = journal.read_bytes().split(b"\n")
    out = [header]
    for number, line in enumerate(lines, 2):
        if CRC_MARK in line and only in (None, number):
            content = edit(line[: line.rfind(CRC_MARK)])
            line = content + CRC_MARK + b"%d}" % zlib.crc32(content)
        out.append(line)
    journal.write_bytes(b"\n".join(out))


def stopped_wait(store: WakesOnChange) -> list[bool]:
    """What a long `wait_for_change` returned when another thread set its stop event (the
    dashboard leaving); [] if it had not returned 30 s later."""
    stop = threading.Event()
    ended: list[bool] = []
    waiting = threading.Thread(
        target=lambda: ended.append(store.wait_for_change(600.0, stop)), daemon=True
    )
    waiting.start()
    stop.set()
    waiting.join(timeout=30.0)
    return ended
