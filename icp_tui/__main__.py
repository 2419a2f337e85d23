"""Command line: parse, build the store, the service and the app, run; nothing else.

Errors a user can cause print one line on stderr and exit 1, changing nothing; usage errors
exit 2 (argparse). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from icp_tui.config import Reference, Settings, load_reference, load_settings
from icp_tui.display import inert, inert_json
from icp_tui.domain.collector import freeze_long_lived
from icp_tui.domain.errors import IcpError, InvalidInput
from icp_tui.domain.estimate import estimate_lines
from icp_tui.domain.filing import (
    MAX_YEAR,
    Filing,
    stamp,
    submission_groups,
    to_record,
)
from icp_tui.domain.naming import counted
from icp_tui.domain.query import Query, QueryError, parse_query
from icp_tui.domain.sla import (
    Health,
    expires_at,
    expiry_in_words,
    find_health,
    sla_status,
    ticket_words,
)
from icp_tui.domain.stages import WITHDRAW_REASONS, Stage, find_stage, named, rule
from icp_tui.domain.transitions import check_not_ahead, materials_state, sms_attempts
from icp_tui.queue import Queue, QueueEntry, eta_json
from icp_tui.services import (
    Clock,
    DatabaseExists,
    DatabaseMissing,
    FilingService,
    Location,
    create_store,
    database_files,
    database_location,
    display_location,
    fixed_clock,
    has_password,
    migrate,
    parse_entity_type,
    repair_database,
    sharing_problems,
    system_clock,
)
from icp_tui.timetravel import TimeMachine, check_past, parse_time

PROG = "icp-tui"
#: The commands that read the queue as it was (--as-of); the dashboard too (no command).
AS_OF_COMMANDS = frozenset({None, "list", "show", "report", "export"})
DEMO_COUNT = 300


#: The most business days `calendar due` counts ahead (SLA targets are at most 200).
MAX_DUE_DAYS = 10_000


class _Parser(argparse.ArgumentParser):
    """argparse, with what it quotes of the command line in an error made inert."""

    def error(self, message: str) -> NoReturn:
        # "unrecognized arguments: ..." echoes the typed values raw (escape sequences too).
        super().error(inert(message))

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # Python 3.11's argparse takes the "--" of `--reason=--` for the end of the options
        # and hands the option an empty list, which no command expects (a traceback). It is
        # the text "--", as later versions read it.
        if action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)


def package_version() -> str:
    """The installed package's version: pyproject.toml is its one source."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("icp-tui")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """--version, reading the installed package's metadata only when asked: that costs every
    other command's start ~50 ms."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"{PROG} {package_version()}")
        parser.exit()


def add_global_options(
    parser: argparse.ArgumentParser, default: Any = None, as_of: bool = True
) -> None:
    """--db, --now and --config: before the command, or after it (`demo --db f.json`); --as-of
    only after the commands that take it (their help offers no option they would refuse)."""
    parser.add_argument(
        "--db",
        type=database_location,
        default=default,
        help="database file or postgresql:// URI (default: $ICP_TUI_DB, else data/filings.json)",
    )
    parser.add_argument(
        "--now", default=default, help="evaluate as of this ISO 8601 time instead of the clock"
    )
    if as_of:
        parser.add_argument(
            "--as-of",
            default=default,
            metavar="TIME",
            help="the queue as it was at this ISO 8601 time, rebuilt from each filing's history "
            "(list, show, report, export and the dashboard; read-only)",
        )
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        help="settings file (default: see `icp-tui config`)",
    )


