"""Export the queue to CSV or JSON, and import filings from a CSV file.

Export writes what `list --json` shows, plus the times an import needs to rebuild the filing
(`submitted_at`, `entered_at`) and its ICP number. The CSV opens cleanly in a spreadsheet:
UTF-8 with a byte order mark (so Excel shows Chinese names), and cells that a spreadsheet would
run as a formula are quoted with a leading apostrophe, which the import takes off again.

Import is all or nothing by default: every row is checked before anything is written, and any
bad row refuses the whole file, so a spreadsheet with a typo never half-lands in the shared
database. Importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from icp_tui.config import Reference
from icp_tui.display import inert_json
from icp_tui.domain import transitions
from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.collector import gc_paused
from icp_tui.domain.errors import IcpError, InvalidInput
from icp_tui.domain.filing import BEIJING, Checklist, EntityType, Filing, Transition
from icp_tui.domain.naming import counted
from icp_tui.domain.sla import review_days_before_stay
from icp_tui.domain.stages import ALIBABA_CLOUD_REVIEW, CLOSED, Stage, rule
from icp_tui.queue import QueueEntry
from icp_tui.store import Store
from icp_tui.store.files import Policy
from icp_tui.store.journal import atomic_write

#: The keys of `list --json`, in its order.
LIST_KEYS: tuple[str, ...] = (
    "id",
    "domain",
    "entity",
    "entity_type",
    "province",
    "stage",
    "health",
    "due",
    "left",
    "escalate",
    "assignee",
    "ticket",
    "version",
    "expires_at",
    "expiry",
    "provisional_years",
)
#: What an import needs besides the `list --json` keys to rebuild a filing.
EXTRA_KEYS: tuple[str, ...] = (
    "submitted_at",
    "entered_at",
    "icp_number",
    # What the verdicts also depend on, so that an export followed by an import keeps them:
    # the order's first submission (expiry), the review days before the current stay
    # (escalation) and the latest SMS (the SMS check's 24 hours).
    "order_submitted_at",
    "review_bd",
    "sms_sent_at",
)
CSV_KEYS: tuple[str, ...] = LIST_KEYS + EXTRA_KEYS

#: The reason recorded on every history entry an import makes.
IMPORT_REASON = "imported"
#: How often (in rows) the progress callbacks are called.
PROGRESS_EVERY = 500

FilingLookup = Callable[[str], Filing]
_ESCALATING = ALIBABA_CLOUD_REVIEW | {Stage.AWAITING_PHOTO}
#: What the photo review (entered by advance) records of a filing's checklist.
_PHOTO_GIVEN = Checklist(admin_photo=True)
Progress = Callable[[int, int], None]


class ImportRefused(IcpError):
    """The CSV file has bad rows (or cannot be read), so nothing was imported."""


# -- export ------------------------------------------------------------------------------------


def export_rows(
    entries: Iterable[QueueEntry],
    filing: FilingLookup,
    reference: Reference,
    now: datetime,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """One row per entry, in the entries' order: its `list --json` object plus EXTRA_KEYS.

    `filing` looks a filing up by id (`store.get`, or a dict's `__getitem__`).
    """
    chosen = list(entries)
    total = len(chosen)
    rows = []
    for done, entry in enumerate(chosen, 1):
        record = filing(entry.id)
        row = entry.list_json(reference, now)
        row["submitted_at"] = record.submitted_at.astimezone(BEIJING).isoformat()
        row["entered_at"] = record.entered_at.astimezone(BEIJING).isoformat()
        row["icp_number"] = record.icp_number
        row["order_submitted_at"] = record.order_submitted_at.astimezone(BEIJING).isoformat()
        # Only where escalation can still follow: after a return, a rejection or the
        # submission to the authority, only a resubmission (which resets it) leads back.
        row["review_bd"] = (
            review_days_before_stay(record, reference.policy)
            if record.stage in _ESCALATING
            else None
        )
        sent = record.sms_sent_at
        row["sms_sent_at"] = sent.astimezone(BEIJING).isoformat() if sent else None
        rows.append(row)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return rows


def write_csv(rows: Iterable[dict[str, Any]], handle: TextIO, *, bom: bool = True) -> int:
    """Write `rows` as CSV with the CSV_KEYS header; return how many rows were written.

    `handle` is a text file opened with encoding="utf-8" and newline="" (the csv module does
    the line endings). The BOM is written here, so do not open it with "utf-8-sig" as well.
    """
    if bom:
        handle.write("\ufeff")
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(CSV_KEYS)
    count = 0
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in CSV_KEYS])
        count += 1
    return count


def write_json(
    rows: Iterable[dict[str, Any]], handle: TextIO, *, keys: Sequence[str] = LIST_KEYS
) -> int:
    """Write `rows` as a JSON array of `list --json` objects (`keys=CSV_KEYS`: everything).

    Formatted like `list --json`: UTF-8, indented, C1 and bidi characters escaped.
    """
    chosen = [{key: row.get(key) for key in keys} for row in rows]
    handle.write(inert_json(json.dumps(chosen, ensure_ascii=False, indent=2)))
    handle.write("\n")
    return len(chosen)


def save_csv(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write `rows` to the CSV file `path` atomically (a reader never sees half a file)."""
    path = Path(path)
    text = io.StringIO(newline="")  # the csv module writes the line endings
    count = write_csv(rows, text)
    # Readable by the user alone, as before: an export is a private copy, not the database.
    atomic_write(path, [text.getvalue().encode()], tmp_for=path, rule=Policy(0o600, None))
    return count


def export_file_name(now: datetime) -> str:
    """A default file name for an export made at `now`: icp-filings-20261125-150000.csv."""
    return f"icp-filings-{now.astimezone(BEIJING):%Y%m%d-%H%M%S}.csv"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # provisional_years
        return " ".join(str(item) for item in value)
    if isinstance(value, str):
        return defuse_formula(value)
    return str(value)


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). Leading
# apostrophes are counted too, so that quoting is reversible: see defuse_formula.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_DEFUSED = re.compile(r"'+[=+\-@\t\r]")


