"""Fixtures shared by every test folder: the session's PostgreSQL server (see pg_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_helpers import Postgres, start_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One real PostgreSQL server for the whole session, started on first use."""
    yield from start_postgres()


@pytest.fixture
def postgres_uri(postgres: Postgres) -> Iterator[str]:
    """The URI of a fresh, empty place for a queue on the session's server (a schema of its
    own), removed after the test."""
    name, uri = postgres.new_queue()
    yield uri
    postgres.drop_queue(name)