class _Named(argparse.Action):
    """--stage, --health, --to: a name resolved as staff type it (`find`). A wrong one is one
    line saying what is known, without argparse's usage block, which names none of them."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, find: Callable[[str], Any], **kw: Any
    ) -> None:
        super().__init__(option_strings, dest, **kw)
        self.find = find

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        try:
            setattr(namespace, self.dest, self.find(values))
        except ValueError as error:
            said = f"argument {option_string}: {error}"
            parser.exit(2, f"{parser.prog}: error: {inert(said)}\n")


STAGE_HELP = "only this stage: its id, its label or a prefix of either (e.g. authority, sms)"
_HEALTHS = [h.option for h in Health]
HEALTH_HELP = f"only this health: {', '.join(_HEALTHS[:-1])} or {_HEALTHS[-1]} (or a prefix)"


QUERY_HELP = (
    "only the filings this query selects, as the dashboard's / does: free words, "
    "health:, stage:, province:, assignee:, ticket:, escalate:, due:, over:, waiting:, "
    "expires: (a - negates; write --query=-term when the query starts with one)"
)


ID_HELP = "the filing: its whole id in any case (ICP-2026-00155) or its number alone (155)"
MOVE_JSON_HELP = (
    "JSON for scripts: the filing's id and version and the move as `show --json` records it "
    "(from, to: stage ids; at, by, reason), instead of the line for people, which names the "
    "stages by their labels"
)
_SHIPPED_WITHDRAW = ", ".join(f"'{r}'" for r in WITHDRAW_REASONS[:-1])
WITHDRAW_REASON_HELP = (
    f"why: a configured withdraw reason (as shipped: {_SHIPPED_WITHDRAW}; `icp-tui config` "
    "lists those in force), in any case or the start of one; any other text is kept as "
    '"other: TEXT"'
)


def add_named_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", action=_Named, find=find_stage, metavar="STAGE", help=STAGE_HELP)
    parser.add_argument(
        "--health", action=_Named, find=find_health, metavar="HEALTH", help=HEALTH_HELP
    )


def add_query_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--query", metavar="Q", help=QUERY_HELP)
    parser.add_argument("--view", metavar="NAME", help="a saved view of the config's [views]")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Dashboard and tools for the ICP filing queue.")
    parser.add_argument("--version", action=_VersionAction)
    add_global_options(parser)
    parser.add_argument("--demo", action="store_true", help="open the dashboard on fresh demo data")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("init", help="create an empty database")
    commands.add_parser("config", help="print the settings in force and where each came from")
    commands.add_parser("repair", help="mend a damaged journal (a copy of it is kept)")
    demo = commands.add_parser("demo", help="write demo filings")
    demo.add_argument(
        "--count", type=int, default=DEMO_COUNT, help=f"how many (default {DEMO_COUNT})"
    )
    demo.add_argument("--seed", type=int, default=0, help="the same seed gives the same filings")
    demo.add_argument("--force", action="store_true", help="replace a non-empty database")

    add = commands.add_parser("add", help="record a new filing (prints its id)")
    add.add_argument("--domain", required=True)
    add.add_argument("--entity", required=True)
    add.add_argument("--province", required=True)
    add.add_argument("--entity-type", default="company", choices=["company", "individual"])

    listing = commands.add_parser("list", help="filings, most urgent first")
    listing.add_argument("--json", action="store_true", help="JSON, one object per filing")
    add_named_options(listing)
    add_query_options(listing)

    show = commands.add_parser("show", help="one filing with its history and notes")
    show.add_argument("id", help=ID_HELP)
    show.add_argument("--json", action="store_true")

    advance = commands.add_parser(
        "advance", help="move a filing on (says where to; --json for scripts)"
    )
    advance.add_argument("id", help=ID_HELP)
    advance.add_argument("--json", action="store_true", help=MOVE_JSON_HELP)
    advance.add_argument(
        "--to",
        action=_Named,
        find=find_stage,
        metavar="STAGE",
        help="an allowed stage, named as --stage names one (default: next on the happy path)",
    )
    advance.add_argument(
        "--reason",
        default="",
        help="why (required for returned and rejected: a reason of the reasons file, in any "
        'case or the start of one; any other text is kept as "other: TEXT")',
    )
    advance.add_argument("--icp-number", help="the ICP number, when approving")

    withdraw = commands.add_parser("withdraw", help="withdraw a filing (before submission)")
    withdraw.add_argument("id", help=ID_HELP)
    withdraw.add_argument("--reason", required=True, help=WITHDRAW_REASON_HELP)
    withdraw.add_argument("--json", action="store_true", help=MOVE_JSON_HELP)

    note = commands.add_parser("note", help="add a note")
    note.add_argument("id", help=ID_HELP)
    note.add_argument("text")

    ticket = commands.add_parser("ticket", help="record the ticket of an escalated filing")
    ticket.add_argument("id", help=ID_HELP)
    ticket.add_argument("reference")

    sms = commands.add_parser("sms-resent", help="record that the MIIT SMS was sent again")
    sms.add_argument("id", help=ID_HELP)

    materials = commands.add_parser("materials", help="record mailed verification materials")
    materials.add_argument("id", help=ID_HELP)
    materials.add_argument("state", choices=["mailed", "received"])

    export = commands.add_parser("export", help="write filings as CSV (or JSON)")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    add_named_options(export)
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    add_query_options(export)

    importing = commands.add_parser("import", help="add filings from a CSV file")
    importing.add_argument(
        "file",
        type=Path,
        help="a CSV file whose header names domain, entity, province and submitted_at (the "
        "other columns `export` writes are optional); all its rows are imported, in one "
        "change, or none",
    )
    importing.add_argument("--skip-bad", action="store_true", help="import the good rows")

    migrate = commands.add_parser(
        "migrate", help="copy every filing from SOURCE to TARGET (file or URI), verified"
    )
    migrate.add_argument("source", type=database_location)
    migrate.add_argument("target", type=database_location)

    report = commands.add_parser("report", help="the daily report (for mail or monitoring)")
    report.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    report.add_argument("--fail-on-breach", action="store_true", help="exit 3 if any breach")
    add_query_options(report)

    assign = commands.add_parser("assign", help="give a filing to a member of staff")
    assign.add_argument("id", help=ID_HELP)
    assign.add_argument("user", help="user name, or - for nobody")

    calendar = commands.add_parser("calendar", help="business-day arithmetic")
    questions = calendar.add_subparsers(dest="question", metavar="QUESTION", required=True)
    due = questions.add_parser("due", help="due(START, N)")
    due.add_argument("start")
    due.add_argument("n", type=int)
    elapsed = questions.add_parser("elapsed", help="business days from A to B")
    elapsed.add_argument("a")
    elapsed.add_argument("b")
    workday = questions.add_parser("workday", help="is DATE a business day")
    workday.add_argument("date")
    # After the command too: argparse keeps the value given before it unless one comes after.
    for name, sub in commands.choices.items():
        add_global_options(sub, default=argparse.SUPPRESS, as_of=name in AS_OF_COMMANDS)
    for sub in questions.choices.values():
        add_global_options(sub, default=argparse.SUPPRESS, as_of=False)
    return parser


class Command:
    """One run of the command line: options, settings, reference data, clock."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        for given in (args.db, getattr(args, "source", None), getattr(args, "target", None)):
            if has_password(given):  # anyone on the server can read a command line
                raise InvalidInput(
                    "a URI on the command line must not hold a password: put it in ~/.pgpass "
                    "(or $PGPASSFILE), or use a pg_service.conf service"
                )
        self.settings = load_settings(args.config, args.db)
        db = self.settings.db_path
        # --db "", --db /, --db /srv/icp, ICP_TUI_DB=/: a folder, named as a whole ("" is ".")
        if isinstance(db, Path) and (not db.name or db.is_dir()):
            folder = os.path.abspath(db)
            raise InvalidInput(
                f"{folder} is a folder, not a database file: name the file in it, e.g. "
                f"{os.path.join(folder, 'filings.json')} (from {self.settings.source('db_path')})"
            )
        self.now_fixed = parse_time(args.now, "--now time") if args.now else None
        self.as_of = parse_time(args.as_of, "--as-of time") if args.as_of else None
        if self.as_of is not None:
            if args.command not in AS_OF_COMMANDS:
                raise InvalidInput(
                    f"--as-of shows the queue as it was, so it applies to list, show, report, "
                    f"export and the dashboard, not to {args.command}: nothing was changed"
                )
            check_past(self.as_of, self.now_fixed or system_clock())
        self._reference: Reference | None = None
        self._machine: TimeMachine | None = None
        #: What the command read (stores, queues, the dashboard), kept until the process ends:
        #: freeing 100,000 filings one by one costs a third of a second after the work is done.
        self.read: list[object] = []

    @property
    def reference(self) -> Reference:
        if self._reference is None:
            self._reference = load_reference(self.settings)
        return self._reference

    def now(self) -> datetime:
        """When the queue is evaluated: the --as-of instant, else --now, else the clock."""
        return self.as_of or self.now_fixed or system_clock()

    def service(self, *, load: bool = True) -> FilingService:
        """The service on the database, read whole unless `load` is False."""
        clock = fixed_clock(self.now_fixed) if self.now_fixed else system_clock
        service = FilingService.open(self.settings.db_path, self.reference, clock=clock)
        if load:
            service.load()
        self.read.append(service)
        return service

    def queue(self) -> tuple[Queue, FilingService]:
        """The queue now, or rebuilt as it was at --as-of."""
        service = self.service(load=False)
        if self.as_of is None:
            queue = service.load_queue()
        else:
            service.load()
            queue = self.machine(service).queue_at(self.as_of)
        self.read.append(queue)
        return queue, service

    def province_queue(self, service: FilingService, province: str) -> Queue:
        """The queue of `province`'s filings (now, or as they were at --as-of): a filing's
        entry and approval estimate without building the whole queue."""
        if self.as_of is None:
            return service.province_queue(province)
        return self.machine(service).queue_at(self.as_of, province)

    def machine(self, service: FilingService) -> TimeMachine:
        if self._machine is None:
            self._machine = service.time_machine()
        return self._machine

    def record(self, service: FilingService, filing_id: str) -> Filing:
        """The filing now, or as it was at --as-of (refused if not submitted by then)."""
        if self.as_of is None:
            return service.get(filing_id)
        then = self.machine(service).filing_at(service.summary(filing_id), self.as_of)
        if then is None:
            raise InvalidInput(
                f"{filing_id} was submitted after {stamp(self.as_of)}: it was not in the queue then"
            )
        return then

    def warn_provisional(self, years: Iterable[int]) -> None:
        for year in self.reference.calendar.provisional_years(years):
            print(f"{PROG}: warning: {provisional_warning(self.reference, year)}", file=sys.stderr)


