"""`list/export/report --query` and `--view`: the query language on the command line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import USER, Runner, ok, unchanged, usage_error


@pytest.fixture
def demo(run: Runner) -> Runner:
    ok(run("demo", "--count", "120", "--seed", "4"))
    return run


def out_json(result: subprocess.CompletedProcess[str]) -> Any:
    """Stdout as JSON (demo filings due in 2027 bring a provisional-year warning on stderr)."""
    assert result.returncode == 0, (result.returncode, result.stderr)
    return json.loads(result.stdout)


def listed(run: Runner, *args: str) -> list[dict]:
    return out_json(run("list", "--json", *args))


def test_list_query_selects_by_field_and_word(demo: Runner) -> None:
    everything = listed(demo)
    breached = listed(demo, "--query", "health:breached")
    assert breached and {f["health"] for f in breached} == {"breached"}
    assert [f["id"] for f in breached] == [f["id"] for f in everything if f["health"] == "breached"]
    not_breached = listed(demo, "--query=-health:br")  # a leading - needs the = form
    assert len(breached) + len(not_breached) == len(everything)
    zhejiang = listed(demo, "--query", "province:浙江 -health:done")
    assert zhejiang
    assert {(f["province"], f["health"] != "done") for f in zhejiang} == {("Zhejiang", True)}
    domain = everything[0]["domain"]
    assert [f["domain"] for f in listed(demo, "--query", f'"{domain}"')] == [domain]


def test_assignee_me_is_the_user_running_it(run: Runner) -> None:
    ok(run("init"))
    ids = [ok(run("add", "--domain", f"d{i}.cn", "--entity", "E", "--province", "Beijing")).strip()
           for i in range(3)]  # fmt: skip
    ok(run("assign", ids[1], USER))
    assert run("assign", ids[2], "somebody-else").returncode == 0  # warns: a new name
    assert [f["id"] for f in listed(run, "--query", "assignee:me")] == [ids[1]]
    assert [f["id"] for f in listed(run, "--query", "assignee:none")] == [ids[0]]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("colour:red", "unknown field colour"),
        ("health:late", "health takes breached, at_risk"),
        ('"unterminated', '"unterminated: the quote is not closed'),
    ],
)
@pytest.mark.parametrize("command", ["list", "export", "report"])
def test_a_bad_query_exits_2_says_what_is_allowed_and_changes_nothing(
    demo: Runner, tmp_path: Path, command: str, query: str, says: str
) -> None:
    same = unchanged(tmp_path)
    out = tmp_path / "out.csv"
    extra = ("-o", str(out)) if command == "export" else ()
    result = demo(command, "--query", query, *extra)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    same()


def test_export_query_writes_only_what_it_selects(demo: Runner, tmp_path: Path) -> None:
    out = tmp_path / "late.csv"
    assert demo("export", "--query", "health:breached", "-o", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    expected = [f["id"] for f in listed(demo, "--query", "health:breached")]
    assert rows and [r["id"] for r in rows] == expected
    as_json_rows = out_json(demo("export", "--format", "json", "--query", "health:br"))
    assert [r["id"] for r in as_json_rows] == expected


def test_report_query_counts_only_what_it_selects(demo: Runner) -> None:
    whole = out_json(demo("report", "--format", "json"))
    waiting = out_json(demo("report", "--format", "json", "--query", "health:waiting"))
    assert whole["breached_count"] > 0
    assert waiting["breached_count"] == 0
    assert 0 < waiting["total"] < whole["total"], (waiting["total"], whole["total"])
    assert waiting["total"] == len(listed(demo, "--query", "health:waiting"))


def config_with_views(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "views.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_list_view_uses_the_saved_query(demo: Runner, tmp_path: Path) -> None:
    config = config_with_views(
        tmp_path, '[views]\n"late ones" = "health:breached"\nsoon = "due:<2bd"\n'
    )
    late = listed(demo, "--config", str(config), "--view", "late ones")
    assert late == listed(demo, "--query", "health:breached")
    # --view and --query together: both hold.
    both = listed(demo, "--config", str(config), "--view", "LATE ONES", "--query", "escalate:yes")
    assert both == listed(demo, "--query", "health:breached escalate:yes")
    result = demo("list", "--config", str(config), "--view", "nope")
    assert result.returncode == 2
    assert "no saved view 'nope' (views: late ones, soon)" in result.stderr
    assert "late ones = health:breached" in demo("config", "--config", str(config)).stdout


def test_a_bad_saved_view_is_refused_naming_the_file(run: Runner, tmp_path: Path) -> None:
    config = config_with_views(tmp_path, '[views]\nbroken = "health:late"\n')
    result = run("list", "--config", str(config))
    assert result.returncode == 1
    assert str(config) in result.stderr and "[views] broken: health:late" in result.stderr


def test_query_is_a_usage_option_of_list_only_with_a_value(demo: Runner) -> None:
    usage_error(demo("list", "--query"))
