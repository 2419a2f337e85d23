"""Fuzzed commands: random arguments for every subcommand give a result, a usage message or a
one-line error, never a traceback, and never a change on disk unless a change succeeded.

Each example copies a small prepared database into a fresh folder and runs the real command
line on it (about 0.3 s a run, so the example counts are low).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_helpers import (
    NOW_TEXT,
    Result,
    arg_text,
    folder_bytes,
    hand_filing,
    hostile_text,
    raw_controls,
    run_cli,
    temp_files,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_tui.domain.errors import IcpError
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import Stage
from icp_tui.store import FilingStore

WRITERS = {"add", "advance", "withdraw", "note", "ticket", "assign", "init", "demo", "import"}
IDS = [f"ICP-2026-{n:05d}" for n in range(1, 6)]
Workspace = Callable[[], Path]
SLOW = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of five filings in several stages (with its lock file and sidecar)."""
    folder = tmp_path_factory.mktemp("commands-template") / "db"
    FilingStore.create(
        folder / "filings.json",
        [
            hand_filing(1, Stage.PRELIMINARY_REVIEW),
            hand_filing(2, Stage.AWAITING_PHOTO),
            hand_filing(3, Stage.PHOTO_REVIEW, hours_ago=200),
            hand_filing(4, Stage.AUTHORITY_REVIEW, hours_ago=400),
            hand_filing(5, Stage.APPROVED, hours_ago=900),
        ],
    )
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, prepared: Path) -> Workspace:
    """`workspace()`: a fresh folder holding a copy of the prepared database, per example."""
    root = tmp_path_factory.mktemp("commands-cases")

    def fresh() -> Path:
        folder = Path(tempfile.mkdtemp(dir=root))
        shutil.copytree(prepared, folder / "db")
        for name, data in CSV_FILES.items():
            (folder / name).write_bytes(data)
        (folder / "folder.csv").mkdir()
        return folder

    return fresh


_HEADER = "domain,entity,province,submitted_at,assignee\r\n"
CSV_FILES = {
    "good.csv": (
        _HEADER + '"[red]a.cn\x1b[31m",深圳市某某😀,Beijing,2026-11-20T10:00+08:00,"\u202ebob"\r\n'
    ).encode(),
    "bad.csv": (
        _HEADER + ",,Atlantis,yesterday,\r\n\x1b]0;x\x07,E,Beijing,2026-13-01,\r\n"
    ).encode(),
    "empty.csv": b"",
    "gbk.csv": _HEADER.encode() + "深圳,公司,Beijing,2026-11-20,\r\n".encode("gbk"),
    "binary.csv": bytes(range(256)),
    "\x1b]0;title\x07.csv": (_HEADER + "b.cn,E,Beijing,2026-11-20T10:00+08:00,\r\n").encode(),
}

# -- argument strategies -------------------------------------------------------------------

texts = st.one_of(
    arg_text(max_pieces=6),
    st.sampled_from(["", " ", "-", "--", "-x", "--json", "=", "\t", "\u202e", "\x1b[31m"]),
    st.integers(min_value=0, max_value=100_000).map(lambda n: "x" * n),
    st.sampled_from([10_000, 10_001, 100_000]).map(lambda n: "長" * (n // 3)),
)
ids = st.one_of(st.sampled_from(IDS), st.sampled_from(["ICP-2026-99999", "icp-2026-00001"]), texts)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-5, max_value=40).map(str),
    st.sampled_from(["", "0", "-0", "1e3", "0x10", "１２", "10000", "10001", "nan", "٣"]),
)
#: demo --count: refused above 1,000,000; between 40 and that it is accepted but slow to make
counts = st.one_of(
    st.integers(min_value=-(10**30), max_value=40),
    st.integers(min_value=1_000_001, max_value=10**30),
).map(str) | st.sampled_from(["", "x", "1e3", "-1"])
times = st.one_of(
    st.sampled_from(
        [
            NOW_TEXT,
            "2026-11-25",
            "2026-02-13T17:00+08:00",
            "1969-12-31",
            "2200-01-01",
            "0001-01-01",
            "9999-12-31T23:59:59-23:59",
            "2026-13-45",
            "2026-11-25T25:00",
            "now",
            "",
            "T",
            "2026-W48-3",
            "2026-330",
            "20261125T150000Z",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat()),
    hostile_text(max_pieces=4, nul=False),
)
stages = st.one_of(st.sampled_from([s.value for s in Stage]), texts)
files = st.one_of(
    st.sampled_from([*sorted(CSV_FILES), "folder.csv", "missing.csv", "out.csv", "db", "/"]),
    st.sampled_from(
        [
            "db/filings.json",
            "db/filings.json.journal",
            "db/filings.json.summary",
            "db/filings.json.lock",
            "db/../db/filings.json",
            "db/nested/missing/x.csv",
        ]
    ),
)
healths = st.one_of(st.sampled_from([h.value for h in Health]), texts)


def opt(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda v: [f"{name}={v}"])


def maybe(option: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), option)


def seq(*parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda chunks: [a for chunk in chunks for a in chunk])


