"""The daily report on the queue: counts, breaches, tickets needed, authority review times.

`build_report` computes everything once into a `Report`; the renderers (text for a mail from
cron, Markdown, JSON) and the dashboard's statistics screen only present it. Counts come from
the same `Queue` as `list --json`, so the report and the list always agree.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.estimate import Basis, percentile
from icp_tui.domain.filing import BEIJING, Filing, stamp, time_of_day
from icp_tui.domain.naming import counted
from icp_tui.domain.sla import HEALTH_ORDER, Health, SlaPolicy, review_days_used
from icp_tui.domain.stages import STAGE_ORDER, SlaClock, Stage, rule
from icp_tui.queue import Queue

#: How many days the breaches-per-day series covers (today included).
BREACH_DAYS = 30
#: Longest domain or entity shown in the text and Markdown reports (the JSON has them whole).
SHOWN_TEXT = 48


@dataclass(frozen=True, slots=True)
class BreachedFiling:
    """A filing past its due time, and how far over."""

    id: str
    domain: str
    entity: str
    province: str
    stage: Stage
    over: str
    due: datetime | None
    assignee: str | None


@dataclass(frozen=True, slots=True)
class TicketNeeded:
    """More Alibaba Cloud review since the latest submission than the policy allows before a
    ticket (`SlaPolicy.escalate_after_bd`), and no ticket yet."""

    id: str
    domain: str
    entity: str
    stage: Stage
    review_days: int
    assignee: str | None


@dataclass(frozen=True, slots=True)
class Expiring:
    """An order not yet with the authority that expires within EXPIRING_DAYS (or has)."""

    id: str
    domain: str
    entity: str
    stage: Stage
    expires_at: datetime
    assignee: str | None


#: The report lists orders expiring within this many days.
EXPIRING_DAYS = 5


@dataclass(frozen=True, slots=True)
class ProvinceReview:
    """How long one province's communications administration took over finished reviews."""

    province: str
    median_bd: float
    target_bd: int
    longest_bd: int
    reviews: int
    #: Nine in ten of the reviews took at most this (nearest rank, as the approval estimate).
    p90_bd: int = 0

    @property
    def over_target(self) -> bool:
        return self.median_bd > self.target_bd


@dataclass(frozen=True, slots=True)
class SlowReview:
    """A filing still in authority review past its P90: slower than 9 in 10 of its province's
    recent reviews."""

    id: str
    domain: str
    province: str
    entered_at: datetime
    p90: datetime
    assignee: str | None


@dataclass(frozen=True, slots=True)
class ClosedFiling:
    """A filing approved, rejected or withdrawn today (Beijing date)."""

    id: str
    domain: str
    entity: str
    stage: Stage
    at: datetime
    icp_number: str | None


@dataclass(frozen=True)
class Report:
    """The queue at `now`, summarised; built by `build_report`."""

    now: datetime
    total: int
    #: Every stage (STAGE_ORDER) -> every health (HEALTH_ORDER) -> filings; zeros included.
    by_stage: Mapping[Stage, Mapping[Health, int]]
    by_health: Mapping[Health, int]
    #: Most overdue first (the dashboard's urgency order).
    breached: tuple[BreachedFiling, ...]
    #: Longest in review first.
    needs_ticket: tuple[TicketNeeded, ...]
    #: Provinces with at least one finished authority review, by name.
    authority_review: tuple[ProvinceReview, ...]
    #: In the order they closed.
    closed_today: tuple[ClosedFiling, ...]
    #: The last BREACH_DAYS Beijing dates, oldest first, with how many SLA breaches began then.
    breaches_per_day: tuple[tuple[date, int], ...]
    #: Business days of Alibaba Cloud review after which a filing needs a ticket.
    ticket_after_bd: int
    #: Orders expiring within EXPIRING_DAYS, or expired, soonest first.
    expiring: tuple[Expiring, ...] = ()
    #: Provisional years (no official holiday schedule) that due dates and verdicts rely on.
    provisional_years: tuple[int, ...] = ()
    #: In authority review past their P90 (estimates from history only), longest over first.
    slower_than_p90: tuple[SlowReview, ...] = ()
    #: The window of the review figures: reviews decided in this many last days.
    window_days: int = 180

    @property
    def breached_count(self) -> int:
        """Filings breached now (`report --fail-on-breach` exits 3 when this is not 0)."""
        return self.by_health[Health.BREACHED]

    def stage_total(self, stage: Stage) -> int:
        return sum(self.by_stage[stage].values())


