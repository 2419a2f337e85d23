"""Where a database is: a file path, or a PostgreSQL connection URI (postgresql://...).

Kept apart from postgres.py so that choosing a store, and naming it in messages, needs no
database driver: psycopg is only imported by a team that uses PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

#: A database file, or the URI of a PostgreSQL database.
Location = Path | str
#: The schemes of a PostgreSQL connection URI (libpq accepts both).
URI_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_uri(location: object) -> bool:
    """Whether `location` names a PostgreSQL database rather than a file."""
    return isinstance(location, str) and location.startswith(URI_SCHEMES)


def database_location(text: str) -> Location:
    """A URI as given (a Path would fold its `//`), else a file path."""
    return text if is_postgres_uri(text) else Path(text)


def display_location(location: Location) -> str:
    """The location for people to read: a URI without its password (in the user part or as a
    `password=` parameter)."""
    if not isinstance(location, str):
        return str(location)
    try:
        parts = urlsplit(location)
    except ValueError:
        return "postgresql://(unreadable URI)"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}@{host}"
    query = "&".join(item for item in parts.query.split("&") if not item.startswith("password="))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def location_name(location: Location) -> str:
    """The location in a few words, for a header: a URI without its password and parameters
    (the database name is what tells two queues apart)."""
    shown = display_location(location)
    return shown.partition("?")[0] if isinstance(location, str) else shown


def has_password(location: Location | None) -> bool:
    """Whether a URI itself carries a password (rather than leaving it to a password file)."""
    if not isinstance(location, str):
        return False
    try:
        parts = urlsplit(location)
    except ValueError:
        return False
    user = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    return bool(user.partition(":")[2]) or any(
        k == "password" and v for k, v in parse_qsl(parts.query)
    )