one = st.builds(lambda v: [v], texts)
an_id = st.builds(lambda v: [v], ids)
flag = st.just

COMMANDS: dict[str, st.SearchStrategy[list[str]]] = {
    "init": st.just(["init"]),
    "config": st.just(["config"]),
    "demo": seq(
        flag(["demo"]),
        maybe(opt("--count", counts)),
        maybe(opt("--seed", numbers)),
        maybe(flag(["--force"])),
    ),
    "add": seq(
        flag(["add"]),
        maybe(opt("--domain", texts)),
        maybe(opt("--entity", texts)),
        maybe(opt("--province", st.sampled_from(["Beijing", "广东", "Atlantis", ""]) | texts)),
        maybe(opt("--entity-type", st.sampled_from(["company", "individual"]) | texts)),
    ),
    "list": seq(
        flag(["list"]),
        maybe(flag(["--json"])),
        maybe(opt("--stage", stages)),
        maybe(opt("--health", healths)),
    ),
    "show": seq(flag(["show"]), an_id, maybe(flag(["--json"]))),
    "advance": seq(
        flag(["advance"]),
        an_id,
        maybe(opt("--to", stages)),
        maybe(opt("--reason", texts)),
        maybe(opt("--icp-number", texts)),
    ),
    "withdraw": seq(flag(["withdraw"]), an_id, maybe(opt("--reason", texts))),
    "note": seq(flag(["note"]), an_id, flag(["--"]), one),
    "ticket": seq(flag(["ticket"]), an_id, flag(["--"]), one),
    "assign": seq(flag(["assign"]), an_id, flag(["--"]), one),
    "calendar due": seq(
        flag(["calendar", "due"]),
        st.builds(lambda v: [v], times),
        st.builds(lambda v: [v], numbers),
    ),
    "calendar elapsed": seq(
        flag(["calendar", "elapsed"]),
        st.builds(lambda v: [v], times),
        st.builds(lambda v: [v], times),
    ),
    "calendar workday": seq(flag(["calendar", "workday"]), st.builds(lambda v: [v], times)),
    "calendar ?": seq(flag(["calendar"]), one),
    "export": seq(
        flag(["export"]),
        maybe(opt("--format", st.sampled_from(["csv", "json"]) | texts)),
        maybe(opt("--stage", stages)),
        maybe(opt("--health", healths)),
        maybe(opt("--output", files | texts)),
    ),
    "import": seq(flag(["import"]), st.builds(lambda v: [v], files), maybe(flag(["--skip-bad"]))),
    "report": seq(
        flag(["report"]),
        maybe(opt("--format", st.sampled_from(["text", "markdown", "json"]) | texts)),
        maybe(flag(["--fail-on-breach"])),
    ),
    "unknown": st.builds(lambda v: [v], texts | st.sampled_from(["help", "exit", "quit"])),
}
known_options = st.sampled_from(
    [
        "--json",
        "--force",
        "--stage=approved",
        "--health=breached",
        "--to=returned",
        "--reason=x",
        "--count=3",
        "--seed=1",
        "--domain=a.cn",
        "--entity=E",
        "--province=Beijing",
        "--entity-type=individual",
        "--icp-number=京ICP备1号",
        "--bogus",
        "-x",
        "--",
        "-",
        "--now",
        "--db",
        "-h",
    ]
)


@st.composite
def argv(draw: st.DrawFn, commands: list[str], extras: bool) -> tuple[str, list[str]]:
    """(command name, argv after the global options): well formed with hostile values, or
    (with `extras`) with random options and values mixed in."""
    name = draw(st.sampled_from(commands))
    args = list(draw(COMMANDS[name]))  # st.just gives the same list every time
    if extras:
        for _ in range(draw(st.integers(1, 3))):
            extra = draw(st.one_of(known_options, texts, numbers))
            args.insert(draw(st.integers(1, len(args))), extra)
    return name, args


global_options = seq(
    st.one_of(st.just([f"--now={NOW_TEXT}"]), st.just([]), opt("--now", times)),
    maybe(st.sampled_from([["--demo"], ["--config=nowhere.toml"], ["--config=db/filings.json"]])),
)


# -- running and judging -------------------------------------------------------------------


def run(folder: Path, private: Path, global_args: list[str], args: list[str]) -> Result:
    # The command always comes after the global options, so no random value can leave the
    # command line without a command (which would open the dashboard).
    return run_cli(
        [*global_args, *args],
        cwd=folder,
        private=private,
        db=folder / "db" / "filings.json",
        now=None,
    )