def build_report(
    filings: Iterable[Filing], reference: Reference, now: datetime, *, days: int = BREACH_DAYS
) -> Report:
    """Summarise `filings` at `now` in one pass (filings may be a generator over the store)."""
    policy = reference.policy
    queue = Queue(reference, now)
    today = now.astimezone(BEIJING).date()
    first_day = today - timedelta(days=days - 1)
    window_start = datetime.combine(first_day, datetime.min.time(), BEIJING)
    breach_days: dict[date, int] = {first_day + timedelta(days=i): 0 for i in range(days)}
    tickets: list[TicketNeeded] = []
    closed: list[ClosedFiling] = []

    with queue.loading():  # the estimates once, after every review is counted
        for filing in filings:
            entry = queue.put(filing)
            if entry.needs_ticket:
                tickets.append(
                    TicketNeeded(
                        filing.id,
                        filing.domain,
                        filing.entity,
                        filing.stage,
                        review_days_used(filing, policy, now),
                        filing.assignee,
                    )
                )
            for moment in breach_instants(filing, policy, now, since=window_start):
                breach_days[moment.astimezone(BEIJING).date()] += 1
            closed_at = filing.entered_at
            if filing.closed and closed_at <= now and closed_at.astimezone(BEIJING).date() == today:
                closed.append(
                    ClosedFiling(
                        filing.id,
                        filing.domain,
                        filing.entity,
                        filing.stage,
                        closed_at,
                        filing.icp_number,
                    )
                )

    by_stage = {stage: dict.fromkeys(HEALTH_ORDER, 0) for stage in STAGE_ORDER}
    for entry in queue.entries.values():
        by_stage[entry.stage][entry.health] += 1
    counts = queue.counts()
    by_health = {health: counts.get(health, 0) for health in HEALTH_ORDER}

    breached = tuple(
        BreachedFiling(
            e.id,
            e.domain,
            e.entity,
            e.province,
            e.stage,
            e.left(reference, now),
            e.times.due_at,
            e.assignee,
        )
        for e in sorted(
            (e for e in queue.entries.values() if e.health is Health.BREACHED),
            key=lambda e: e.urgency(),
        )
    )
    # The reviews the approval estimates rest on: those decided in the window.
    history = queue.review_history
    authority = tuple(
        ProvinceReview(
            province=province,
            median_bd=float(statistics.median(taken)),
            target_bd=(
                policy.target(Stage.AUTHORITY_REVIEW, province) or policy.default_authority_target
            ),
            longest_bd=max(taken),
            reviews=len(taken),
            p90_bd=percentile(taken, 90),
        )
        for province in history.provinces()
        for taken in [history.days(province)]
    )
    slow = sorted(
        (
            e
            for e in queue.entries.values()
            if e.eta is not None and e.eta.basis is Basis.HISTORY and e.eta.p90 < now
        ),
        key=lambda e: (e.eta.p90 if e.eta else now, e.id),
    )
    years = {
        y for e in queue.entries.values() for y in e.provisional_years(reference.calendar, now)
    }
    soon = now + timedelta(days=EXPIRING_DAYS)
    expiring = sorted(
        (e for e in queue.entries.values() if e.expires_at is not None and e.expires_at <= soon),
        key=lambda e: (e.expires_at, e.id),
    )
    return Report(
        now=now,
        total=len(queue.entries),
        by_stage=by_stage,
        by_health=by_health,
        breached=breached,
        needs_ticket=tuple(sorted(tickets, key=lambda t: (-t.review_days, t.id))),
        authority_review=authority,
        closed_today=tuple(sorted(closed, key=lambda c: (c.at, c.id))),
        breaches_per_day=tuple(breach_days.items()),
        ticket_after_bd=policy.escalate_after_bd,
        expiring=tuple(
            Expiring(e.id, e.domain, e.entity, e.stage, e.expires_at, e.assignee)
            for e in expiring
            if e.expires_at is not None
        ),
        provisional_years=tuple(reference.calendar.provisional_years(years | {today.year})),
        slower_than_p90=tuple(
            SlowReview(e.id, e.domain, e.province, e.times.entered_at, e.eta.p90, e.assignee)
            for e in slow
            if e.eta is not None
        ),
        window_days=queue.window_days,
    )