def provisional_warning(reference: Reference, year: int) -> str:
    """One line saying that `year`'s business days are provisional, and how to fix it."""
    return (
        f"{year} is provisional: no official holiday schedule yet, so its business days follow "
        f"the statutory holidays with no adjusted working days; {reference.holidays_advice(year)}"
    )


def run_command(cmd: Command) -> int:
    args = cmd.args
    name = args.command
    if name == "init":
        create_store(cmd.settings.db_path)  # refuses an existing database
        print(f"created an empty database at {display_location(cmd.settings.db_path)}")
    elif name == "config":
        print_settings(cmd)
    elif name == "repair":
        print(repair_database(cmd.settings.db_path))
    elif name == "demo":
        write_demo(
            cmd.settings.db_path, cmd.reference, cmd.now(), args.count, args.seed, args.force
        )
        wrote = counted(args.count, "demo filing")
        print(f"wrote {wrote} to {display_location(cmd.settings.db_path)}")
    elif name == "add":
        service = cmd.service()
        filing = service.add(
            args.domain, args.entity, args.province, parse_entity_type(args.entity_type)
        )
        print(filing.id)
        compact_after_save(service)
    elif name == "list":
        return list_filings(cmd)
    elif name == "export":
        return export_filings(cmd)
    elif name == "import":
        return import_filings(cmd)
    elif name == "report":
        return daily_report(cmd)
    elif name == "show":
        return show_filing(cmd)
    elif name in ("advance", "withdraw", "note", "ticket", "assign", "materials", "sms-resent"):
        service = cmd.service()
        args.id = service.resolve_id(args.id)
        if name == "advance":
            moved = service.advance(args.id, args.to, args.reason, icp_number=args.icp_number)
            say_moved(moved, args.json)
        elif name == "withdraw":
            say_moved(service.withdraw(args.id, args.reason), args.json)
        elif name == "note":
            service.note(args.id, args.text)
            print(f"note added to {args.id}")
        elif name == "sms-resent":
            service.sms_resent(args.id)
            print(f"SMS resend recorded on {args.id}: the 24 hours restart now")
        elif name == "materials":
            service.record_materials(args.id, received=args.state == "received")
            print(f"materials {args.state} recorded on {args.id}")
        elif name == "ticket":
            service.record_ticket(args.id, args.reference)
            print(f"ticket recorded on {args.id}")
        else:
            user = None if args.user in ("-", "") else args.user
            # Asked before the change (which records the name), said after it succeeded.
            unseen = user is not None and not service.known_user(user)
            service.assign(args.id, user)
            print(f"{args.id} assigned to {inert(user or 'nobody')}")
            if unseen:
                print(
                    f"{PROG}: warning: {inert(str(user))} appears in no filing's history: "
                    "check the spelling (assigned all the same)",
                    file=sys.stderr,
                )
        compact_after_save(service)
    elif name == "calendar":
        return calendar_question(cmd)
    elif name == "migrate":
        print(migrate(args.source, args.target))
    return 0


