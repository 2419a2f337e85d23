"""Settings and the editable data files (provinces, holiday overrides, mailing address).

Everything the tool reads besides the database is loaded and checked here, so a mistake in a
file is reported once, as one line naming the file and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from icp_tui.domain.calendar import BusinessCalendar, YearSchedule
from icp_tui.domain.errors import IcpError
from icp_tui.domain.provinces import MailingAddress, Province, ProvinceTable
from icp_tui.domain.sla import DEFAULT_AUTHORITY_TARGET_BD, SlaPolicy
from icp_tui.domain.stages import WITHDRAW_REASONS

#: The data files shipped with the project (used when ./data has none).
PROJECT_DATA = Path(__file__).resolve().parent.parent / "data"


class ConfigError(IcpError):
    """A settings or data file is missing or wrong."""


def data_file(name: str) -> Path:
    """`name` in ./data if staff keep their own copy there, else the project's data folder."""
    local = Path("data") / name
    return local if local.is_file() else PROJECT_DATA / name


@dataclass(frozen=True)
class Settings:
    """What a run of the tool uses; issue-level defaults, overridable by config and options."""

    db_path: Path = Path("data/filings.json")
    provinces_file: Path = field(default_factory=lambda: data_file("provinces.toml"))
    holidays_file: Path = field(default_factory=lambda: data_file("holidays.toml"))
    mailing_file: Path = field(default_factory=lambda: data_file("mailing.toml"))
    refresh_seconds: float = 1.0
    at_risk_fraction: float = 0.75
    withdraw_reasons: tuple[str, ...] = WITHDRAW_REASONS


def default_db_path() -> Path:
    """`$ICP_TUI_DB`, else data/filings.json under the current directory."""
    return Path(os.environ.get("ICP_TUI_DB") or "data/filings.json")


@dataclass(frozen=True)
class Reference:
    """The reference data the domain needs: provinces, calendar, SLA policy, mailing address."""

    provinces: ProvinceTable
    calendar: BusinessCalendar
    policy: SlaPolicy
    mailing: MailingAddress
    holidays_file: Path


def load_reference(settings: Settings) -> Reference:
    """Read and check the data files named by `settings`."""
    provinces, default_target = load_provinces(settings.provinces_file)
    calendar = BusinessCalendar(load_holidays(settings.holidays_file))
    policy = SlaPolicy(
        calendar=calendar,
        authority_targets=provinces.authority_targets(),
        default_authority_target=default_target,
        at_risk_fraction=settings.at_risk_fraction,
    )
    return Reference(
        provinces, calendar, policy, load_mailing(settings.mailing_file), settings.holidays_file
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def load_provinces(path: Path) -> tuple[ProvinceTable, int]:
    """The province table and the default authority review target from `path`."""
    doc = _read_toml(path)
    default = doc.get("default_authority_review_bd", DEFAULT_AUTHORITY_TARGET_BD)
    if type(default) is not int or not 1 <= default <= 200:
        raise ConfigError(f"{path}: default_authority_review_bd must be a whole number of days")
    entries = doc.get("province")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[province]] entries")
    provinces = []
    for i, entry in enumerate(entries, start=1):
        where = f"{path}: province #{i}"
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: 'name' must be a non-empty string")
        target = entry.get("authority_review_bd", default)
        if type(target) is not int or not 1 <= target <= 200:
            raise ConfigError(f"{where} ({name}): 'authority_review_bd' must be 1 to 200 days")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ConfigError(f"{where} ({name}): 'aliases' must be a list of strings")
        mailing = entry.get("requires_mailing", False)
        if not isinstance(mailing, bool):
            raise ConfigError(f"{where} ({name}): 'requires_mailing' must be true or false")
        provinces.append(Province(name, tuple(aliases), target, mailing))
    return ProvinceTable(provinces), default


def load_holidays(path: Path) -> dict[int, YearSchedule]:
    """Staff-given whole-year schedules from `path` (a missing file means none)."""
    if not path.exists():
        return {}
    schedules = {}
    for key, table in _read_toml(path).items():
        if not key.isdigit() or not isinstance(table, dict):
            raise ConfigError(f"{path}: expected [YEAR] tables, found {key!r}")
        year = int(key)
        days: dict[str, frozenset[date]] = {}
        for kind in ("holidays", "workdays"):
            values = table.get(kind, [])
            if not isinstance(values, list) or not all(isinstance(v, date) for v in values):
                raise ConfigError(f"{path}: [{year}] {kind} must be a list of dates (YYYY-MM-DD)")
            if any(v.year != year for v in values):
                raise ConfigError(f"{path}: [{year}] {kind} has a date outside {year}")
            days[kind] = frozenset(values)
        schedules[year] = YearSchedule(days["holidays"], days["workdays"])
    return schedules


def load_mailing(path: Path) -> MailingAddress:
    """The mailing address for verification materials."""
    doc = _read_toml(path)
    values = {}
    for key in ("address", "addressee", "phone", "postal_code"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: {key!r} must be a non-empty string")
        values[key] = value
    return MailingAddress(**values, hours=str(doc.get("hours", "")))