# -- what the history says ---------------------------------------------------------------------


def breach_instants(
    filing: Filing, policy: SlaPolicy, now: datetime, since: datetime | None = None
) -> Iterator[datetime]:
    """When each stage clock of `filing` breached, up to `now` (and not before `since`).

    Each stay in a stage with a clock counts once, from the history: it breached if it was
    still in the stage at its breach instant, computed as `sla.sla_times` does (start of
    the day after the due day, or entry + 24 h for the SMS check). The current stay starts at
    `entered_at`, which an undo puts back to the first entry, like the health shown.
    """
    stays: list[tuple[Stage, datetime]] = []
    for entry in filing.history:
        if not entry.moved:
            continue  # a note, a ticket or their undo is not a new stay in the stage
        stays.append((entry.target, entry.at))
    last = len(stays) - 1
    for index, (stage, entered) in enumerate(stays):
        start = filing.entered_at if index == last else entered
        if index == last and filing.sms_sent_at is not None:
            start = filing.sms_sent_at  # the 24 hours restarted with the latest SMS
        end = now if index == last else min(stays[index + 1][1], now)
        if since is not None and end < since:
            continue  # left the stage before the window: any breach was earlier still
        breach = _breach_at(stage, filing.province, start, policy)
        if breach is not None and breach <= end and (since is None or breach >= since):
            yield breach


def _breach_at(stage: Stage, province: str, start: datetime, policy: SlaPolicy) -> datetime | None:
    clock = rule(stage).clock
    target = policy.target(stage, province)
    if target is None:
        return None
    if clock is SlaClock.BUSINESS_DAYS:
        # Past the due time, business day or not (DOMAIN.md): 00:00 after the due day.
        return policy.calendar.due(start, target) + timedelta(seconds=1)
    if clock is SlaClock.WALL_HOURS:
        return start + timedelta(hours=target)
    return None


# -- rendering ---------------------------------------------------------------------------------
# The listings are laid out once (`_listings`) and written as text or Markdown; the JSON takes
# each listed item's fields as they are.


def _short(text: str, width: int = SHOWN_TEXT) -> str:
    """Inert, and cut to `width` characters (a 10,000-character entity would fill the mail)."""
    shown = inert(text)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _health_line(report: Report) -> str:
    return ", ".join(f"{h.glyph} {report.by_health[h]} {h.word}" for h in HEALTH_ORDER)


def _stage_rows(report: Report) -> Iterator[list[str]]:
    for stage in STAGE_ORDER:
        counts = report.by_stage[stage]
        yield [
            rule(stage).short,
            str(report.stage_total(stage)),
            *(str(counts[h]) for h in HEALTH_ORDER),
        ]


_STAGE_HEADINGS = ["stage", "total", *(h.word for h in HEALTH_ORDER)]


@dataclass(frozen=True, slots=True)
class _Column:
    """One column of a listing."""

    heading: str
    #: Text from a filing (made inert, cut, escaped for Markdown); else words of our own.
    data: bool = True
    #: Where the text report cuts the column's data, and how wide it pads the column.
    width: int = SHOWN_TEXT
    pad: int = 0


@dataclass(frozen=True, slots=True)
class _Listing:
    """One section of the report after the counts: a title, columns and a row per item."""

    title: str
    #: What the text report says after the title (the Markdown heading is the title alone).
    note: str
    columns: tuple[_Column, ...]
    rows: tuple[tuple[str, ...], ...]
    #: The text report's padded table with a heading row, aligned "l" or "r" per column; None
    #: for one line per filing in the columns every filing listing shares.
    align: str | None = None
    empty_text: str = "none"
    empty_markdown: str = "None."


_ID = _Column("id", width=20, pad=14)
_STAGE = _Column("stage", data=False, pad=12)
_ASSIGNEE = _Column("assignee", width=16, pad=10)
_DOMAIN_ENTITY = (_Column("domain"), _Column("entity"))