def say_moved(filing: Filing, as_json: bool) -> None:
    """The move just made (the filing's last history entry): named by its stages' labels for
    a person, by their ids in JSON."""
    if as_json:
        print_json({"id": filing.id, "version": filing.version, **to_record(filing)["history"][-1]})
        return
    move = filing.history[-1]
    assert move.source is not None  # a move, never a filing's creation
    said = [move.reason] if move.reason else []
    if move.target is Stage.APPROVED and filing.icp_number:
        said.append(f"ICP number {filing.icp_number}")
    why = f" ({inert('; '.join(said))})" if said else ""  # as the dashboard says a reason
    if move.target is Stage.WITHDRAWN:
        print(f"{filing.id} withdrawn from {named(move.source)}{why}")
    else:
        print(f"{filing.id} moved from {named(move.source)} to {named(move.target)}{why}")


def compact_after_save(service: FilingService) -> None:
    """Housekeeping once a change is durable: its failure is a warning, never the change's."""
    postponed = service.compact_after_save()
    if postponed is not None:
        print(f"{PROG}: warning: {inert(postponed)}", file=sys.stderr)


def print_settings(cmd: Command) -> None:
    """Each setting in force, with where it came from; files and folders as absolute paths,
    which do not depend on where the command ran. Not normalised: `sub/../f.json` is not
    `f.json` when `sub` is missing (or a link), and the commands open it as typed."""
    s = cmd.settings
    db = s.db_path.absolute() if isinstance(s.db_path, Path) else s.db_path
    rows = [
        ("database", display_location(db), "db_path"),
        ("refresh_seconds", s.refresh_seconds, "refresh_seconds"),
        ("at_risk_fraction", s.at_risk_fraction, "at_risk_fraction"),
        ("review_window_days", s.review_window_days, "review_window_days"),
        ("theme", s.theme, "theme"),
        ("data_dir", s.data_dir or "(none: the shipped reference data)", "data_dir"),
        ("provinces_file", s.provinces_file, "provinces_file"),
        ("holidays_file", s.holidays_file, "holidays_file"),
        ("mailing_file", s.mailing_file, "mailing_file"),
        ("reasons_file", s.reasons_file, "reasons_file"),
        ("expiry_file", s.expiry_file, "expiry_file"),
        ("mailing", "[mailing] table" if s.mailing else "(from mailing_file)", "mailing"),
        ("withdraw_reasons", ", ".join(s.withdraw_reasons), "withdraw_reasons"),
        ("views", "; ".join(f"{n} = {q}" for n, q in s.views) or "(none)", "views"),
        ("bell_on_breach", str(s.bell_on_breach).lower(), "bell_on_breach"),
    ]
    width = max(len(key) for key, _, _ in rows)  # one column of values
    config_file = str(Path(s.config_file).absolute()) if s.config_file else "(none found)"
    print(f"{'config file':<{width}} {inert(config_file)}")
    for key, value, name in rows:
        shown = str(value.absolute()) if isinstance(value, Path) else str(value)
        print(f"{key:<{width}} {inert(shown)}  ({s.source(name)})")
    if not isinstance(db, Path):
        return  # a PostgreSQL queue: its rights are the database's roles
    if not db.exists():  # nothing to share yet: saying "ok" would vouch for no files
        said = [
            "not checked: there is no database there yet (the dashboard and the commands on "
            "the queue refuse until `icp-tui init` or `icp-tui demo` creates it)"
        ]
    else:
        said = sharing_problems(database_files(db)) or [
            "ok: the database's group can read and write all its files"
        ]
    for problem in said:
        print(f"{'sharing':<{width}} {inert(problem)}")


