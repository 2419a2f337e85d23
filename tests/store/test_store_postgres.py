"""What only the PostgreSQL store has to prove, on a real server: its schema, the versions it
appends, read-only roles, lost connections, schema migration and what its messages hide.

What both stores share is in test_store_contract.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from pg_helpers import DATABASE, Postgres
from store_helpers import T0, fid, make_filing, noter

from icp_tui.domain.filing import Filing
from icp_tui.store import (
    DatabaseExists,
    DatabaseMissing,
    ReadOnlyDatabase,
    StaleChange,
    StoreError,
    journal,
)
from icp_tui.store.location import display_location, has_password
from icp_tui.store.postgres import PostgresStore


@pytest.fixture
def queue(postgres_uri: str) -> Iterator[str]:
    """A queue of three filings; its URI."""
    PostgresStore.create(postgres_uri, [make_filing(n) for n in (1, 2, 3)]).close()
    yield postgres_uri


@pytest.fixture
def handles() -> Iterator[list[PostgresStore]]:
    """Stores a test opens, closed afterwards (the server has a limited number of slots)."""
    opened: list[PostgresStore] = []
    yield opened
    for store in opened:
        store.close()


def opened(handles: list[PostgresStore], uri: str) -> PostgresStore:
    store = PostgresStore(uri)
    handles.append(store)
    store.load()
    return store


def schema_of(uri: str) -> str:
    return uri.rpartition("%3D")[2]


def rows(uri: str, query: str, *params: object) -> Any:
    """Run one statement in the queue's schema as the superuser; its rows if any."""
    with psycopg.connect(uri, autocommit=True) as conn:
        cursor = conn.execute(query, params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else None


def test_every_version_is_appended_in_the_same_transaction(
    queue: str, postgres: Postgres, handles: list[PostgresStore]
) -> None:
    store = opened(handles, queue)
    store.commit(fid(1), noter("one"))
    store.commit(fid(1), noter("two"))
    versions = rows(
        queue,
        "SELECT version, jsonb_array_length(record->'history') FROM filing_versions"
        " WHERE filing_id = %s ORDER BY version",
        fid(1),
    )
    assert versions == [(1, 1), (2, 2), (3, 3)]
    assert rows(queue, "SELECT version FROM filings WHERE id = %s", fid(1)) == [(3,)]


def test_init_refuses_an_existing_queue_and_overwrite_makes_dashboards_reload(
    queue: str, handles: list[PostgresStore]
) -> None:
    watching = opened(handles, queue)
    with pytest.raises(DatabaseExists, match="already holds an icp-tui queue"):
        PostgresStore.create(queue, [])
    assert watching.load() == 3
    PostgresStore.create(queue, [make_filing(7)], overwrite=True).close()
    assert watching.poll() is None  # replaced wholesale: read it all again
    assert watching.ids() == [fid(7)]


def test_a_missing_schema_says_how_to_create_it(
    postgres_uri: str, handles: list[PostgresStore]
) -> None:
    with pytest.raises(DatabaseMissing, match="icp-tui init"):
        opened(handles, postgres_uri)


def test_a_role_without_write_rights_opens_read_only(
    queue: str, postgres: Postgres, handles: list[PostgresStore]
) -> None:
    schema = schema_of(queue)
    postgres.execute(
        "DO $$ BEGIN CREATE ROLE icp_viewer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL;"
        " END $$"
    )
    postgres.execute(f"GRANT USAGE ON SCHEMA {schema} TO icp_viewer", database=DATABASE)
    postgres.execute(
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO icp_viewer", database=DATABASE
    )
    viewer = opened(handles, queue.replace("postgres@", "icp_viewer@"))
    assert viewer.read_only
    assert viewer.read_only_reason is not None and "icp_viewer" in viewer.read_only_reason
    assert viewer.get(fid(1)).version == 1
    with pytest.raises(ReadOnlyDatabase):
        viewer.commit(fid(1), noter("not allowed"))
    writer = opened(handles, queue)
    writer.commit(fid(1), noter("allowed"))
    assert [f.version for f in viewer.poll() or []] == [2]  # it still follows the queue
    PostgresStore.create(queue, [make_filing(9)], overwrite=True).close()
    assert viewer.poll() is None and viewer.ids() == [fid(9)]  # replacing kept the grants


def test_concurrent_changes_to_one_filing_are_checked_under_the_row_lock(
    queue: str, handles: list[PostgresStore]
) -> None:
    stores = [opened(handles, queue) for _ in range(4)]
    start = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def change(store: PostgresStore, n: int) -> None:
        start.wait(timeout=30)
        try:
            store.commit(fid(1), noter(f"from {n}", by=f"user{n}"), expected_version=1)
            outcomes.append("saved")
        except StaleChange as error:
            outcomes.append("refused" if "was changed by user" in str(error) else str(error))
        except Exception as error:  # the assertion below shows it
            outcomes.append(repr(error))

    threads = [threading.Thread(target=change, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "refused", "refused", "saved"]
    assert stores[0].poll() is not None
    assert stores[0].get(fid(1)).version == 2


def test_poll_catches_up_after_the_connection_was_lost(
    queue: str, postgres: Postgres, handles: list[PostgresStore]
) -> None:
    watching = opened(handles, queue)
    writer = opened(handles, queue)
    postgres.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'icp-tui' AND pid <> pg_backend_pid()"
    )
    writer.commit(fid(2), noter("while you were away"))  # reconnects: nothing was under way
    writer.commit(fid(3), noter("and this"))
    changed = watching.poll()
    assert changed is not None
    assert sorted((f.id, f.version) for f in changed) == [(fid(2), 2), (fid(3), 2)]


def test_a_change_cut_off_mid_transaction_is_absent(
    queue: str, postgres: Postgres, handles: list[PostgresStore]
) -> None:
    store = opened(handles, queue)

    def change_then_drop(filing: Filing) -> Filing:
        # The row is locked and the change made; the connection dies before it is saved.
        postgres.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'icp-tui' AND state LIKE 'idle in transaction%%'"
        )
        return noter("lost")(filing)

    with pytest.raises(StoreError, match="lost the connection") as lost:
        store.commit(fid(1), change_then_drop)
    assert "\n" not in str(lost.value)
    assert rows(queue, "SELECT count(*) FROM filing_versions WHERE filing_id = %s", fid(1)) == [
        (1,)
    ]
    assert store.commit(fid(1), noter("again")).version == 2  # and the next one reconnects


