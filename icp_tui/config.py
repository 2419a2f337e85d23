"""Settings and the editable data files (provinces, holiday overrides, mailing address).

Everything the tool reads besides the database is loaded and checked here, so a mistake in a
file is reported once, as one line naming the file and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from icp_tui.domain.calendar import BusinessCalendar, YearSchedule, check_year_schedule
from icp_tui.domain.errors import IcpError, InvalidInput
from icp_tui.domain.estimate import DEFAULT_WINDOW_DAYS
from icp_tui.domain.provinces import MailingAddress, Province, ProvinceTable
from icp_tui.domain.query import QueryError, parse_query
from icp_tui.domain.sla import DEFAULT_AUTHORITY_TARGET_BD, SlaPolicy
from icp_tui.domain.stages import WITHDRAW_REASONS, ReasonLists
from icp_tui.store.location import Location, database_location, is_postgres_uri

#: The reference data shipped inside the package: used for each file the team's data_dir lacks.
SHIPPED_DATA = Path(__file__).resolve().parent / "defaults"
#: The reference data files, as the settings name them (key) and as they sit in a folder.
REFERENCE_FILES = {
    "provinces_file": "provinces.toml",
    "holidays_file": "holidays.toml",
    "mailing_file": "mailing.toml",
    "reasons_file": "reasons.toml",
    "expiry_file": "expiry.toml",
}


class ConfigError(IcpError):
    """A settings or data file is missing or wrong."""


@dataclass(frozen=True)
class Settings:
    """What a run of the tool uses, and where each value came from (`icp-tui config`)."""

    #: A database file, or a postgresql:// URI (a str: see store/location.py).
    db_path: Location = Path("data/filings.json")
    #: The team's reference data folder: its files override the shipped ones, file by file.
    data_dir: Path | None = None
    provinces_file: Path = SHIPPED_DATA / "provinces.toml"
    holidays_file: Path = SHIPPED_DATA / "holidays.toml"
    mailing_file: Path = SHIPPED_DATA / "mailing.toml"
    reasons_file: Path = SHIPPED_DATA / "reasons.toml"
    expiry_file: Path = SHIPPED_DATA / "expiry.toml"
    mailing: MailingAddress | None = None
    refresh_seconds: float = 1.0
    at_risk_fraction: float = 0.75
    #: The approval estimate counts the authority reviews decided in this many last days.
    review_window_days: int = DEFAULT_WINDOW_DAYS
    theme: str = "textual-dark"
    withdraw_reasons: tuple[str, ...] = WITHDRAW_REASONS
    #: Saved views, in the file's order: (name, query). Keys 7, 8 and 9 open the first three.
    views: tuple[tuple[str, str], ...] = ()
    #: Ring the terminal bell when a filing breaches while the dashboard is open.
    bell_on_breach: bool = False
    #: This user's dashboard state (last view, sort, filter); None: nothing is kept.
    state_file: Path | None = None
    config_file: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def source(self, key: str) -> str:
        return self.sources.get(key, "default")

    def view_query(self, name: str) -> str:
        """The query of the saved view `name` (any case); InvalidInput naming the views."""
        for known, query in self.views:
            if known.casefold() == name.strip().casefold():
                return query
        names = ", ".join(known for known, _ in self.views) or "none: add [views] to the config"
        raise InvalidInput(f"no saved view {name!r} (views: {names})")

    def holidays_advice(self, year: int) -> str:
        """Where staff add `year`'s official schedule: never a path inside the package."""
        if self.holidays_file.parent != SHIPPED_DATA:
            return f"add {year} to {self.holidays_file}"
        if self.data_dir is not None:
            return f"add {year} to {self.data_dir / 'holidays.toml'}"
        return (
            f"add {year} to holidays.toml in the team's data folder "
            "(set data_dir in the config file, or $ICP_TUI_DATA)"
        )


def config_candidates(explicit: Path | None) -> list[Path]:
    """Where the config file is looked for, in order (the first that exists is used)."""
    if explicit is not None:
        return [explicit]
    found = []
    if os.environ.get("ICP_TUI_CONFIG"):
        found.append(Path(os.environ["ICP_TUI_CONFIG"]))
    found.append(Path("icp-tui.toml"))
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    found.append(Path(xdg) / "icp-tui" / "config.toml")
    found.append(Path("/etc/icp-tui/config.toml"))
    return found