def write_demo(
    path: Location, reference: Reference, now: datetime, count: int, seed: int, force: bool
) -> None:
    """Write `count` demo filings; refuse to replace a non-empty database without `force`."""
    from icp_tui.demo import generate_filings

    if count < 0 or count > 1_000_000:
        raise InvalidInput("--count must be from 0 to 1,000,000")
    held = 0 if force else _filings_in(path, reference)
    if held:
        raise DatabaseExists(
            f"{display_location(path)} already holds {counted(held, 'filing')}; "
            "use --force to replace them"
        )
    big = count >= 10_000  # a progress counter only where one is worth showing
    filings = generate_filings(
        count,
        now,
        reference.policy,
        reference.provinces,
        seed,
        progress("generating") if big else None,
    )
    show = progress("writing") if big else None
    create_store(
        path, filings, overwrite=True, progress=(lambda done: show(done, count)) if show else None
    )


def _filings_in(location: Location, reference: Reference) -> int:
    """How many filings the database at `location` holds (0 if there is none yet)."""
    if isinstance(location, Path) and (not location.exists() or location.stat().st_size == 0):
        return 0
    try:
        return FilingService.open(location, reference).load()
    except DatabaseMissing:
        return 0


def selected_entries(cmd: Command) -> tuple[list[QueueEntry], FilingService]:
    """The queue, most urgent first, narrowed by --stage, --health, --view and --query."""
    args = cmd.args
    stage, health = getattr(args, "stage", None), getattr(args, "health", None)
    queries = command_queries(cmd)  # checked before the database is read
    queue, service = cmd.queue()
    actor = service.actor
    entries = queue.select(actor=actor)
    for query in queries:
        entries = queue.matching(entries, query, actor)
    entries = [
        e
        for e in entries
        if (stage is None or e.stage is stage) and (health is None or e.health is health)
    ]
    return entries, service


