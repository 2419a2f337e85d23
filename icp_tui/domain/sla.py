"""SLA targets and health of a filing at a given time.

The clock of a stage starts when the filing enters it and stops when it leaves. Health only
changes at a few instants (at risk, breached, escalation), so `SlaTimes` computes those instants
once per filing and `SlaTimes.health(now)` is a pair of comparisons: that is what lets a clock
tick re-check 50,000 filings in a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from icp_tui.domain.calendar import BusinessCalendar, day_of, day_start
from icp_tui.domain.filing import BEIJING, Filing
from icp_tui.domain.naming import pick
from icp_tui.domain.stages import (
    ALIBABA_CLOUD_REVIEW,
    CLOSED,
    SUBMITTED_TO_AUTHORITY,
    SlaClock,
    Stage,
    rule,
)
from icp_tui.domain.summary import FilingSummary, summarize


class Health(StrEnum):
    """SLA health; each has a glyph and a word so it reads without colour."""

    BREACHED = "breached"
    AT_RISK = "at_risk"
    ON_TRACK = "on_track"
    WAITING = "waiting"
    DONE = "done"

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def word(self) -> str:
        return self.value.replace("_", " ")

    @property
    def option(self) -> str:
        """How the command line spells it ("at-risk"): --health's help and its errors."""
        return self.value.replace("_", "-")

    @property
    def rank(self) -> int:
        """Position in DOMAIN.md's "most urgent first" order."""
        return _RANKS[self]


def find_health(text: str) -> Health:
    """The health that staff name: its id or word, or an unambiguous prefix ("at-risk",
    "breach"), in any case; ValueError otherwise."""
    return pick(text, {h: (h.option, h.word) for h in Health}, "health")


_GLYPHS = {
    Health.BREACHED: "✖",
    Health.AT_RISK: "▲",
    Health.ON_TRACK: "●",
    Health.WAITING: "○",
    Health.DONE: "✔",
}
HEALTH_ORDER: tuple[Health, ...] = tuple(Health)
_RANKS = {health: i for i, health in enumerate(HEALTH_ORDER)}

DEFAULT_AUTHORITY_TARGET_BD = 20
NEVER = math.inf
_LAST_SECOND = 86399.0  # a business-day target is due at 23:59:59 of its last day


@dataclass(frozen=True)
class SlaPolicy:
    """Targets and thresholds; the per-province targets come from an editable data file."""

    calendar: BusinessCalendar
    authority_targets: Mapping[str, int] = field(default_factory=dict)
    default_authority_target: int = DEFAULT_AUTHORITY_TARGET_BD
    at_risk_fraction: float = 0.75
    review_target_bd: int = 1
    sms_hours: int = 24
    escalate_after_bd: int = 3
    #: Order expiry (DOMAIN.md): calendar days after the order's first submission when it
    #: expires, and from when the tool counts down to it. Data (expiry.toml), not code.
    expire_after_days: int = 45
    expiry_shown_from_days: int = 30

    def target(self, stage: Stage, province: str) -> int | None:
        """The stage's target: business days, hours for the SMS check, None if no clock runs."""
        clock = rule(stage).clock
        if clock is SlaClock.WALL_HOURS:
            return self.sms_hours
        if clock is not SlaClock.BUSINESS_DAYS:
            return None
        if stage is Stage.AUTHORITY_REVIEW:
            return self.authority_targets.get(province, self.default_authority_target)
        return self.review_target_bd