def defuse_formula(text: str) -> str:
    """`text` with an apostrophe in front if a spreadsheet would run it as a formula.

    Excel shows "=1+1" written as "'=1+1" as the text =1+1. `restore_formula` undoes it
    exactly, for every text: a text already starting with apostrophes then a formula character
    gets one more apostrophe, so nothing is ambiguous.
    """
    return "'" + text if _FORMULA.match(text) else text


def restore_formula(text: str) -> str:
    """The text `defuse_formula` was given."""
    return text[1:] if text[:1] == "'" and _DEFUSED.match(text) else text


# -- import ------------------------------------------------------------------------------------

#: Columns a CSV to import must have, and those it may have (any others are ignored).
REQUIRED_COLUMNS: tuple[str, ...] = ("domain", "entity", "province", "submitted_at")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "entity_type",
    "stage",
    "assignee",
    "id",
    "entered_at",
    "ticket",
    "icp_number",
    "order_submitted_at",
    "review_bd",
    "sms_sent_at",
)
_ID = re.compile(r"ICP-([0-9]{4})-([0-9]{5,})")
_ENTITY_TYPES: dict[str, EntityType] = {
    "company": EntityType.COMPANY,
    "企业": EntityType.COMPANY,
    "individual": EntityType.INDIVIDUAL,
    "个人": EntityType.INDIVIDUAL,
}
NOT_UTF8 = "the file is not UTF-8 text; save it as 'CSV UTF-8' (Excel) or UTF-8 and try again"
#: Earlier than this is a typo (and would make the calendar count from year 1).
_EARLIEST_YEAR = 2000

NaturalKey = tuple[str, str, str, datetime]