_KEYS = {
    "database": "a file path or a postgresql:// URI",
    "data_dir": "a folder path (its reference data files override the shipped ones)",
    "refresh_seconds": "a number of seconds from 0.2 to 60",
    "at_risk_fraction": "a fraction above 0 and below 1 (0.75 = at risk from 75 % used)",
    "review_window_days": "a whole number of days from 1 to 3650",
    "theme": "a Textual theme name, e.g. textual-dark, textual-light, nord, gruvbox",
    "provinces_file": "a file path",
    "holidays_file": "a file path",
    "mailing_file": "a file path",
    "reasons_file": "a file path",
    "expiry_file": "a file path",
    "mailing": "a table with address, addressee, phone, postal_code and optional hours",
    "withdraw_reasons": 'a list of non-empty strings ending with "other"',
    "views": 'a table of saved views, each a name and a query (e.g. late = "health:breached")',
    "bell_on_breach": "true or false (ring the terminal bell when a filing breaches)",
}


def load_settings(config: Path | None = None, db: Location | None = None) -> Settings:
    """Settings from the config file (if any), then `$ICP_TUI_DB`, then `--db`."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    used = next((p for p in config_candidates(config) if p.is_file()), None)
    if config is not None and used is None:
        raise ConfigError(f"{config}: config file not found")
    if used is not None:
        values = _settings_from_file(used)
        sources = {key: f"config {used}" for key in values}
    if os.environ.get("ICP_TUI_DATA"):
        values["data_dir"] = Path(os.environ["ICP_TUI_DATA"]).expanduser()
        sources["data_dir"] = "$ICP_TUI_DATA"
    _reference_files(values, sources)
    if os.environ.get("ICP_TUI_DB"):
        values["db_path"] = database_location(os.environ["ICP_TUI_DB"])
        sources["db_path"] = "$ICP_TUI_DB"
    if db is not None:
        values["db_path"] = db
        sources["db_path"] = "--db"
    return Settings(**values, state_file=user_state_file(), config_file=used, sources=sources)


def user_state_file() -> Path:
    """Where the dashboard keeps this user's state: the XDG state folder, never the database's."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "icp-tui" / "dashboard.json"


def _reference_files(values: dict[str, Any], sources: dict[str, str]) -> None:
    """Each reference file: as the config names it, else from data_dir if there, else shipped."""
    data_dir: Path | None = values.get("data_dir")
    if data_dir is not None and not data_dir.is_dir():
        raise ConfigError(f"{data_dir}: data_dir is not a folder ({sources['data_dir']})")
    for key, name in REFERENCE_FILES.items():
        if key in values:
            continue
        if data_dir is not None and (data_dir / name).is_file():
            values[key] = data_dir / name
            sources[key] = f"data_dir, {sources['data_dir']}"
        else:
            sources[key] = "shipped default"


def _settings_from_file(path: Path) -> dict[str, Any]:
    doc = _read_toml(path)
    values: dict[str, Any] = {}
    here = path.parent

    def wrong(key: str) -> ConfigError:
        return ConfigError(f"{path}: {key} must be {_KEYS[key]}, not {doc[key]!r}")

    for key, value in doc.items():
        if key not in _KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(_KEYS)})")
        if key in ("database", "data_dir", *REFERENCE_FILES):
            if not isinstance(value, str) or not value.strip():
                raise wrong(key)
            name = "db_path" if key == "database" else key
            if key == "database" and is_postgres_uri(value):
                values[name] = value  # a URI, not a path beside the config file
            else:
                values[name] = here / Path(value).expanduser()
        elif key == "refresh_seconds":
            if type(value) not in (int, float) or not 0.2 <= value <= 60:
                raise wrong(key)
            values[key] = float(value)
        elif key == "at_risk_fraction":
            if type(value) not in (int, float) or not 0 < value < 1:
                raise wrong(key)
            values[key] = float(value)
        elif key == "review_window_days":
            if type(value) is not int or not 1 <= value <= 3650:
                raise wrong(key)
            values[key] = value
        elif key == "theme":
            if not isinstance(value, str) or value not in _theme_names():
                raise wrong(key)
            values[key] = value
        elif key == "withdraw_reasons":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v.strip() for v in value)
                or value[-1] != "other"
            ):
                raise wrong(key)
            values[key] = tuple(value)
        elif key == "mailing":
            if not isinstance(value, dict):
                raise wrong(key)
            values[key] = _mailing(path, value, "[mailing] ")
        elif key == "views":
            values[key] = _views(path, value, wrong(key))
        elif key == "bell_on_breach":
            if not isinstance(value, bool):
                raise wrong(key)
            values[key] = value
    return values


def _views(path: Path, value: Any, wrong: ConfigError) -> tuple[tuple[str, str], ...]:
    """[views]: name = "query"; each query is checked now (its provinces when used)."""
    if not isinstance(value, dict):
        raise wrong
    views = []
    for name, query in value.items():
        if not isinstance(query, str) or not name.strip():
            raise ConfigError(f"{path}: [views] {name!r} must be a query in quotes")
        try:
            parse_query(query)
        except QueryError as error:
            raise ConfigError(f"{path}: [views] {name}: {error}") from None
        views.append((name.strip(), query))
    return tuple(views)