def command_queries(cmd: Command) -> list[Query]:
    """--view's query, then --query's; QueryError (exit 2) if one is wrong."""
    args = cmd.args
    texts = []
    if args.view is not None:
        try:
            texts.append(cmd.settings.view_query(args.view))
        except InvalidInput as error:
            raise QueryError(str(error)) from None
    if args.query is not None:
        texts.append(args.query)
    return [parse_query(text, cmd.reference.provinces) for text in texts]


def list_filings(cmd: Command) -> int:
    args = cmd.args
    now = cmd.now()
    entries, _ = selected_entries(cmd)
    cmd.warn_provisional(
        {y for e in entries for y in e.provisional_years(cmd.reference.calendar, now)}
    )
    if args.json:
        print_json([e.list_json(cmd.reference, now) for e in entries])
        return 0
    header = ("HEALTH", "ID", "STAGE", "DUE/LEFT", "ASSIGNEE", "DOMAIN", "ENTITY", "PROVINCE")
    rows = [
        (
            f"{e.health.glyph} {e.health.word}",
            e.id,
            rule(e.stage).short,
            e.left(cmd.reference, now),
            inert(e.assignee or "-"),
            inert(e.domain),
            inert(e.entity),
            e.province,
            " ".join(e.flags(cmd.reference.policy, now)),
        )
        for e in entries
    ]
    print_columns([(*header, "FLAGS"), *rows])
    return 0