def judge(name: str, result: Result, before: dict[str, bytes | None], folder: Path) -> None:
    exits = (0, 1, 2, 3) if name == "report" else (0, 1, 2)  # report --fail-on-breach: 3
    assert result.returncode in exits, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert not raw_controls(result.stdout, allow_newline=True), str(result)
    assert not raw_controls(result.stderr, allow_newline=True), str(result)
    lines = result.stderr.splitlines()
    if result.returncode == 2:
        assert lines and "error:" in lines[-1], str(result)
        assert len(lines) <= 25, str(result)
    elif result.returncode == 1 and name == "import":  # one line per bad row, then why
        assert lines and all(line.startswith("icp-tui: ") for line in lines), str(result)
        assert result.stdout == "", str(result)
    elif result.returncode == 1:
        assert len(lines) == 1 and lines[0].startswith("icp-tui: "), str(result)
        assert result.stderr.endswith("\n") and result.stdout == "", str(result)
    elif name in ("export", "import"):  # "wrote N filings to F", bad rows skipped
        assert all(line.startswith(("icp-tui: ", "wrote ")) for line in lines), str(result)
    else:
        assert all(line.startswith("icp-tui: warning: ") for line in lines), str(result)
    db_folder = folder / "db"
    helped = result.stdout.startswith("usage:")  # -h: the help, nothing done
    writes = name.split()[0] in WRITERS and result.returncode == 0 and not helped
    if not writes:
        assert folder_bytes(db_folder) == before, f"the files changed: {result}"
    else:
        store = FilingStore(db_folder / "filings.json")
        try:
            store.load()
            for filing_id in store.ids():
                store.get(filing_id)
        except IcpError as error:  # pragma: no cover - a failure to report
            raise AssertionError(f"{result}\nleft a database that does not open: {error}") from None
        assert not temp_files(db_folder), temp_files(db_folder)


def check(
    workspace: Workspace, private: Path, global_args: list[str], case: tuple[str, list[str]]
) -> None:
    name, args = case
    folder = workspace()
    before = folder_bytes(folder / "db")
    judge(name, run(folder, private, global_args, args), before, folder)
    shutil.rmtree(folder, ignore_errors=True)


READERS = [
    "config",
    "list",
    "show",
    "export",
    "report",
    "calendar due",
    "calendar elapsed",
    "calendar workday",
]
CHANGERS = ["init", "demo", "add", "advance", "withdraw", "note", "ticket", "assign", "import"]


@settings(SLOW, max_examples=12)
@given(global_args=global_options, case=argv([*READERS, "calendar ?", "unknown"], extras=False))
def test_reading_commands_with_hostile_values(
    workspace: Workspace, private: Path, global_args: list[str], case: tuple[str, list[str]]
) -> None:
    check(workspace, private, global_args, case)


@settings(SLOW, max_examples=16)
@given(global_args=global_options, case=argv(CHANGERS, extras=False))
def test_changing_commands_with_hostile_values(
    workspace: Workspace, private: Path, global_args: list[str], case: tuple[str, list[str]]
) -> None:
    check(workspace, private, global_args, case)


@settings(SLOW, max_examples=12)
@given(global_args=global_options, case=argv(sorted(COMMANDS), extras=True))
def test_any_command_with_random_options_mixed_in(
    workspace: Workspace, private: Path, global_args: list[str], case: tuple[str, list[str]]
) -> None:
    check(workspace, private, global_args, case)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--count=-1"],
        ["demo", "--count=1000001", "--force"],
        ["demo", "--count=99999999999999999999999999", "--force"],
        ["demo", "--seed=-99999999999999999999999999", "--count=2"],
        ["calendar", "due", "2026-11-25", "-5"],
        ["calendar", "due", "2026-11-25", "99999999999999999999"],
        ["calendar", "due", "2199-12-01", "10000"],
        ["calendar", "elapsed", "0001-01-01", "9999-12-31"],
        ["calendar", "workday", "9999-12-31T23:59:59-23:59"],
        ["advance", "ICP-2026-00001", "--to=approved"],
        ["withdraw", "ICP-2026-00004", "--reason=late"],
        ["withdraw", "ICP-2026-00001", "--reason= \t "],
        ["note", "ICP-2026-00001", "--", "x" * 10_001],
        ["ticket", "ICP-2026-00001", "--", "\x1b[31m"],
        ["assign", "ICP-2026-99999", "--", "bob"],
        ["add", "--domain=", "--entity=E", "--province=Beijing"],
        ["add", "--domain=a.cn", "--entity=E", "--province=\x1b]0;x\x07"],
        ["list", "--stage=\x9b2J"],
        ["show", "\u202eICP-2026-00001"],
        ["\x1b[2J"],
        ["list", "\x1b]0;pwned\x07"],
        ["init", "--bogus\x1b[31m"],
        ["export", "--output=db/filings.json"],
        ["export", "--format=json", "-o", "db/../db/filings.json.journal"],
        ["export", "--output=\x1b]0;title\x07.out"],
        ["import", "\x1b]0;title\x07.csv"],
        ["import", "bad.csv"],
        ["import", "bad.csv", "--skip-bad"],
        ["import", "gbk.csv"],
        ["import", "binary.csv"],
        ["import", "folder.csv"],
        ["import", "db/filings.json"],
        ["report", "--fail-on-breach"],
    ],
)
def test_edge_values(workspace: Workspace, private: Path, args: list[str]) -> None:
    """Edge values that random generation rarely hits."""
    check(workspace, private, [f"--now={NOW_TEXT}"], (args[0], args))