def _listings(report: Report) -> list[_Listing]:
    now = report.now
    return [
        _Listing(
            f"Breached ({len(report.breached)})",
            ", most overdue first",
            (
                _ID,
                _Column("over", data=False, pad=10),
                _STAGE,
                _Column("province", width=20, pad=12),
                _ASSIGNEE,
                *_DOMAIN_ENTITY,
            ),
            tuple(
                (
                    b.id,
                    b.over,
                    rule(b.stage).short,
                    b.province,
                    b.assignee or "-",
                    b.domain,
                    b.entity,
                )
                for b in report.breached
            ),
        ),
        _Listing(
            f"Needing a ticket ({len(report.needs_ticket)})",
            f": over {report.ticket_after_bd} bd in review, no ticket",
            (_ID, _Column("in review", data=False, pad=10), _STAGE, _ASSIGNEE, *_DOMAIN_ENTITY),
            tuple(
                (
                    t.id,
                    f"{t.review_days} bd",
                    rule(t.stage).short,
                    t.assignee or "-",
                    t.domain,
                    t.entity,
                )
                for t in report.needs_ticket
            ),
        ),
        _Listing(
            f"Orders expiring within {EXPIRING_DAYS} days ({len(report.expiring)})",
            "",
            (_ID, _Column("expires", data=False, pad=10), _STAGE, _ASSIGNEE, *_DOMAIN_ENTITY),
            tuple(
                (
                    e.id,
                    _expiry_words(e, now),
                    rule(e.stage).short,
                    e.assignee or "-",
                    e.domain,
                    e.entity,
                )
                for e in report.expiring
            ),
        ),
        _Listing(
            "Authority review time by province",
            f" (business days; reviews decided in the last {report.window_days} days)",
            (
                _Column("province", width=20),
                *(
                    _Column(h, data=False)
                    for h in ("median bd", "p90 bd", "target bd", "longest bd")
                ),
                _Column("reviews", data=False),
                _Column("status", data=False),
            ),
            tuple(
                (
                    p.province,
                    f"{p.median_bd:g}",
                    str(p.p90_bd),
                    str(p.target_bd),
                    str(p.longest_bd),
                    str(p.reviews),
                    "OVER TARGET" if p.over_target else "ok",
                )
                for p in report.authority_review
            ),
            align="lrrrrrl",
            empty_text="none yet",
            empty_markdown="No finished reviews yet.",
        ),
        _Listing(
            f"Slower than 9 in 10 ({len(report.slower_than_p90)})",
            ": in authority review past the P90 of their province's reviews",
            (
                _ID,
                _Column("P90", data=False, pad=14),
                _Column("province", width=20, pad=12),
                _ASSIGNEE,
                _Column("domain"),
            ),
            tuple(
                (s.id, f"P90 {stamp(s.p90)[:10]}", s.province, s.assignee or "-", s.domain)
                for s in report.slower_than_p90
            ),
        ),
        _Listing(
            f"Closed today ({len(report.closed_today)})",
            "",
            (
                _ID,
                _Column("at", data=False),
                _Column("stage", data=False, pad=9),
                *_DOMAIN_ENTITY,
                _Column("ICP number"),
            ),
            tuple(
                (
                    c.id,
                    time_of_day(c.at),
                    rule(c.stage).short,
                    c.domain,
                    c.entity,
                    c.icp_number or "",
                )
                for c in report.closed_today
            ),
        ),
    ]


def _warnings(report: Report) -> list[str]:
    return [
        f"{year} is provisional: no official holiday schedule yet, so its business days follow "
        "the statutory holidays with no adjusted working days"
        for year in report.provisional_years
    ]


def _expiry_words(e: Expiring, now: datetime) -> str:
    if e.expires_at <= now:
        return "expired"
    return f"in {math.ceil((e.expires_at - now).total_seconds() / 86400)} d"


def _text_listing(listing: _Listing) -> list[str]:
    out = ["", f"{listing.title}{listing.note}:"]
    cells = [
        [
            _short(value, c.width) if c.data else value
            for c, value in zip(listing.columns, row, strict=True)
        ]
        for row in listing.rows
    ]
    if not cells:
        return [*out, f"  {listing.empty_text}"]
    if listing.align is not None:
        # The last column is a verdict: its heading goes without saying in a text table.
        headings = [c.heading for c in listing.columns[:-1]] + [""]
        return out + _table(headings, cells, listing.align, indent=2)
    return out + [
        "  " + "  ".join(cell.ljust(c.pad) for c, cell in zip(listing.columns, row, strict=True))
        for row in cells
    ]