def _theme_names() -> set[str]:
    from textual.theme import BUILTIN_THEMES  # only when a config names a theme

    return set(BUILTIN_THEMES)


@dataclass(frozen=True)
class Reference:
    """The reference data the domain needs: provinces, calendar, SLA policy, mailing address."""

    provinces: ProvinceTable
    calendar: BusinessCalendar
    policy: SlaPolicy
    mailing: MailingAddress
    #: Return and rejection reasons offered to staff.
    reasons: ReasonLists
    #: Where to add a year's official schedule (see `Settings.holidays_advice`).
    holidays_advice: Callable[[int], str]
    #: The approval estimate's window: reviews decided in this many last days count.
    review_window_days: int = DEFAULT_WINDOW_DAYS


def load_reference(settings: Settings) -> Reference:
    """Read and check the data files named by `settings`."""
    provinces, default_target = load_provinces(settings.provinces_file)
    calendar = BusinessCalendar(load_holidays(settings.holidays_file))
    expire_after, shown_from = load_expiry(settings.expiry_file)
    policy = SlaPolicy(
        calendar=calendar,
        authority_targets=provinces.authority_targets(),
        default_authority_target=default_target,
        at_risk_fraction=settings.at_risk_fraction,
        expire_after_days=expire_after,
        expiry_shown_from_days=shown_from,
    )
    mailing = settings.mailing or load_mailing(settings.mailing_file)
    reasons = replace(load_reasons(settings.reasons_file), withdrawn=settings.withdraw_reasons)
    return Reference(
        provinces,
        calendar,
        policy,
        mailing,
        reasons,
        settings.holidays_advice,
        settings.review_window_days,
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
        # A person edits these files: what is wrong and where helps ("invalid value (at line
        # 1, column 19)"), in the sentence rather than in parentheses of its own.
        said = str(error)
        raise ConfigError(f"{path}: not valid TOML: {said[:1].lower()}{said[1:]}") from None


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
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a [[province]] table")
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
    seen: dict[str, str] = {}
    for province in provinces:
        for key in (province.name, *province.aliases):
            other = seen.setdefault(key.casefold(), province.name)
            if other != province.name:
                raise ConfigError(f"{path}: {key!r} names both {other} and {province.name}")
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
            # type() not isinstance(): a TOML datetime is a date too, and would never match a day.
            if not isinstance(values, list) or not all(type(v) is date for v in values):
                raise ConfigError(f"{path}: [{year}] {kind} must be a list of dates (YYYY-MM-DD)")
            if any(v.year != year for v in values):
                raise ConfigError(f"{path}: [{year}] {kind} has a date outside {year}")
            days[kind] = frozenset(values)
        schedule = YearSchedule(days["holidays"], days["workdays"])
        try:
            check_year_schedule(year, schedule)
        except InvalidInput as error:
            raise ConfigError(f"{path}: {error}") from None
        schedules[year] = schedule
    return schedules


def load_reasons(path: Path) -> ReasonLists:
    """The return and rejection reasons offered to staff."""
    doc = _read_toml(path)
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("returned", "rejected"):
        values = doc.get(key)
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v.strip() for v in values)
        ):
            raise ConfigError(f"{path}: {key} must be a non-empty list of reasons (strings)")
        lists[key] = tuple(values)
    unknown = set(doc) - set(lists)
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r} (known: returned, rejected)")
    return ReasonLists(lists["returned"], lists["rejected"])


def load_expiry(path: Path) -> tuple[int, int]:
    """Order expiry: days after the first submission when it expires, and when the countdown
    is shown from."""
    doc = _read_toml(path)
    expire, shown = doc.get("expire_after_days"), doc.get("shown_from_days")
    if type(expire) is not int or not 1 <= expire <= 3650:
        raise ConfigError(f"{path}: expire_after_days must be a whole number of days from 1")
    if type(shown) is not int or not 0 <= shown <= expire:
        raise ConfigError(
            f"{path}: shown_from_days must be a whole number of days from 0 to expire_after_days"
        )
    unknown = set(doc) - {"expire_after_days", "shown_from_days"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    return expire, shown


def load_mailing(path: Path) -> MailingAddress:
    """The mailing address for verification materials."""
    return _mailing(path, _read_toml(path))


def _mailing(path: Path, doc: dict[str, Any], where: str = "") -> MailingAddress:
    values = {}
    for key in ("address", "addressee", "phone", "postal_code"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: {where}{key} must be a non-empty string")
        values[key] = value
    hours = doc.get("hours", "")
    if not isinstance(hours, str):
        raise ConfigError(f"{path}: {where}hours must be a string")
    unknown = set(doc) - {*values, "hours"}
    if unknown:
        raise ConfigError(f"{path}: {where}unknown key {sorted(unknown)[0]!r}")
    return MailingAddress(**values, hours=hours)