class SlaTimes(NamedTuple):
    """The instants (epoch seconds) at which a filing's health changes in its current stage.

    A NamedTuple, not a frozen dataclass: opening builds 50,000 of these, 4x faster.
    """

    clock: SlaClock
    entered_ts: float
    target: int | None
    due_ts: float | None
    risk_at: float
    breach_at: float
    escalate_at: float

    @property
    def entered_at(self) -> datetime:
        return datetime.fromtimestamp(self.entered_ts, BEIJING)

    @property
    def due_at(self) -> datetime | None:
        """End of the due day (business days) or the deadline (SMS check), Beijing time."""
        return None if self.due_ts is None else datetime.fromtimestamp(self.due_ts, BEIJING)

    def health(self, now: float) -> Health:
        """Health at `now` (epoch seconds): O(1)."""
        return _health(self.clock, self.risk_at, self.breach_at, now)

    def escalate(self, now: float) -> bool:
        """Alibaba Cloud review has taken more than 3 bd since the latest submission."""
        return now >= self.escalate_at

    def next_change(self, now: float) -> float:
        """The next instant after `now` at which health or escalation changes (inf: never)."""
        return self.changes_around(now)[0]

    def last_change(self, now: float) -> float:
        """The latest instant at or before `now` at which health or escalation changed
        (-inf: none): the health at an earlier time differs only if it is before this."""
        return self.changes_around(now)[1]

    def changes_around(self, now: float) -> tuple[float, float]:
        """`next_change` and `last_change` at once (the queue asks for both, per filing)."""
        soonest, latest = NEVER, -NEVER
        for instant in (self.risk_at, self.breach_at, self.escalate_at):
            if instant > now:
                if instant < soonest:
                    soonest = instant
            elif instant > latest:
                latest = instant
        return soonest, latest

    def sort_key(self, health: Health) -> float:
        """Within a health: most overdue / soonest due / longest waiting / latest closed first."""
        return _sort_key(health, self.entered_ts, self.due_ts)


def _health(clock: SlaClock, risk_at: float, breach_at: float, now: float) -> Health:
    if clock is SlaClock.STOPPED:
        return Health.DONE
    if clock is SlaClock.PAUSED:
        return Health.WAITING
    if now >= breach_at:
        return Health.BREACHED
    if now >= risk_at:
        return Health.AT_RISK
    return Health.ON_TRACK


def _sort_key(health: Health, entered_ts: float, due_ts: float | None) -> float:
    if health is Health.WAITING:
        return entered_ts
    if health is Health.DONE:
        return -entered_ts
    return NEVER if due_ts is None else due_ts


def sla_times(filing: Filing | FilingSummary, policy: SlaPolicy) -> SlaTimes:
    """Compute the instants for a filing (or its summary) once: a few array look-ups."""
    if isinstance(filing, Filing):
        filing = summarize(filing)
    return Deadlines(policy).times(filing)


