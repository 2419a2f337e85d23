"""A file database wakes its readers on file-change notifications, and falls back on polling
where they cannot be had."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from store_helpers import fid, new_db, noter, stopped_wait, wait_ready, worker

from icp_tui.store import FilingStore, WakesOnChange
from icp_tui.store.watching import FolderWatch


def waiting(path: Path) -> FilingStore:
    """A loaded handle whose first wait (which starts watching) is behind it."""
    store = FilingStore(path)
    store.load()
    assert store.wait_for_change(5.0)  # the first wait says "poll": the watch just began
    assert store.poll() == []
    return store


def commit_elsewhere(path: Path, count: int = 1) -> None:
    process = worker("notes", str(path), "9", str(count))
    wait_ready(process)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err


def test_a_change_in_another_process_wakes_a_waiting_handle(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store = waiting(path)
    assert isinstance(store, WakesOnChange)
    commit_elsewhere(path)
    assert store.wait_for_change(30.0)
    changed = store.poll()
    assert changed is not None and [f.notes[-1].text for f in changed] == ["p9-0"]


def test_a_compaction_elsewhere_wakes_it_too(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store = waiting(path)
    other = FilingStore(path)
    other.commit(fid(2), noter("folded"))
    assert store.wait_for_change(30.0)
    assert [f.id for f in store.poll() or []] == [fid(2)]
    other.compact()  # the base and the journal replaced by rename, no filing changed
    assert store.wait_for_change(30.0)
    assert store.poll() == []
    other.commit(fid(3), noter("after the compaction"))
    assert store.wait_for_change(30.0)
    assert [f.id for f in store.poll() or []] == [fid(3)]


def test_an_idle_handle_is_not_woken_and_reads_nothing(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    store = waiting(path)
    (tmp_path / "data" / "notes.txt").write_text("another file in the folder")
    read = store.bytes_read
    assert not store.wait_for_change(0.3)
    assert store.poll() == []
    assert store.bytes_read == read


def test_without_notifications_the_poll_still_delivers_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_inotify(self: FolderWatch) -> None:
        raise OSError(24, "inotify instance limit reached")

    monkeypatch.setattr(FolderWatch, "_start", no_inotify)
    path = new_db(tmp_path)
    store = FilingStore(path)
    store.load()
    started = time.monotonic()
    assert not store.wait_for_change(0.2)  # waits out its timeout rather than spin
    assert time.monotonic() - started >= 0.2
    assert store.notifications is not None and "inotify instance limit" in store.notifications
    commit_elsewhere(path)
    changed = store.poll()
    assert changed is not None and [f.notes[-1].text for f in changed] == ["p9-0"]


def test_without_notifications_a_stop_still_ends_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_inotify(self: FolderWatch) -> None:
        raise OSError(24, "inotify instance limit reached")

    monkeypatch.setattr(FolderWatch, "_start", no_inotify)
    store = FilingStore(new_db(tmp_path))
    store.load()
    assert stopped_wait(store) == [False]