def print_columns(rows: Sequence[Sequence[str]]) -> None:
    """Rows of cells in columns two spaces apart, padded by terminal width (a Chinese
    character takes two cells), the last column left ragged."""
    from rich.cells import cell_len  # rich comes with textual; it knows wide characters

    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c + " " * (w - cell_len(c)) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def export_filings(cmd: Command) -> int:
    from icp_tui.transfer import export_rows, save_csv, write_csv, write_json

    args = cmd.args
    if args.output is not None and _is_database_file(args.output, cmd.settings.db_path):
        raise InvalidInput(
            f"{args.output} is the database or one of its files: export to another file; "
            "nothing was written"
        )
    entries, service = selected_entries(cmd)
    rows = export_rows(
        entries, partial(cmd.record, service), cmd.reference, cmd.now(), progress("exporting")
    )
    cmd.warn_provisional({y for row in rows for y in row["provisional_years"]})
    if args.output is None:
        if sys.stdout.isatty():  # a person reads it: make stored text inert (files stay exact)
            rows = [{k: inert(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
        (write_json if args.format == "json" else partial(write_csv, bom=False))(rows, sys.stdout)
    elif args.format == "json":
        with args.output.open("w", encoding="utf-8") as handle:
            write_json(rows, handle)
    else:
        save_csv(args.output, rows)
    if args.output is not None:
        print(f"wrote {counted(len(rows), 'filing')} to {inert(str(args.output))}", file=sys.stderr)
    return 0


def _is_database_file(path: Path, db: Location) -> bool:
    """Whether `path` is the database or its journal, sidecar or lock (export must not
    overwrite them)."""
    from icp_tui.services import journal_path, lock_path, summary_path

    if not isinstance(db, Path):
        return False

    target = os.path.realpath(path)
    files = (db, journal_path(db), summary_path(db), lock_path(db))
    return any(target == os.path.realpath(f) for f in files)


def import_filings(cmd: Command) -> int:
    from icp_tui.transfer import ImportRefused, plan_import_file

    service = cmd.service()
    # The rows' times are checked against --now: it may not run ahead of the real clock.
    check_not_ahead(cmd.now(), system_clock())
    plan = plan_import_file(
        cmd.args.file, cmd.reference, service.filings(), service.actor, cmd.now()
    )
    # Bad rows, one line each; a file that cannot be read through is the refusal's one line.
    for line in [] if plan.fatal else plan.errors:
        print(f"{PROG}: {inert(str(cmd.args.file))}: {inert(line)}", file=sys.stderr)
    try:
        added = service.add_imported(plan, progress("importing"), skip_bad=cmd.args.skip_bad)
    except ImportRefused as refused:  # named like its rows' errors: which file was refused
        raise ImportRefused(f"{cmd.args.file}: {refused}") from None
    print(
        f"imported {counted(added, 'filing')} from {inert(str(cmd.args.file))}; "
        f"{plan.skipped_duplicates} already present; {counted(len(plan.errors), 'bad row')}"
    )
    compact_after_save(service)
    return 0


def daily_report(cmd: Command) -> int:
    from icp_tui.report import build_report, render_markdown, render_text, report_json

    if cmd.args.query is None and cmd.args.view is None:
        service = cmd.service()
        filings: Iterable[Filing] = (
            service.filings() if cmd.as_of is None else cmd.machine(service).filings_at(cmd.as_of)
        )
    else:  # the report of the filings the query selects (as the dashboard's / would)
        entries, service = selected_entries(cmd)
        filings = (cmd.record(service, e.id) for e in entries)
    report = build_report(filings, cmd.reference, cmd.now())
    if cmd.args.format == "json":
        print_json(report_json(report))
    else:
        print((render_markdown if cmd.args.format == "markdown" else render_text)(report))
    return 3 if cmd.args.fail_on_breach and report.breached_count else 0


def progress(label: str) -> Callable[[int, int], None] | None:
    """A one-line progress counter on stderr, only when a person is watching."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{label} {done:,}/{total:,}", end=end, file=sys.stderr, flush=True)

    return show


def filing_json(filing: Filing, entry: QueueEntry, cmd: Command) -> dict[str, Any]:
    """`show --json`: the `list --json` keys (the queue's `entry` of `filing`) plus the whole
    record."""
    summary = entry.list_json(cmd.reference, cmd.now())
    record = to_record(filing)
    return {
        **summary,
        **record,
        "health": summary["health"],
        "due": summary["due"],
        "submissions": filing.submissions,
        "sms_attempts": [{"at": t.at.isoformat(), "by": t.by} for t in sms_attempts(filing)],
        "materials": materials_state(filing, _requires_mailing(filing, cmd.reference)),
        # Rests on the province's other reviews, so it is not among the `list --json` keys
        # (an export and import of one filing keeps those).
        "eta": eta_json(entry.eta),
    }


def _requires_mailing(filing: Filing, reference: Reference) -> bool:
    province = reference.provinces.get(filing.province)
    return province is not None and province.requires_mailing


def show_filing(cmd: Command) -> int:
    service = cmd.service()
    filing_id = service.resolve_id(cmd.args.id)
    filing = cmd.record(service, filing_id)
    now = cmd.now()
    # The approval estimate rests on the province's other reviews: its queue, not the whole.
    entry = cmd.province_queue(service, service.summary(filing_id).province).entries[filing_id]
    data = filing_json(filing, entry, cmd)
    cmd.warn_provisional(data["provisional_years"])
    if cmd.args.json:
        print_json(data)
        return 0
    policy = cmd.reference.policy
    status = sla_status(filing, policy, now)
    lines = [
        f"{filing.id}  {inert(filing.domain)}  (version {filing.version})",
        f"entity:    {inert(filing.entity)} ({filing.entity_type.value}), {filing.province}",
        f"stage:     {rule(filing.stage).label} since {stamp(filing.entered_at)}",
        f"health:    {status.health.glyph} {status.health.word}, {status.left}"
        + (f", due {stamp(status.due_at)}" if status.due_at else ""),
        f"assignee:  {inert(filing.assignee or '-')}",
    ]
    expiry = expiry_in_words(expires_at(filing, policy), policy, now)
    if expiry:
        lines.append(f"order:     {expiry} (expires {stamp(expires_at(filing, policy))})")
    materials = data["materials"]
    if materials is not None:  # DOMAIN.md: the address is shown for a filing that needs mailing
        mail = cmd.reference.mailing
        lines += [
            f"materials: {materials} ({inert(filing.province)} asks for mailed materials)",
            f"mail to:   {inert(mail.addressee)}",
            f"           {inert(mail.address)}",
            f"           postal code {inert(mail.postal_code)}, phone {inert(mail.phone)}"
            + (f" ({inert(mail.hours)})" if mail.hours else ""),
        ]
    attempts = sms_attempts(filing)
    if attempts:
        sent = ", ".join(f"{stamp(t.at)} by {inert(t.by)}" for t in attempts)
        lines.append(f"SMS sent:  {counted(len(attempts), 'time')}: {sent}")
    ticket = ticket_words(filing, status, policy)
    if ticket:
        lines.append(f"ticket:    {inert(ticket)}")
    if entry.eta is not None:
        estimate, *late = estimate_lines(entry.eta, filing.province, now)
        lines.append(f"estimate:  {inert(estimate)}")
        lines.extend(f"           {inert(words)}" for words in late)
    if filing.icp_number:
        lines.append(f"ICP no.:   {inert(filing.icp_number)}")
    groups = submission_groups(filing.history)
    lines.append(f"history:   {counted(len(groups), 'submission')}")
    for number, group in enumerate(groups, 1):
        lines.append(f" submission {number} of {len(groups)}, {stamp(group[0].at)}:")
        for t in group:
            if not t.moved:  # a change recorded in place: a note, a ticket, an assignment
                lines.append(
                    f"  {stamp(t.at)}  {inert(t.by)}: {inert(t.reason)} ({rule(t.target).short})"
                )
                continue
            source = rule(t.source).short if t.source else "(new)"
            moved = f"{source} -> {rule(t.target).short}"
            reason = f"  {inert(t.reason)}" if t.reason else ""
            lines.append(f"  {stamp(t.at)}  {inert(t.by)}: {moved}{reason}")
    if filing.notes:
        lines.append("notes:")
        lines.extend(f"  {stamp(n.at)}  {inert(n.by)}: {inert(n.text)}" for n in filing.notes)
    print("\n".join(lines))
    return 0


def calendar_question(cmd: Command) -> int:
    args = cmd.args
    calendar = cmd.reference.calendar
    if args.question == "due":
        if not 1 <= args.n <= MAX_DUE_DAYS:
            raise InvalidInput(f"N must be from 1 to {MAX_DUE_DAYS:,}")
        start = parse_time(args.start, "START")
        due = calendar.due(start, args.n)
        if due.year > MAX_YEAR:
            raise InvalidInput(f"N is too large: the answer would fall after {MAX_YEAR}")
        cmd.warn_provisional(range(start.year, due.year + 1))
        print(due.isoformat())
    elif args.question == "elapsed":
        a, b = parse_time(args.a, "A"), parse_time(args.b, "B")
        cmd.warn_provisional(range(min(a.year, b.year), max(a.year, b.year) + 1))
        print(calendar.elapsed(a, b))
    else:
        day = parse_time(args.date, "DATE").date()
        cmd.warn_provisional([day.year])
        print("true" if calendar.is_business_day(day) else "false")
    return 0


def print_json(value: Any) -> None:
    print(inert_json(json.dumps(value, ensure_ascii=False, indent=2)))


def open_dashboard(cmd: Command) -> int:
    clock = fixed_clock(cmd.now_fixed) if cmd.now_fixed else system_clock
    if not cmd.args.demo:
        return run_dashboard(cmd, cmd.settings.db_path, clock, cmd.settings)
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="icp-tui-demo-"))
    try:  # the demo database is the session's own: leave nothing behind on a shared server
        path = folder / "filings.json"
        # The demo queue is made as of now (or --now); --as-of then shows it as it was.
        write_demo(path, cmd.reference, cmd.now_fixed or system_clock(), DEMO_COUNT, 0, force=True)
        # Its view is kept for no one: no later start opens this database again.
        return run_dashboard(cmd, path, clock, replace(cmd.settings, state_file=None))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_dashboard(cmd: Command, path: Location, clock: Clock, settings: Settings) -> int:
    from icp_tui.ui.app import make_app

    # Reading 100,000 filings takes seconds before the first screen: say what is under way
    # meanwhile, on a line the dashboard's own screen then replaces (a terminal only).
    said = sys.stderr.isatty()
    if said:
        opening = inert(display_location(path))
        print(f"{PROG}: opening {opening}…", end="", file=sys.stderr, flush=True)
    try:
        app = make_app(path, cmd.reference, settings=settings, clock=clock, as_of=cmd.as_of)
    except KeyboardInterrupt:  # ctrl+c while the queue loads: left like `q`, nothing changed
        return 0
    finally:
        if said:  # the line wiped, so that an error or the shell's prompt starts clean
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)
    cmd.read.append(app)
    # The loaded filings live as long as the dashboard: spare the cycle collector rescanning
    # ~1.5 million of them on every full collection (a ~0.1 s hitch at 50,000 filings);
    # reference counting still frees them.
    freeze_long_lived()
    app.run()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None, kept: list[Command] | None = None) -> int:
    """Run the command line `argv`: its exit status. `kept` receives the command, whose
    objects then outlive main (see `console`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cmd = Command(args)
        if kept is not None:
            kept.append(cmd)
        if args.command is None:
            return open_dashboard(cmd)
        return run_command(cmd)
    except QueryError as error:  # a usage error: what is allowed, in one line
        print(f"{PROG}: {inert(str(error))}", file=sys.stderr)
        return 2
    except IcpError as error:
        print(f"{PROG}: {inert(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-saved", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `icp-tui list | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        print(f"{PROG}: {inert(error.filename or '')}: {error.strerror}", file=sys.stderr)
        return 1


def console() -> NoReturn:
    """The `icp-tui` command: main, then out at once, without the interpreter's exit freeing
    every filing read, one by one, after the work is done (most of a second at 100,000). All
    is finished by then: a dashboard's loop has joined its worker threads (a save under way
    ends first), every file is closed, and only the printed output is left to flush."""
    kept: list[Command] = []
    code = main(kept=kept)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `icp-tui list | head`: the reader left before the last lines
        pass
    os._exit(code)


if __name__ == "__main__":
    console()