def test_an_older_schema_is_migrated_with_the_file_stores_migrations(
    queue: str, postgres: Postgres, handles: list[PostgresStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened(handles, queue).commit(fid(1), noter("before the upgrade"))
    rows(
        queue,
        "UPDATE filing_versions"
        " SET record = record - 'domain' || jsonb_build_object('site', record->'domain')",
    )
    monkeypatch.setattr(journal, "SCHEMA_VERSION", 2)

    def rename(tables: dict[str, Any]) -> dict[str, Any]:
        for record in tables["filings"].values():
            record["domain"] = record.pop("site")
        return tables

    monkeypatch.setitem(journal.MIGRATIONS, 1, rename)
    store = opened(handles, queue)
    assert store.get(fid(1)).domain == "site1.example.cn"
    assert store.get(fid(1)).notes[0].text == "before the upgrade"
    assert rows(queue, "SELECT value FROM icp_meta WHERE key = 'schema_version'") == [(2,)]
    assert rows(queue, "SELECT count(*) FROM filing_versions WHERE record ? 'site'") == [(0,)]
    assert not store.read_only


def test_a_newer_schema_opens_read_only(
    queue: str, postgres: Postgres, handles: list[PostgresStore]
) -> None:
    rows(queue, "UPDATE icp_meta SET value = 99 WHERE key = 'schema_version'")
    store = opened(handles, queue)
    assert store.read_only and "newer icp-tui (schema 99" in (store.read_only_reason or "")
    assert store.get(fid(2)).id == fid(2)


def test_passwords_stay_out_of_locations_and_messages(postgres: Postgres) -> None:
    uri = f"postgresql://postgres:s3cret-pw@/{DATABASE}?host=/nonexistent-socket-dir"
    assert has_password(uri) and not has_password(postgres.uri(DATABASE))
    assert "s3cret" not in display_location(uri)
    assert "s3cret" not in display_location(uri.replace(":s3cret-pw@", "@") + "&password=s3cret-pw")
    with pytest.raises(StoreError) as refused:
        PostgresStore(uri, connect_timeout=2).load()
    assert "s3cret" not in str(refused.value)
    assert "cannot connect to postgresql://postgres@/icp_tests" in str(refused.value)


def test_history_is_kept_in_time_order_across_handles(
    queue: str, handles: list[PostgresStore]
) -> None:
    a, b = opened(handles, queue), opened(handles, queue)
    a.commit(fid(1), noter("first", at=T0 + timedelta(minutes=1)))
    b.commit(fid(1), noter("second", by="bob", at=T0 + timedelta(minutes=2)))
    a.poll()
    assert [n.text for n in a.get(fid(1)).notes] == ["first", "second"]
    assert [t.by for t in a.get(fid(1)).history] == ["alice", "alice", "bob"]
