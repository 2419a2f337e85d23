"""No markup or escape injection: hostile text is stored exactly and always shown inert.

In-process properties check display.inert, the table's cell fitting and Rich rendering; the
command-line properties store hostile domains, entities, notes, assignees and reasons with the
real CLI, then read them back with `show --json` (exact) and `show` / `list` (inert).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hostile_helpers import (
    BIDI,
    C0,
    C1,
    FORBIDDEN,
    Result,
    arg_text,
    decode_inert,
    hostile_text,
    raw_controls,
    run_cli,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from icp_tui.config import Settings, load_reference
from icp_tui.display import inert, inert_json
from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import check_domain
from icp_tui.ui.table import fit

# -- display.inert, in process ---------------------------------------------------------------


@given(hostile_text(max_pieces=30))
def test_inert_leaves_no_control_escape_or_bidi_character(text: str) -> None:
    shown = inert(text)
    assert not raw_controls(shown), (text, shown)
    kept = inert(text, keep_newlines=True)
    assert not raw_controls(kept, allow_newline=True), (text, kept)
    assert kept.count("\n") == text.count("\n")


@given(hostile_text(max_pieces=30).map(lambda s: s.replace("\\", "/")))
def test_inert_shows_every_character_so_it_can_be_read_back(text: str) -> None:
    """Injective on text without backslashes: each hidden character has a visible spelling."""
    assert decode_inert(inert(text)) == text
    assert decode_inert(inert(text, keep_newlines=True)) == text


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("\x1b", "\\x1b"),
        ("\x00", "\\x00"),
        ("\x07", "\\x07"),
        ("\x7f", "\\x7f"),
        ("\x9b", "\\x9b"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\u202e", "\\u202e"),
        ("\u2066", "\\u2066"),
    ],
)
def test_each_hidden_character_has_a_visible_spelling(raw: str, visible: str) -> None:
    assert inert(f"a{raw}b") == f"a{visible}b"


def test_every_c0_c1_del_and_bidi_character_is_made_visible() -> None:
    for char in sorted(FORBIDDEN):
        shown = inert(char)
        assert shown.startswith("\\") and len(shown) > 1, repr(char)
    assert C0 | C1 | BIDI <= FORBIDDEN


@given(hostile_text(max_pieces=20), st.integers(min_value=1, max_value=60))
def test_a_cell_is_exactly_its_width_with_an_ellipsis_when_cut(text: str, width: int) -> None:
    shown = inert(text)
    cell = fit(shown, width)
    assert cell_len(cell) == width, (shown, width, cell)
    assert not raw_controls(cell)
    if cell_len(shown) > width:
        assert "…" in cell, (shown, width, cell)
        head = cell.rstrip(" ").removesuffix("…")
        assert shown.startswith(head), (shown, cell)
    else:
        assert cell.startswith(shown)


@given(hostile_text(max_pieces=20))
def test_rich_prints_inert_text_as_the_characters_it_is(text: str) -> None:
    """Built as a Text (never markup), `[red]` and `[@click=...]` are printed, not run."""
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    console.print(Text(inert(text)), soft_wrap=True)
    assert out.getvalue() == inert(text) + "\n"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | hostile_text(max_pieces=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(hostile_text(max_pieces=3), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_json_output_is_the_same_value_without_raw_control_characters(value: object) -> None:
    dumped = inert_json(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(dumped) == value
    assert not raw_controls(dumped, allow_newline=True), dumped


# -- through the command line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory, private: Path) -> Path:
    """An empty database shared by the command-line properties (filings accumulate)."""
    folder = tmp_path_factory.mktemp("inert-cli")
    db = folder / "db" / "filings.json"
    result = run_cli(["init"], cwd=folder, private=private, db=db)
    assert result.returncode == 0, str(result)
    return db


def _ok(result: Result) -> str:
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    return result.stdout


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    domain=arg_text(),
    entity=arg_text(),
    note=arg_text(max_pieces=20),
    user=arg_text(max_pieces=4),
    why=arg_text(),
    reason=arg_text(),
)
def test_hostile_text_is_stored_exactly_and_shown_inert_by_every_command(
    cli_db: Path,
    private: Path,
    domain: str,
    entity: str,
    note: str,
    user: str,
    why: str,
    reason: str,
) -> None:
    def cli(*args: str) -> str:
        return _ok(run_cli(list(args), cwd=cli_db.parent, private=private, db=cli_db))

    # Reasons are matched against the listed ones (a listed reason, or the start of one);
    # the start of several is refused, so it is not hostile text's subject here.
    reasons = load_reference(Settings()).reasons
    try:
        kept = [reasons.chosen(Stage.RETURNED, why), reasons.chosen(Stage.WITHDRAWN, reason)]
    except InvalidInput:
        assume(False)

    # A domain must be a host name (issue 12): a hostile one is refused, in one inert line.
    try:
        check_domain(domain)
    except InvalidInput:
        refused = run_cli(
            ["add", f"--domain={domain}", f"--entity={entity}", "--province=Beijing"],
            cwd=cli_db.parent,
            private=private,
            db=cli_db,
        )
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, str(refused)
        assert not raw_controls(refused.stderr, allow_newline=True), str(refused)
    domain = "hostile.example.cn"
    out = cli("add", f"--domain={domain}", f"--entity={entity}", "--province=Beijing")
    filing_id = out.strip()
    assert out == filing_id + "\n" and filing_id.startswith("ICP-")
    assert cli("note", filing_id, "--", note) == f"note added to {filing_id}\n"
    # A name seen in no history is assigned with a warning on stderr: inert, one line.
    assigned = run_cli(
        ["assign", filing_id, "--", user], cwd=cli_db.parent, private=private, db=cli_db
    )
    assert assigned.returncode == 0, str(assigned)
    assert assigned.stderr.count("\n") <= 1, str(assigned)
    assert not raw_controls(assigned.stderr, allow_newline=True), str(assigned)
    said = assigned.stdout
    assert not raw_controls(said, allow_newline=True), said
    assert said.count("\n") == 1
    said = cli("advance", filing_id, "--to=returned", f"--reason={why}")
    assert said == f"{filing_id} moved from 'preliminary' to 'returned' ({inert(kept[0])})\n"
    said = cli("withdraw", filing_id, f"--reason={reason}")
    assert said == f"{filing_id} withdrawn from 'returned' ({inert(kept[1])})\n"

    # Stored exactly as given.
    dumped = cli("show", filing_id, "--json")
    assert not raw_controls(dumped, allow_newline=True), dumped
    record = json.loads(dumped)
    assert record["domain"] == domain
    assert record["entity"] == entity
    assert [n["text"] for n in record["notes"]] == [note]
    assert record["assignee"] == (None if user in ("-", "") else user)
    moves = [h for h in record["history"][1:] if h["from"] != h["to"]]
    # A reason that is not listed is kept as free text after "other: " (issue 12).
    assert [h["reason"] for h in moves] == kept

    # Shown inert: no raw control, escape or bidi character, and each line in its place.
    shown = cli("show", filing_id)
    assert not raw_controls(shown, allow_newline=True), shown
    lines = shown.split("\n")
    assert lines[0] == f"{filing_id}  {inert(domain)}  (version 5)"
    assert lines[1].startswith(f"entity:    {inert(entity)} (company)")
    assert shown.endswith(f": {inert(note)}\n")
    assert inert(kept[0]) in shown and inert(kept[1]) in shown
    assert "notes:" in lines and lines[-1] == ""

    listed = cli("list")
    assert not raw_controls(listed, allow_newline=True), listed
    row = next(line for line in listed.split("\n") if f"  {filing_id}  " in line)
    assert re.search(rf"  {re.escape(inert(domain))} +{re.escape(inert(entity))} +Beijing", row)
    dumped_list = cli("list", "--json")
    assert not raw_controls(dumped_list, allow_newline=True)
    entry = next(e for e in json.loads(dumped_list) if e["id"] == filing_id)
    assert (entry["domain"], entry["entity"]) == (domain, entity)


@pytest.mark.parametrize(
    "value",
    [
        "[@click=app.quit]evil.cn",
        "\x1b]0;pwned\x07[red]深圳市某某科技有限公司😀",
        "\x1b[31mred\x1b[0m\r\u202etxt.exe\u2066",
        "\x9b2J\x7f\x01\x1f",
    ],
)
def test_errors_that_quote_hostile_values_are_one_inert_line(
    cli_db: Path, private: Path, value: str
) -> None:
    """An unknown id or province typed with escapes is echoed inert, on one line."""
    for args in (
        ["show", "--", value],
        ["note", "--", value, "text"],
        ["add", "--domain=a.cn", "--entity=A", f"--province={value}"],
    ):
        result = run_cli(args, cwd=cli_db.parent, private=private, db=cli_db)
        assert result.returncode == 1, str(result)
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1, str(result)
        assert not raw_controls(result.stderr, allow_newline=True), str(result)


def test_reports_and_json_export_show_hostile_text_inert(tmp_path: Path, private: Path) -> None:
    """A breached filing with hostile text, in the daily report (every format) and the JSON
    export: no raw control character; the JSON holds the exact text."""
    db = tmp_path / "db" / "filings.json"
    domain = "evil.example.cn"  # a host name (issue 12): the hostile text is in the entity
    entity = "[red]深圳市某某科技有限公司😀\r\x1b[31m"

    def cli(*args: str, now: str = "2026-11-25T15:00+08:00") -> str:
        result = run_cli(list(args), cwd=tmp_path, private=private, db=db, now=now)
        assert result.returncode == 0, str(result)
        assert not raw_controls(result.stderr, allow_newline=True), str(result)
        return result.stdout

    cli("init")
    old = "2026-10-08T10:00+08:00"  # breached by now
    filing_id = cli(
        "add", f"--domain={domain}", f"--entity={entity}", "--province=Beijing", now=old
    )
    filing_id = filing_id.strip()
    cli("assign", filing_id, "--", "\x1b[2Jmallory", now=old)
    for fmt in ("text", "markdown"):
        out = cli("report", f"--format={fmt}")
        assert not raw_controls(out, allow_newline=True), out
        assert filing_id in out
        assert (
            "x1b" in out and "深圳市某某科技" in out
        )  # made visible (Markdown escapes it further)
    dumped = cli("report", "--format=json")
    assert not raw_controls(dumped, allow_newline=True), dumped
    (breached,) = json.loads(dumped)["breached"]
    assert (breached["domain"], breached["entity"]) == (domain, entity)
    exported = cli("export", "--format=json")
    assert not raw_controls(exported, allow_newline=True), exported
    (row,) = json.loads(exported)
    assert (row["domain"], row["entity"]) == (domain, entity)