@dataclass
class ImportPlan:
    """What importing a CSV file would do; nothing is written until `apply_import`."""

    #: New filings to add, in the order of the file.
    filings: list[Filing] = field(default_factory=list)
    #: Rows skipped because the filing is already in the database (or earlier in the file).
    skipped_duplicates: int = 0
    #: One `line N: why` per bad row, in the order of the file.
    errors: list[str] = field(default_factory=list)
    #: Data rows read (blank rows not counted).
    rows: int = 0
    #: The file itself is unusable (no header, not UTF-8, broken quoting): never import.
    fatal: bool = False
    #: Ids this plan made up for rows without one (may be renumbered if taken meanwhile).
    generated: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Row:
    """One checked row."""

    line: int
    id: str | None
    domain: str
    entity: str
    entity_type: EntityType
    province: str
    submitted_at: datetime
    entered_at: datetime
    stage: Stage
    assignee: str | None
    ticket: str | None
    icp_number: str | None
    order_submitted_at: datetime
    review_bd: int
    sms_sent_at: datetime | None

    @property
    def key(self) -> NaturalKey:
        return natural_key(self.domain, self.entity, self.province, self.submitted_at)


def natural_key(domain: str, entity: str, province: str, submitted_at: datetime) -> NaturalKey:
    """What makes a row without id the same filing: domain (any case), entity, province and
    the instant of submission."""
    return (domain.casefold(), entity, province, submitted_at)


def stored_filings(store: Store) -> Iterator[Filing]:
    """Every filing of `store` (for `plan_import`'s `existing`)."""
    for filing_id in store.ids():
        yield store.get(filing_id)


