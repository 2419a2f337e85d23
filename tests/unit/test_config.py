"""Settings and data files: every mistake is one line naming the file, the key and what is
allowed; `load_settings` says where each value came from."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from icp_tui.config import (
    SHIPPED_DATA,
    ConfigError,
    load_holidays,
    load_provinces,
    load_settings,
)

PROVINCE = '[[province]]\nname = "{name}"\naliases = [{aliases}]\nauthority_review_bd = 20\n'


@pytest.fixture(autouse=True)
def _no_outside_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No config of the machine's own may leak in.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ICP_TUI_DB", raising=False)
    monkeypatch.delenv("ICP_TUI_DATA", raising=False)
    monkeypatch.delenv("ICP_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_their_source() -> None:
    settings = load_settings()
    assert settings.config_file is None
    assert settings.db_path == Path("data/filings.json")
    assert settings.source("db_path") == "default"


def test_a_config_file_is_found_and_each_value_says_where_it_came_from(tmp_path: Path) -> None:
    write(tmp_path / "icp-tui.toml", 'database = "shared/filings.json"\nat_risk_fraction = 0.5\n')
    settings = load_settings()
    assert settings.db_path.resolve() == (tmp_path / "shared" / "filings.json").resolve()
    assert settings.at_risk_fraction == 0.5
    assert settings.source("at_risk_fraction") == "config icp-tui.toml"
    assert settings.source("refresh_seconds") == "default"


def test_the_database_option_and_variable_win_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "icp-tui.toml", 'database = "from-file.json"\n')
    monkeypatch.setenv("ICP_TUI_DB", "from-env.json")
    assert load_settings().source("db_path") == "$ICP_TUI_DB"
    settings = load_settings(db=Path("from-option.json"))
    assert (settings.db_path, settings.source("db_path")) == (Path("from-option.json"), "--db")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("colour = 1\n", "unknown key 'colour'"),
        ("refresh_seconds = 0.01\n", "refresh_seconds must be a number of seconds"),
        ("at_risk_fraction = 1.5\n", "at_risk_fraction must be a fraction"),
        ('theme = "sparkly"\n', "theme must be a Textual theme name"),
        ('withdraw_reasons = ["duplicate"]\n', 'ending with "other"'),
        ("[mailing]\naddress = 1\n", "[mailing] address must be a non-empty string"),
        ("database = [\n", "not valid TOML"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, text: str, says: str
) -> None:
    config = write(tmp_path / "team.toml", text)
    with pytest.raises(ConfigError) as wrong:
        load_settings(config)
    message = str(wrong.value)
    assert message.startswith(f"{config}: ") and says in message
    assert "\n" not in message


def test_a_named_config_file_that_is_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_the_shipped_data_files_load() -> None:
    provinces, default = load_provinces(SHIPPED_DATA / "provinces.toml")
    assert default == 20
    assert provinces.resolve("浙江省").name == "Zhejiang"
    assert provinces.authority_targets()["Zhejiang"] == 30


def test_a_province_entry_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"province #1: must be a \[\[province\]\] table"):
        load_provinces(write(tmp_path / "p.toml", 'province = ["Zhejiang"]\n'))


def test_an_alias_naming_another_province_is_refused(tmp_path: Path) -> None:
    text = PROVINCE.format(name="Beijing", aliases='"北京"') + PROVINCE.format(
        name="Hebei", aliases='"beijing"'
    )
    with pytest.raises(ConfigError, match="names both Beijing and Hebei"):
        load_provinces(write(tmp_path / "p.toml", text))


def test_holiday_overrides_take_dates_only(tmp_path: Path) -> None:
    good = write(tmp_path / "h.toml", "[2027]\nholidays = [2027-01-01]\nworkdays = [2027-02-06]\n")
    assert load_holidays(good)[2027].holidays == frozenset({date(2027, 1, 1)})
    # A TOML datetime is a date in Python too, and would silently never match a day.
    bad = write(tmp_path / "b.toml", "[2027]\nholidays = [2027-01-01T00:00:00]\n")
    with pytest.raises(ConfigError, match="list of dates"):
        load_holidays(bad)


def test_reference_data_is_the_shipped_set_unless_a_data_dir_has_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A ./data folder in the current directory plays no part any more.
    (tmp_path / "data").mkdir()
    write(tmp_path / "data" / "provinces.toml", "x = 1\n")
    settings = load_settings()
    assert settings.provinces_file == SHIPPED_DATA / "provinces.toml"
    assert settings.source("provinces_file") == "shipped default"

    team = tmp_path / "team"
    team.mkdir()
    write(team / "holidays.toml", "")
    write(tmp_path / "icp-tui.toml", 'data_dir = "team"\n')
    settings = load_settings()
    assert settings.holidays_file.resolve() == (team / "holidays.toml").resolve()
    assert settings.source("holidays_file") == "data_dir, config icp-tui.toml"
    assert settings.mailing_file == SHIPPED_DATA / "mailing.toml"  # file by file
    assert settings.holidays_advice(2027).startswith("add 2027 to ")
    assert str(settings.holidays_file) in settings.holidays_advice(2027)

    # The variable wins over the config file, like $ICP_TUI_DB.
    other = tmp_path / "other"
    other.mkdir()
    write(other / "mailing.toml", "")
    monkeypatch.setenv("ICP_TUI_DATA", str(other))
    settings = load_settings()
    assert settings.mailing_file == other / "mailing.toml"
    assert settings.source("data_dir") == "$ICP_TUI_DATA"


def test_without_a_data_dir_the_advice_says_how_to_set_one() -> None:
    advice = load_settings().holidays_advice(2027)
    assert "data_dir" in advice and "ICP_TUI_DATA" in advice
    assert str(SHIPPED_DATA) not in advice


def test_a_data_dir_that_is_not_a_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ICP_TUI_DATA", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match=r"nope: data_dir is not a folder \(\$ICP_TUI_DATA\)"):
        load_settings()


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED_DATA.glob("*.toml")))
def test_shipped_data_files_point_to_data_dir_not_a_checkouts_data_folder(name: str) -> None:
    # QA: provinces.toml sent staff to data/mailing.toml, a folder a normal install lacks.
    comments = [
        line for line in (SHIPPED_DATA / name).read_text("utf-8").splitlines() if "#" in line
    ]
    assert not [line for line in comments if "data/" in line]
    text = " ".join(line.lstrip("# ") for line in comments)
    assert "data_dir" in text and 'README "Reference data"' in text