class Deadlines:
    """`sla_times` for many filings under one policy (a queue's). A business-day stage's
    instants depend on its target and the day of entry alone, and an escalation's on the day
    of the last move and the days already used: thousands of filings share each, so each is
    worked out once (most of building the queue at 100,000 filings, otherwise)."""

    __slots__ = ("_days", "_escalations", "_targets", "policy")

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self._targets: dict[tuple[Stage, str], tuple[SlaClock, int | None]] = {}
        #: (day of entry, target) -> (due, at risk from).
        self._days: dict[tuple[int, int], tuple[float, float]] = {}
        #: (day of the last move, business days left) -> escalated from.
        self._escalations: dict[tuple[int, int], float] = {}

    def times(self, filing: FilingSummary) -> SlaTimes:
        """The instants of `filing`'s current stage."""
        clock, target, due_ts, risk_at, breach_at = self._clock(filing)
        escalate_at = NEVER
        if filing.stage in ALIBABA_CLOUD_REVIEW:
            escalate_at = self._escalate_at(filing)
        return SlaTimes(clock, filing.entered_ts, target, due_ts, risk_at, breach_at, escalate_at)

    def urgency(self, filing: FilingSummary, now: float) -> tuple[Health, float]:
        """`filing`'s health at `now` and its sort key within that health, as `times` would
        give them, without the escalation instant or the SlaTimes (the order of a whole queue,
        before its entries are made)."""
        clock, _, due_ts, risk_at, breach_at = self._clock(filing)
        health = _health(clock, risk_at, breach_at, now)
        return health, _sort_key(health, filing.entered_ts, due_ts)

    def _clock(
        self, filing: FilingSummary
    ) -> tuple[SlaClock, int | None, float | None, float, float]:
        """The stage's clock, its target, the due instant, and when it is at risk, breached."""
        stage = filing.stage
        known = self._targets.get((stage, filing.province))
        if known is None:
            known = self._targets[stage, filing.province] = (
                rule(stage).clock,
                self.policy.target(stage, filing.province),
            )
        clock, target = known
        if target is None:
            return clock, target, None, NEVER, NEVER
        if clock is SlaClock.BUSINESS_DAYS:
            key = (day_of(filing.entered_ts), target)
            instants = self._days.get(key)
            if instants is None:
                instants = self._days[key] = self._business_days(*key)
            due_ts, risk_at = instants
            # DOMAIN.md: breached once past the due time, business day or not: a filing due
            # Friday is breached from Saturday 00:00.
            return clock, target, due_ts, risk_at, due_ts + 1
        # The SMS check's 24 hours count from the latest SMS: a resend restarts them.
        sent = filing.sms_sent_ts if filing.sms_sent_ts is not None else filing.entered_ts
        due_ts = sent + target * 3600
        return clock, target, due_ts, sent + target * 3600 * self.policy.at_risk_fraction, due_ts

    def _business_days(self, day: int, target: int) -> tuple[float, float]:
        policy = self.policy
        cal = policy.calendar
        due_ts = day_start(cal.nth_after(day, target)) + _LAST_SECOND
        risk_day = max(1, math.ceil(policy.at_risk_fraction * target - 1e-9))
        return due_ts, day_start(cal.nth_after(day, min(risk_day, target)))

    def _escalate_at(self, filing: FilingSummary) -> float:
        # Days used since submission up to the last move; the current stretch runs from that
        # move (not from entered_at, which an undo puts back to the first entry into the stage).
        before = review_days_before_stay(filing, self.policy) if filing.review_stretches else 0
        remaining = self.policy.escalate_after_bd - before
        if remaining < 0:
            return -NEVER  # already over before this stretch began: escalated throughout
        key = (day_of(filing.last_move_ts), remaining)
        escalate_at = self._escalations.get(key)
        if escalate_at is None:
            cal = self.policy.calendar
            escalate_at = self._escalations[key] = day_start(cal.nth_after(key[0], remaining + 1))
        return escalate_at


def review_days_used(filing: Filing, policy: SlaPolicy, now: datetime) -> int:
    """Business days spent in Alibaba Cloud review stages since the latest submission."""
    used = 0
    # Moves only: a note in the stage does not end a stretch (see summarize).
    history = [entry for entry in filing.history if entry.moved]
    for entry, following in zip(history, (*history[1:], None), strict=True):
        if entry.at < filing.submitted_at or entry.target not in ALIBABA_CLOUD_REVIEW:
            continue
        if entry.at >= now:
            break
        left = min(following.at, now) if following else now
        used += policy.calendar.elapsed(entry.at, left)
    return used


def review_days_before_stay(filing: Filing | FilingSummary, policy: SlaPolicy) -> int:
    """Business days in Alibaba Cloud review since the latest submission, before the current
    stay (what an export carries so that an import keeps the escalation verdict)."""
    if isinstance(filing, Filing):
        filing = summarize(filing)
    cal = policy.calendar
    return sum(cal.elapsed_days(day_of(a), day_of(b)) for a, b in filing.review_stretches)


@dataclass(frozen=True, slots=True)
class SlaStatus:
    """A filing's SLA as a person reads it at one moment."""

    health: Health
    target: int | None
    unit: str
    used: int | None
    due_at: datetime | None
    left: str
    escalate: bool