def render_text(report: Report) -> str:
    """Plain text for a terminal or a mail; every data string is made inert."""
    out: list[str] = [
        f"ICP filing queue at {stamp(report.now)} (Beijing time)",
        f"{counted(report.total, 'filing')}: {_health_line(report)}",
        "",
    ]
    out += _table(_STAGE_HEADINGS, list(_stage_rows(report)), "lrrrrrr")
    for listing in _listings(report):
        out += _text_listing(listing)
    warnings = _warnings(report)
    if warnings:
        out += ["", *(f"Warning: {w}" for w in warnings)]
    return "\n".join(line.rstrip() for line in out) + "\n"


def _table(headings: list[str], rows: list[list[str]], align: str, indent: int = 0) -> list[str]:
    """Columns padded to their widest cell; `align` has an "l" or "r" per column."""
    widths = [max(len(row[i]) for row in [headings, *rows]) for i in range(len(headings))]

    def line(cells: list[str]) -> str:
        return " " * indent + "  ".join(
            cell.rjust(width) if how == "r" else cell.ljust(width)
            for cell, width, how in zip(cells, widths, align, strict=True)
        )

    return [line(headings), *(line(row) for row in rows)]


# Inside a table cell only these can start markup (list and heading marks need a line start).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~>#])")


def _md(text: str, width: int = SHOWN_TEXT) -> str:
    """Data for a Markdown table cell: inert, markup characters escaped, no HTML."""
    shown = _short(text, width).replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", shown)


def _md_table(headings: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _markdown_listing(listing: _Listing) -> list[str]:
    out = ["", f"## {listing.title}", ""]
    if not listing.rows:
        return [*out, listing.empty_markdown]
    # A table (authority review) cuts its data as the text report does; listings cut at 48.
    widths = [c.width if listing.align is not None else SHOWN_TEXT for c in listing.columns]
    rows = (
        [
            _md(value, w) if c.data else value
            for c, w, value in zip(listing.columns, widths, row, strict=True)
        ]
        for row in listing.rows
    )
    return out + _md_table([c.heading for c in listing.columns], rows)


def render_markdown(report: Report) -> str:
    """Markdown (GitHub flavour) for a mail or a wiki page; data is escaped and inert."""
    out = [
        f"# ICP filing queue at {stamp(report.now)} (Beijing time)",
        "",
        f"**{counted(report.total, 'filing')}**: {_health_line(report)}",
        "",
        "## By stage",
        "",
        *_md_table(_STAGE_HEADINGS, _stage_rows(report)),
    ]
    for listing in _listings(report):
        out += _markdown_listing(listing)
    warnings = _warnings(report)
    if warnings:
        out += ["", *(f"> **Warning**: {w}" for w in warnings)]
    return "\n".join(out) + "\n"


def _json_value(value: object) -> object:
    if isinstance(value, Stage):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _json_items(items: Iterable[Any], *extra: str) -> list[dict[str, Any]]:
    """Each item's fields (and the `extra` properties) in order, as JSON-ready values."""
    return [
        {
            name: _json_value(getattr(item, name))
            for name in (*(f.name for f in fields(item)), *extra)
        }
        for item in items
    ]


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready values (print with `display.inert_json`)."""
    return {
        "now": report.now.isoformat(),
        "total": report.total,
        "breached_count": report.breached_count,
        "by_health": {h.value: report.by_health[h] for h in HEALTH_ORDER},
        "by_stage": {
            stage.value: {
                "total": report.stage_total(stage),
                **{h.value: report.by_stage[stage][h] for h in HEALTH_ORDER},
            }
            for stage in STAGE_ORDER
        },
        "breached": _json_items(report.breached),
        "needs_ticket": _json_items(report.needs_ticket),
        "authority_review": _json_items(report.authority_review, "over_target"),
        "closed_today": _json_items(report.closed_today),
        "breaches_per_day": [
            {"date": day.isoformat(), "breaches": n} for day, n in report.breaches_per_day
        ],
        "expiring": _json_items(report.expiring),
        "provisional_years": list(report.provisional_years),
        "review_window_days": report.window_days,
        "slower_than_p90": _json_items(report.slower_than_p90),
    }
