"""The one way a queue is built from a store (services.load_queue), used by the dashboard and
the command line alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from store_helpers import T0, fid, make_filing, new_db, noter

from icp_tui.config import Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.filing import BEIJING
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


def test_a_provinces_queue_gives_each_of_its_filings_the_entry_of_the_whole_queue(
    tmp_path: Path,
) -> None:
    """`show` builds only the filing's province's queue: the same entry and estimate, now and
    as it was, as in the whole queue."""
    reference = load_reference(Settings())
    now = datetime(2026, 11, 25, 15, tzinfo=BEIJING)
    filings = generate_filings(300, now, reference.policy, reference.provinces, seed=3)
    path = tmp_path / "filings.json"
    FilingStore.create(path, filings)
    service = FilingService(FilingStore(path), reference, actor="alice", clock=lambda: now)
    service.load()
    machine = service.time_machine()
    before = now - timedelta(days=9)
    whole, whole_then = service.queue(), machine.queue_at(before)

    def shown(queue: Queue, at: datetime) -> dict[str, Any]:
        return {e.id: (e.list_json(reference, at), e.eta) for e in queue.entries.values()}

    provinces = {f.province for f in filings}
    assert len(provinces) > 10
    estimated = 0
    for province in provinces:
        ids = {f.id for f in filings if f.province == province}
        alone = shown(service.province_queue(province), now)
        assert alone == {i: v for i, v in shown(whole, now).items() if i in ids}
        then = shown(machine.queue_at(before, province), before)
        assert then == {i: v for i, v in shown(whole_then, before).items() if i in ids}
        estimated += sum(1 for _, eta in alone.values() if eta is not None)
    assert estimated > 50  # filings in authority review, with estimates to compare
