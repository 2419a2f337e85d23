"""The dashboard on a PostgreSQL queue: woken by NOTIFY, read-only for a role that may not
write, and the password never on screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_helpers import DATABASE, Postgres
from textual.widgets import Static
from ui_helpers import ACTOR, NOW, hand_filing, text_of, wait_for

from icp_tui.config import Reference, Settings
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import advance
from icp_tui.services import fixed_clock
from icp_tui.store.postgres import PostgresStore
from icp_tui.ui.app import IcpApp, make_app


@pytest.fixture
def queue(postgres_uri: str) -> Iterator[str]:
    filings = [hand_filing(1, Stage.PRELIMINARY_REVIEW), hand_filing(2, Stage.PHOTO_REVIEW)]
    PostgresStore.create(postgres_uri, filings).close()
    yield postgres_uri


def dashboard(uri: str, reference: Reference, refresh_seconds: float = 60.0) -> IcpApp:
    settings = Settings(db_path=uri, refresh_seconds=refresh_seconds)
    return make_app(uri, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR)


async def test_a_change_elsewhere_wakes_the_dashboard_before_its_next_refresh(
    queue: str, reference: Reference
) -> None:
    app = dashboard(queue, reference)  # a refresh only every minute: the NOTIFY must wake it
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table
        assert "postgresql://postgres@/icp_tests" in text_of(app.dashboard.query_one("#status"))
        other = PostgresStore(queue)
        other.commit("ICP-2026-00001", lambda f: advance(f, NOW, "bob", Stage.AWAITING_PHOTO))
        other.close()
        await wait_for(
            pilot,
            lambda: {e.id: e.stage for e in table.rows}["ICP-2026-00001"] is Stage.AWAITING_PHOTO,
            timeout=30.0,
        )
    app.service.store.close()  # type: ignore[attr-defined]


async def test_a_role_without_write_rights_gets_the_read_only_banner(
    queue: str, postgres: Postgres, reference: Reference
) -> None:
    schema = queue.rpartition("%3D")[2]
    postgres.execute(
        "DO $$ BEGIN CREATE ROLE icp_viewer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL;"
        " END $$"
    )
    postgres.execute(f"GRANT USAGE ON SCHEMA {schema} TO icp_viewer", database=DATABASE)
    postgres.execute(
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO icp_viewer", database=DATABASE
    )
    app = dashboard(queue.replace("postgres@", "icp_viewer@"), reference)
    assert app.service.store.read_only
    async with app.run_test(size=(80, 24)):
        banner = app.dashboard.query_one("#banner", Static)
        assert banner.display and "Read-only" in text_of(banner) and "icp_viewer" in text_of(banner)
        assert "READ-ONLY" in text_of(app.dashboard.query_one("#status", Static))
    app.service.store.close()  # type: ignore[attr-defined]


async def test_a_database_restart_is_in_the_banner_and_the_dashboard_catches_up(
    queue: str, postgres: Postgres, reference: Reference
) -> None:
    app = dashboard(queue, reference, refresh_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.dashboard.query_one("#banner", Static)
        table = app.dashboard.table
        try:
            postgres.crash()
            await wait_for(pilot, lambda: "Cannot refresh" in text_of(banner), timeout=30.0)
        finally:
            postgres.start()
        other = PostgresStore(queue)
        other.commit(
            "ICP-2026-00002", lambda f: advance(f, NOW, "bob", Stage.RETURNED, "materials missing")
        )
        other.close()
        await wait_for(pilot, lambda: "Cannot refresh" not in text_of(banner), timeout=30.0)
        await wait_for(
            pilot,
            lambda: {e.id: e.stage for e in table.rows}["ICP-2026-00002"] is Stage.RETURNED,
            timeout=30.0,
        )
    app.service.store.close()  # type: ignore[attr-defined]