def plan_import_file(
    path: Path,
    reference: Reference,
    existing: Iterable[Filing],
    actor: str,
    now: datetime,
) -> ImportPlan:
    """`plan_import` of the file at `path`, which must be UTF-8 (a BOM is fine).

    A file in another encoding (GBK from a Chinese Excel) is refused with the line of the
    first byte that is not UTF-8. OSError (no such file...) is left to the caller.
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return ImportPlan(
            errors=[f"line {line}: {NOT_UTF8}"],
            fatal=True,
        )
    return plan_import(io.StringIO(text, newline=""), reference, existing, actor, now)


def plan_import(
    handle: Iterable[str],
    reference: Reference,
    existing: Iterable[Filing],
    actor: str,
    now: datetime,
) -> ImportPlan:
    """Read and check every row of the CSV `handle` (a text file opened with newline="").

    `existing` are the filings already in the database. A row that is already there is
    skipped: with an id, when that id holds the same filing (domain, entity, province and one
    of its submission times); without one, when any filing matches. A new id is a new filing,
    checked like `add` (one open filing per domain), even if its content matches another's.
    Rows without id get fresh ids after the highest in use.
    """
    # The plan is 10,000s of small objects, all kept: the collector's scans of them would
    # cost a third of the planning, and the first one after the pause another tenth.
    with gc_paused(long_lived=True):
        return _planned(handle, reference, existing, actor, now)


def _planned(
    handle: Iterable[str],
    reference: Reference,
    existing: Iterable[Filing],
    actor: str,
    now: datetime,
) -> ImportPlan:
    plan = ImportPlan()
    #: The natural keys of each filing's submissions, by id.
    known_ids: dict[str, set[NaturalKey]] = {}
    known_keys: set[NaturalKey] = set()
    #: Domains (as DNS compares them) with an open filing: one open filing per domain.
    open_domains: dict[str, str] = {}
    for filing in existing:
        keys = set(_submission_keys(filing))
        known_ids[filing.id] = keys
        known_keys.update(keys)
        if not filing.closed:
            open_domains[transitions.domain_key(filing.domain)] = filing.id

    reader = csv.reader(handle)
    header_line, header = _next_row(reader, plan)
    if header is None:
        if not plan.errors:
            plan.errors.append(
                f"line {header_line}: the file is empty; expected a header row with "
                + ", ".join(REQUIRED_COLUMNS)
            )
        plan.fatal = True
        return plan
    columns = _columns(header, header_line, plan)
    if columns is None:
        plan.fatal = True
        return plan

    rows: list[_Row] = []
    reserved: set[str] = set(known_ids)  # ids in use or claimed by the file, even on bad rows
    while True:
        line, cells = _next_row(reader, plan)
        if cells is None:
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a spreadsheet's empty ",,,," row
        plan.rows += 1
        width = len(cells)
        values = {name: cells[index] if index < width else "" for name, index in columns.items()}
        for name, value in values.items():
            if value[:1] == "'":  # only such a cell can have been quoted by an export
                values[name] = restore_formula(value)
        claimed = values.get("id", "").strip()
        if _ID.fullmatch(claimed):
            reserved.add(claimed)
        checked = _check_row(line, values, reference, now)
        if isinstance(checked, str):
            plan.errors.append(f"line {line}: {checked}")
        else:
            rows.append(checked)

    _plan_filings(
        plan, rows, known_ids, known_keys, reserved, actor, reference.calendar, open_domains
    )
    plan.errors.sort(key=_line_of)  # a clash between two rows is found after both were read
    return plan


def _line_of(error: str) -> int:
    return int(error.removeprefix("line ").partition(":")[0])


def apply_import(
    store: Store,
    plan: ImportPlan,
    progress: Progress | None = None,
    *,
    skip_bad: bool = False,
) -> int:
    """Add the planned filings to `store` in one commit; return how many were added.

    Refuses (ImportRefused, nothing written) if the plan has bad rows, unless `skip_bad`; a
    file that could not be read through is refused even then. A filing added by someone else
    meanwhile is skipped; a made-up id taken meanwhile is renumbered. All or nothing: if the
    save fails, nothing was added.
    """
    if plan.fatal:
        raise ImportRefused(f"{plan.errors[0]}; nothing was imported")
    if plan.errors and not skip_bad:
        bad = len(plan.errors)
        raise ImportRefused(
            f"{counted(bad, 'bad row')}: nothing was imported "
            "(--skip-bad imports the good rows and reports the rest)"
        )
    if not plan.filings:
        return 0
    return len(store.add_many(lambda existing: _still_new(plan, existing), progress))


def _still_new(plan: ImportPlan, existing: set[str]) -> list[Filing]:
    """The planned filings as they can be added now, to a store holding `existing`."""
    taken: set[str] | None = None
    filings = []
    for filing in plan.filings:
        if filing.id in existing:
            if filing.id not in plan.generated:
                continue  # someone added it between the plan and the save
            # Rare (another import raced us): the full scan of next_filing_id is fine here.
            if taken is None:
                taken = existing | {f.id for f in plan.filings}
            fresh = transitions.next_filing_id(taken, filing.submitted_at)
            taken.add(fresh)
            filing = replace(filing, id=fresh)
        filings.append(filing)
    return filings


def _next_row(reader: Any, plan: ImportPlan) -> tuple[int, list[str] | None]:
    """The next record and the physical line it starts on; None at the end or on a CSV error."""
    line = int(reader.line_num) + 1
    try:
        return line, next(reader)
    except StopIteration:
        return line, None
    except csv.Error as error:
        plan.errors.append(f"line {line}: not readable as CSV ({error})")
    except UnicodeDecodeError:  # a handle opened by the caller (plan_import_file checks first)
        plan.errors.append(f"line {line}: {NOT_UTF8}")
    plan.fatal = True
    return line, None


def _column_name(text: str) -> str:
    # "Submitted at", "submitted-at" and "submitted_at" all name the same column.
    return re.sub(r"[\s\-]+", "_", text.lstrip("\ufeff").strip().casefold())


def _columns(header: list[str], line: int, plan: ImportPlan) -> dict[str, int] | None:
    """Column name -> index for the columns we read; None (and an error) if unusable."""
    wanted = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = _column_name(raw)
        if name not in wanted:
            continue
        if name in columns:
            plan.errors.append(f"line {line}: the column {name!r} appears twice in the header")
            return None
        columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        needs = (
            ""
            if len(missing) == len(REQUIRED_COLUMNS)
            else f" (it needs {', '.join(REQUIRED_COLUMNS)})"
        )
        plan.errors.append(f"line {line}: the header has no column {', '.join(missing)}{needs}")
        return None
    return columns


def _check_row(
    line: int, values: dict[str, str], reference: Reference, now: datetime
) -> _Row | str:
    """The checked row, or every reason it is bad, joined with "; "."""
    problems: list[str] = []

    def text(name: str, required: bool) -> str | None:
        value = values.get(name, "")
        if not value.strip():
            if required:
                problems.append(f"{name} is empty")
            return None
        try:  # stored exactly as given: only emptiness and length are checked
            return transitions.clean_text(value, name)
        except InvalidInput as error:
            problems.append(str(error).removeprefix("the "))
            return None

    domain = text("domain", required=True)
    if domain is not None:
        try:
            transitions.check_domain(domain)
        except InvalidInput as error:
            problems.append(str(error))
            domain = None
    entity = text("entity", required=True)
    assignee = text("assignee", required=False)
    ticket = text("ticket", required=False)
    icp_number = text("icp_number", required=False)

    filing_id = values.get("id", "").strip() or None
    if filing_id is not None and not _ID.fullmatch(filing_id):
        problems.append(f"id {_shown(filing_id)} is not like ICP-2026-00042")

    kind = values.get("entity_type", "").strip()
    entity_type = _ENTITY_TYPES.get(kind.casefold()) if kind else EntityType.COMPANY
    if entity_type is None:
        problems.append(f"entity_type {_shown(kind)} is not company or individual (企业 / 个人)")

    province_text = values.get("province", "")
    province = reference.provinces.get(province_text.strip()) if province_text.strip() else None
    if not province_text.strip():
        problems.append("province is empty")
    elif province is None:
        problems.append(f"unknown province {_shown(province_text.strip())}")

    stage_text = values.get("stage", "").strip()
    stage: Stage | None = Stage.PRELIMINARY_REVIEW
    if stage_text:
        try:
            stage = Stage(stage_text.casefold())
        except ValueError:
            stage = None
            problems.append(f"unknown stage {_shown(stage_text)}")

    submitted_at = _time(values, "submitted_at", now, problems, required=True)
    entered_at = _time(values, "entered_at", now, problems, required=False)
    if submitted_at is not None and entered_at is not None and entered_at < submitted_at:
        problems.append("entered_at is before submitted_at")
    if stage is Stage.PRELIMINARY_REVIEW or entered_at is None:
        entered_at = submitted_at  # in preliminary review, the submission is the entry
    order_submitted_at = _time(values, "order_submitted_at", now, problems, required=False)
    if (
        order_submitted_at is not None
        and submitted_at is not None
        and order_submitted_at > submitted_at
    ):
        problems.append("order_submitted_at is after submitted_at")
    sms_sent_at = _time(values, "sms_sent_at", now, problems, required=False)
    if stage is not Stage.SMS_VERIFICATION:
        sms_sent_at = None  # only the SMS check counts from the latest SMS
    elif sms_sent_at is not None and entered_at is not None and sms_sent_at < entered_at:
        problems.append("sms_sent_at is before entered_at")
    review_text = values.get("review_bd", "").strip()
    review_bd = 0  # none known: never invent review days
    if review_text:
        if review_text.isdigit() and int(review_text) <= 10_000:
            review_bd = int(review_text)
        else:
            problems.append(f"review_bd {_shown(review_text)} is not a number of business days")

    if problems:
        return "; ".join(problems)
    assert domain is not None and entity is not None and entity_type is not None
    assert province is not None and stage is not None
    assert submitted_at is not None and entered_at is not None
    return _Row(
        line=line,
        id=filing_id,
        domain=domain,
        entity=entity,
        entity_type=entity_type,
        province=province.name,
        submitted_at=submitted_at,
        entered_at=entered_at,
        stage=stage,
        assignee=assignee,
        ticket=ticket,
        icp_number=icp_number,
        order_submitted_at=order_submitted_at or submitted_at,
        review_bd=review_bd,
        sms_sent_at=sms_sent_at,
    )


def _shown(value: str) -> str:
    """A value quoted for a one-line message: escapes visible, cut short."""
    quoted = repr(value)
    return quoted if len(quoted) <= 42 else quoted[:40] + "…'"


def _time(
    values: dict[str, str], name: str, now: datetime, problems: list[str], required: bool
) -> datetime | None:
    """An ISO 8601 time; without an offset it is Beijing time."""
    raw = values.get(name, "").strip()
    if not raw:
        if required:
            problems.append(f"{name} is empty")
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name} {_shown(raw)} is not an ISO 8601 time like 2026-11-20T10:30+08:00")
        return None
    # The year first: converting a time near year 1 or 9999 to Beijing time could overflow.
    if not _EARLIEST_YEAR <= moment.year <= now.year + 1:
        problems.append(f"{name} {_shown(raw)} is not a plausible year")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    if moment > now:
        problems.append(f"{name} {_shown(raw)} is in the future")
        return None
    return moment.astimezone(BEIJING)


def _submission_keys(filing: Filing) -> Iterator[NaturalKey]:
    """The natural keys of every submission of `filing` (a resubmission moves submitted_at)."""
    yield natural_key(filing.domain, filing.entity, filing.province, filing.submitted_at)
    for entry in filing.history:
        if entry.target is Stage.PRELIMINARY_REVIEW and not entry.undo:
            yield natural_key(filing.domain, filing.entity, filing.province, entry.at)


def _plan_filings(
    plan: ImportPlan,
    rows: list[_Row],
    known_ids: dict[str, set[NaturalKey]],
    known_keys: set[NaturalKey],
    reserved: set[str],
    actor: str,
    calendar: BusinessCalendar,
    open_domains: dict[str, str],
) -> None:
    """Drop duplicates, refuse a second open filing of a domain, give ids, and build the
    filings of the good rows."""
    seen_ids: dict[str, _Row] = {}
    seen_keys: set[NaturalKey] = set()
    fresh: list[_Row] = []
    for row in rows:
        if row.id is not None and row.id in seen_ids:
            first = seen_ids[row.id]
            if first.key == row.key:
                plan.skipped_duplicates += 1
            else:
                plan.errors.append(
                    f"line {row.line}: id {row.id} is also on line {first.line}, for another filing"
                )
            continue
        if row.id is not None:
            seen_ids[row.id] = row
            stored = known_ids.get(row.id)
            if stored is not None:
                if row.key in stored:
                    plan.skipped_duplicates += 1
                else:
                    plan.errors.append(
                        f"line {row.line}: id {row.id} is already in the database, "
                        "for another filing"
                    )
                continue
        elif row.key in known_keys or row.key in seen_keys:
            plan.skipped_duplicates += 1  # no id to go by: the same filing's content
            continue
        seen_keys.add(row.key)
        if row.stage not in CLOSED:
            domain = transitions.domain_key(row.domain)
            other = open_domains.get(domain)
            if other is not None:
                plan.errors.append(
                    f"line {row.line}: {row.domain} already has an open filing "
                    f"({other}): a domain gets one open filing at a time"
                )
                continue
            open_domains[domain] = row.id or f"line {row.line}"
        fresh.append(row)

    # Per year, the highest id in use: next_filing_id then only needs that one id, instead of
    # scanning every id for each of thousands of rows.
    highest: dict[str, str] = {}
    for taken in reserved:
        match = _ID.fullmatch(taken)
        if match:
            prefix = f"ICP-{match.group(1)}-"
            current = highest.get(prefix)
            if current is None or int(match.group(2)) > int(current[len(prefix) :]):
                highest[prefix] = taken
    for row in fresh:
        if row.id is not None:
            filing_id = row.id
        else:
            prefix = f"ICP-{row.submitted_at.astimezone(BEIJING).year}-"
            last = highest.get(prefix)
            filing_id = transitions.next_filing_id({last} if last else set(), row.submitted_at)
            highest[prefix] = filing_id
            plan.generated.add(filing_id)
        plan.filings.append(_build_filing(row, filing_id, actor, calendar))


@cache  # the same few paths for every row
def _path_to(stage: Stage) -> tuple[Stage, ...]:
    """The stages an imported filing passes through after preliminary review to `stage`."""
    if stage in (Stage.RETURNED, Stage.WITHDRAWN):
        return (stage,)
    if stage is Stage.REJECTED:
        return (*_path_to(Stage.AUTHORITY_REVIEW), Stage.REJECTED)
    path: list[Stage] = []
    current = Stage.PRELIMINARY_REVIEW
    while current is not stage:
        following = rule(current).happy_next
        assert following is not None, stage
        path.append(following)
        current = following
    return tuple(path)


def _build_filing(row: _Row, filing_id: str, actor: str, calendar: BusinessCalendar) -> Filing:
    """The filing of a checked row, moved to its stage along the stage table.

    Every move is by `actor` with the reason "imported". The history is made so that the
    verdicts survive an export and import, and no review day is invented: the stage is
    entered at `entered_at`; of the gap since the submission, `review_bd` business days are
    spent in preliminary review and the rest waiting for the photo (the applicant's time). An
    order first submitted before `submitted_at` gets a return and resubmission at those times.

    Built in one go rather than move by move with `transitions.advance` (a copy of the filing
    per move made importing 10,000 rows slow); it is the filing those moves make, as the tests
    show. The store checks its history (`check_history`) before saving it.
    """
    first = row.order_submitted_at
    history = [Transition(first, actor, None, Stage.PRELIMINARY_REVIEW, IMPORT_REASON)]
    if row.submitted_at > first:
        history.append(
            Transition(first, actor, Stage.PRELIMINARY_REVIEW, Stage.RETURNED, IMPORT_REASON)
        )
        history.append(
            Transition(
                row.submitted_at, actor, Stage.RETURNED, Stage.PRELIMINARY_REVIEW, IMPORT_REASON
            )
        )
    review_left = row.submitted_at
    if row.review_bd > 0:
        review_left = min(
            row.entered_at, calendar.start_of_business_day(row.submitted_at, row.review_bd)
        )
    path = _path_to(row.stage)
    for index, target in enumerate(path):
        last = index == len(path) - 1
        when = review_left if target is Stage.AWAITING_PHOTO and not last else row.entered_at
        history.append(Transition(when, actor, history[-1].target, target, IMPORT_REASON))
    # The assignee, ticket, ICP number and SMS are the filing's state as the file has it, not
    # changes by the actor; an approval keeps its number unchecked, so that one exported before
    # ICP numbers were required (or in an older form) still imports.
    latest = history[-1].at
    return Filing(
        id=filing_id,
        domain=row.domain,
        entity=row.entity,
        entity_type=row.entity_type,
        province=row.province,
        stage=row.stage,
        entered_at=latest,
        submitted_at=row.submitted_at,
        history=tuple(history),
        version=len(history),
        assignee=row.assignee,
        checklist=_PHOTO_GIVEN if Stage.PHOTO_REVIEW in path else Checklist(),
        ticket=row.ticket,
        icp_number=row.icp_number,
        updated_at=latest,
        updated_by=actor,
        sms_sent_at=row.sms_sent_at,
    )