def ticket_words(filing: Filing, status: SlaStatus, policy: SlaPolicy) -> str | None:
    """What the detail pane and `show` say of the ticket: the current submission's ticket
    (whatever stage it has reached since), else that one is needed, else None. The caller
    makes the reference inert."""
    if filing.ticket:
        return filing.ticket
    if status.escalate:
        return f"needed: Alibaba Cloud review over {policy.escalate_after_bd} bd since submission"
    return None


def sla_status(filing: Filing, policy: SlaPolicy, now: datetime) -> SlaStatus:
    """Health, time used and left in words, and the escalation flag at `now`."""
    return status_from_times(sla_times(filing, policy), policy, now)


def status_from_times(times: SlaTimes, policy: SlaPolicy, now: datetime) -> SlaStatus:
    """Like `sla_status`, from already computed instants."""
    stamp = now.timestamp()
    health = times.health(stamp)
    used = time_used(times, policy.calendar, now)
    return SlaStatus(
        health=health,
        target=times.target,
        unit={SlaClock.BUSINESS_DAYS: "bd", SlaClock.WALL_HOURS: "h"}.get(times.clock, ""),
        used=used,
        due_at=times.due_at,
        left=left_in_words(times, health, used, now),
        escalate=times.escalate(stamp),
    )


def time_used(times: SlaTimes, calendar: BusinessCalendar, now: datetime) -> int | None:
    """Business days (or whole hours for the SMS check) used in the stage; None if paused."""
    if times.clock is SlaClock.BUSINESS_DAYS:
        return calendar.elapsed(times.entered_at, now)
    if times.clock is SlaClock.WALL_HOURS:
        assert times.due_ts is not None and times.target is not None
        sent = times.due_ts - times.target * 3600
        # A resend may be stamped a few minutes ahead of the clock (MAX_AHEAD): none used yet.
        return max(0, int((now.timestamp() - sent) // 3600))
    return None


def left_in_words(times: SlaTimes, health: Health, used: int | None, now: datetime) -> str:
    """ "due today", "2 bd left", "3 bd over", "5 h left", "waiting 3 d", "closed"."""
    if health is Health.DONE:
        return "closed"
    if health is Health.WAITING:
        return "waiting " + duration_in_words(now - times.entered_at)
    assert times.due_at is not None and times.target is not None and used is not None
    if times.clock is SlaClock.WALL_HOURS:
        delta = times.due_at - now
        if health is Health.BREACHED:
            return duration_in_words(-delta) + " over"
        return duration_in_words(delta) + " left"
    if health is Health.BREACHED:
        over = used - times.target
        if over > 0:
            return f"{over} bd over"
        # The weekend or holiday right after the due day: no business day over yet.
        days = (now.astimezone(BEIJING).date() - times.due_at.date()).days
        return f"{days} d over"
    if now.astimezone(BEIJING).date() == times.due_at.date():
        return "due today"
    return f"{times.target - used} bd left"


def expires_at(filing: Filing | FilingSummary, policy: SlaPolicy) -> datetime | None:
    """When the order expires unsubmitted; None once with the authority or closed."""
    if filing.stage in SUBMITTED_TO_AUTHORITY or filing.stage in CLOSED:
        return None
    if isinstance(filing, Filing):
        start = filing.order_submitted_at.timestamp()
    else:
        start = filing.order_submitted_ts
    return datetime.fromtimestamp(start + policy.expire_after_days * 86400, BEIJING)


def expiry_in_words(expiry: datetime | None, policy: SlaPolicy, now: datetime) -> str | None:
    """ "expires in N d" from the countdown day, "expired" from the expiry; else None."""
    if expiry is None:
        return None
    left = (expiry - now).total_seconds()
    if left <= 0:
        return "expired"
    shown_for = (policy.expire_after_days - policy.expiry_shown_from_days) * 86400
    if left > shown_for:
        return None
    return f"expires in {math.ceil(left / 86400)} d"


def duration_in_words(delta: timedelta) -> str:
    """A short wall-clock duration: "40 min", "5 h", "3 d"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
