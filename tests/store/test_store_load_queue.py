"""The one way a queue is built from a store (services.load_queue), used by the dashboard and
the command line alike."""

from __future__ import annotations

from pathlib import Path

from store_helpers import T0, fid, make_filing, new_db, noter

from icp_tui.config import Settings, load_reference
from icp_tui.domain.summary import summarize
from icp_tui.queue import Queue
from icp_tui.services import FilingService, load_queue
from icp_tui.store import FilingStore


def test_a_queue_from_a_reread_is_the_queue_of_the_filings(tmp_path: Path) -> None:
    path = new_db(tmp_path, 3)
    reference = load_reference(Settings())
    expected = Queue(reference, T0)
    for n in (1, 2, 3):
        expected.put(summarize(make_filing(n)))
    queue = load_queue(FilingStore(path), reference, T0, reread=True)
    assert list(queue.entries) == [fid(1), fid(2), fid(3)]
    assert [e.list_json(reference, T0) for e in queue.entries.values()] == [
        e.list_json(reference, T0) for e in expected.entries.values()
    ]


def test_without_a_reread_the_queue_is_what_the_store_last_read(tmp_path: Path) -> None:
    path = new_db(tmp_path, 2)
    reference = load_reference(Settings())
    mine, theirs = FilingStore(path), FilingStore(path)
    mine.load()
    service = FilingService(mine, reference, actor="alice", clock=lambda: T0)
    theirs.commit(fid(2), noter("seen only after a read"))
    assert service.queue().entries[fid(2)].version == 1  # not read yet
    assert service.load_queue().entries[fid(2)].version == 2
