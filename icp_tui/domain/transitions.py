"""What staff do to a filing: advance, withdraw, note, ticket, assign, undo. Pure functions.

Each takes the filing as the person saw it, the time and the actor, and returns the changed
filing (version bumped, history appended) or raises an IcpError that says why not.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from icp_tui.domain.errors import (
    HistoryOutOfOrder,
    InvalidInput,
    TransitionNotAllowed,
    WithdrawNotAllowed,
)
from icp_tui.domain.filing import (
    BEIJING,
    Checklist,
    EntityType,
    Filing,
    Note,
    Transition,
    stamp,
    stamp_seconds,
)
from icp_tui.domain.provinces import ICP_ABBREVIATIONS, check_icp_number
from icp_tui.domain.stages import (
    CLOSED,
    REASONED_STAGES,
    SUBMITTED_TO_AUTHORITY,
    Stage,
    named,
    rule,
)

UNDO_WINDOW = timedelta(minutes=5)
MAX_TEXT = 10_000
#: How far ahead of the clock a change may be stamped (clocks of the staff's machines drift a
#: little); further ahead, it would block every real-time change until the clock caught up.
MAX_AHEAD = timedelta(minutes=5)
#: The reason recorded for a resent SMS (the SMS check's 24 hours restart from it).
SMS_RESENT = "SMS resent"


def in_minutes(span: timedelta) -> str:
    """A span of whole minutes in words, "5 minutes": for messages that state a window."""
    return f"{span // timedelta(minutes=1)} minutes"


def check_not_ahead(at: datetime, now: datetime) -> None:
    """Refuse a change stamped more than MAX_AHEAD after the real clock `now`."""
    if at - now > MAX_AHEAD:
        raise HistoryOutOfOrder(
            f"a change stamped {stamp_seconds(at)} is more than {in_minutes(MAX_AHEAD)} ahead "
            f"of the clock ({stamp_seconds(now)}): --now may look ahead only in commands that "
            "change nothing; nothing was changed"
        )


def advance_targets(stage: Stage) -> tuple[Stage, ...]:
    """Stages `advance` may move a filing in `stage` to (withdrawal has its own action)."""
    return tuple(s for s in rule(stage).next_stages if s is not Stage.WITHDRAWN)


def advance(
    filing: Filing,
    at: datetime,
    by: str,
    to: Stage | None = None,
    reason: str = "",
    icp_number: str | None = None,
) -> Filing:
    """Move to `to`, or to the next stage on the happy path."""
    current = rule(filing.stage)
    if filing.stage in CLOSED and not current.next_stages:
        raise TransitionNotAllowed(
            f"{filing.id} was {current.short} on {stamp(filing.entered_at)}: "
            "a closed filing does not move"
        )
    target = to or current.happy_next
    if target is Stage.WITHDRAWN:
        raise TransitionNotAllowed(f"{filing.id}: use withdraw, which asks for a reason")
    if target is None or target not in current.next_stages:
        allowed = ", ".join(named(s) for s in advance_targets(filing.stage)) or "none"
        raise TransitionNotAllowed(
            f"{filing.id} cannot move from {named(filing.stage)} to "
            f"{named(target) if target else 'nowhere'} (allowed: {allowed})"
        )
    if icp_number and target is not Stage.APPROVED:
        raise InvalidInput(f"{filing.id}: an ICP number is recorded only when approving")
    number = filing.icp_number
    if target is Stage.APPROVED:
        if not icp_number or not icp_number.strip():
            example = ICP_ABBREVIATIONS.get(filing.province, ("浙",))[0] + "ICP备2026012345号-1"
            raise InvalidInput(
                f"{filing.id}: approving records the ICP number the authority issued "
                f"(e.g. --icp-number {example})"
            )
        try:
            number = check_icp_number(icp_number, filing.province)
        except InvalidInput as error:
            raise InvalidInput(f"{filing.id}: {error}") from None
    why = clean_reason(reason)
    if target in REASONED_STAGES and not why.strip():
        raise InvalidInput(
            f"{filing.id}: moving to {named(target)} needs a reason for the applicant"
        )
    checklist = filing.checklist
    submitted_at = filing.submitted_at
    ticket = filing.ticket
    if target is Stage.PHOTO_REVIEW:
        checklist = replace(checklist, admin_photo=True)
    if target is Stage.PRELIMINARY_REVIEW:
        submitted_at = at  # a resubmission restarts the "Alibaba Cloud review" count
        checklist = Checklist()
        ticket = None  # a ticket belongs to a submission; the old one stays in the history
    return filing.changed(
        at,
        by,
        stage=target,
        entered_at=at,
        submitted_at=submitted_at,
        checklist=checklist,
        ticket=ticket,
        icp_number=number,
        sms_sent_at=None,
        history=(*filing.history, Transition(at, by, filing.stage, target, why)),
    )


def sms_resent(filing: Filing, at: datetime, by: str) -> Filing:
    """Record that the MIIT SMS was sent again: its 24 hours count from now."""
    if filing.stage is not Stage.SMS_VERIFICATION:
        raise TransitionNotAllowed(
            f"{filing.id} is in {named(filing.stage)}: an SMS is resent only during the SMS check"
        )
    return filing.changed(at, by, sms_sent_at=at, history=_recorded(filing, at, by, SMS_RESENT))


def sms_attempts(filing: Filing) -> list[Transition]:
    """The SMS sends of the current SMS check: entering it, then each resend."""
    if filing.stage is not Stage.SMS_VERIFICATION:
        return []
    entered = filing.last_move
    return [entered] + [
        e for e in filing.history if not e.moved and e.reason == SMS_RESENT and e.at >= entered.at
    ]


def submitted_to_authority_at(filing: Filing) -> datetime | None:
    """When the filing last went to the communications administration (entered SMS check)."""
    for entry in reversed(filing.history):
        if (
            entry.moved
            and entry.target is Stage.SMS_VERIFICATION
            and entry.at >= filing.submitted_at
        ):
            return entry.at
    return None


def withdraw_refusal(filing: Filing) -> str | None:
    """Why `filing` cannot be withdrawn now, or None if it can."""
    if rule(filing.stage).may_withdraw:
        return None
    if filing.stage is Stage.WITHDRAWN:
        return f"{filing.id} was already withdrawn on {stamp(filing.entered_at)}"
    if filing.stage in CLOSED:
        return (
            f"{filing.id} was {rule(filing.stage).short} by the communications administration on "
            f"{stamp(filing.entered_at)}: a decided filing cannot be withdrawn"
            + (" (resubmit it instead)" if filing.stage is Stage.REJECTED else "")
        )
    if filing.stage in SUBMITTED_TO_AUTHORITY:
        since = submitted_to_authority_at(filing) or filing.entered_at
        return (
            f"{filing.id} cannot be withdrawn: it was submitted to the communications "
            f"administration on {stamp(since)} (now in {named(filing.stage)}); "
            + (
                "the applicant must complete the SMS check (or it is returned to them)"
                if filing.stage is Stage.SMS_VERIFICATION
                else "wait for the authority's decision"
            )
        )
    return f"{filing.id} cannot be withdrawn from {named(filing.stage)}"


def withdraw(filing: Filing, at: datetime, by: str, reason: str) -> Filing:
    """Withdraw before submission to the communications administration; a reason is required."""
    refusal = withdraw_refusal(filing)
    if refusal:
        raise WithdrawNotAllowed(refusal)
    why = clean_reason(reason)
    if not why.strip():
        raise InvalidInput(f"{filing.id}: a withdrawal needs a reason")
    return filing.changed(
        at,
        by,
        stage=Stage.WITHDRAWN,
        entered_at=at,
        history=(*filing.history, Transition(at, by, filing.stage, Stage.WITHDRAWN, why)),
    )


def _recorded(filing: Filing, at: datetime, by: str, what: str) -> tuple[Transition, ...]:
    """The history with a change that is not a move recorded in it (the audit trail)."""
    return (*filing.history, Transition(at, by, filing.stage, filing.stage, what))


def add_note(filing: Filing, at: datetime, by: str, text: str) -> Filing:
    """Append a note."""
    body = clean_text(text, "note")
    return filing.changed(
        at,
        by,
        notes=(*filing.notes, Note(at, by, body)),
        history=_recorded(filing, at, by, "note added"),
    )


def record_ticket(filing: Filing, at: datetime, by: str, ticket: str) -> Filing:
    """Record the ICP Filing team ticket opened for an escalated filing."""
    reference = clean_text(ticket, "ticket reference")
    return filing.changed(
        at, by, ticket=reference, history=_recorded(filing, at, by, f"ticket {reference}")
    )


#: Stages in which the verification materials a province asks for are being awaited.
MATERIALS_STAGES = frozenset({Stage.AWAITING_PHOTO, Stage.PHOTO_REVIEW, Stage.AWAITING_SUBMISSION})


def record_materials(filing: Filing, at: datetime, by: str, received: bool) -> Filing:
    """Record that the applicant mailed the verification materials, or that they arrived."""
    if filing.stage not in MATERIALS_STAGES:
        raise TransitionNotAllowed(
            f"{filing.id} is in {named(filing.stage)}: mailed materials are recorded between the "
            "preliminary review and the submission to the communications administration"
        )
    if not received and filing.checklist.materials_received:
        raise TransitionNotAllowed(
            f"{filing.id}: the mailed materials were already received; they cannot go back "
            "to mailed"
        )
    checklist = replace(
        filing.checklist,
        materials_mailed=True,
        materials_received=received or filing.checklist.materials_received,
    )
    what = "materials received" if received else "materials mailed"
    return filing.changed(at, by, checklist=checklist, history=_recorded(filing, at, by, what))


def materials_state(filing: Filing, requires_mailing: bool) -> str | None:
    """Where the mailed verification materials stand: received, mailed or pending (None: the
    province asks for none)."""
    if not requires_mailing:
        return None
    if filing.checklist.materials_received:
        return "received"
    return "mailed" if filing.checklist.materials_mailed else "pending"


def assign(filing: Filing, at: datetime, by: str, assignee: str | None) -> Filing:
    """Give the filing to `assignee` (None: nobody)."""
    who = clean_text(assignee, "assignee") if assignee else None
    what = f"assigned to {who}" if who else "unassigned"
    return filing.changed(at, by, assignee=who, history=_recorded(filing, at, by, what))


def undo(current: Filing, before: Filing, after_version: int, at: datetime, by: str) -> Filing:
    """Undo `by`'s own last change: `before` is the filing as it was, `after_version` the
    version that change produced. Refused after UNDO_WINDOW or once anyone changed it since."""
    if current.version != after_version:
        raise TransitionNotAllowed(
            f"{current.id} was changed by {current.updated_by} at "
            f"{stamp(current.updated_at or at)} since your change: nothing to undo"
        )
    if current.updated_at is None or at - current.updated_at > UNDO_WINDOW:
        raise TransitionNotAllowed(
            f"{current.id}: your change is more than {in_minutes(UNDO_WINDOW)} old"
        )
    entry = Transition(at, by, current.stage, before.stage, "undo of the last change", undo=True)
    return current.changed(
        at,
        by,
        stage=before.stage,
        entered_at=before.entered_at if before.stage is not current.stage else current.entered_at,
        submitted_at=before.submitted_at,
        checklist=before.checklist,
        ticket=before.ticket,
        icp_number=before.icp_number,
        sms_sent_at=before.sms_sent_at,
        assignee=before.assignee,
        notes=before.notes,
        history=(*current.history, entry),
    )


def clean_reason(reason: str) -> str:
    """A reason; may be empty."""
    return clean_text(reason, "reason", required=False)


def clean_text(text: str | None, what: str, required: bool = True) -> str:
    """Free text exactly as typed (the display makes it inert), but not blank or huge."""
    value = text or ""
    if required and not value.strip():
        raise InvalidInput(f"the {what} is empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"the {what} is longer than {MAX_TEXT} characters")
    return value


def next_filing_id(existing: set[str], at: datetime) -> str:
    """A fresh id `ICP-<year>-<seq>`: the year of submission and one past its highest number."""
    prefix = f"ICP-{at.astimezone(BEIJING).year}-"
    highest = 0
    for filing_id in existing:
        if filing_id.startswith(prefix) and filing_id[len(prefix) :].isdigit():
            highest = max(highest, int(filing_id[len(prefix) :]))
    return f"{prefix}{highest + 1:05d}"


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def check_domain(text: str) -> str:
    """`text` if it is a host name (internationalised names too, e.g. 例子.中国), kept as
    typed; InvalidInput otherwise."""
    key = domain_key(text)
    labels = key.split(".") if key else []
    valid = (
        len(labels) >= 2
        and len(key) <= 253
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid:
        shown = repr(text) if len(text) <= 60 else repr(text[:57] + "...")
        raise InvalidInput(
            f"{shown} is not a domain name: expected a host name like example.com or 例子.中国"
        )
    return text


def domain_key(text: str) -> str:
    """The domain as DNS compares it (ASCII, lower case): 例子.中国 and its xn-- form match;
    "" when it cannot be a host name at all."""
    if text.isascii():
        # What the idna codec does with ASCII (most names), without its cost per label: an
        # ASCII label is kept as it is, unless it is longer than DNS allows.
        labels = text.split(".")
        return "" if any(len(label) > 63 for label in labels) else text.lower()
    try:
        return ".".join(
            label.encode("idna").decode("ascii").lower() if label else ""
            for label in text.split(".")
        )
    except UnicodeError:
        return ""


def submit(
    filing_id: str,
    domain: str,
    entity: str,
    entity_type: EntityType,
    province: str,
    at: datetime,
    by: str,
) -> Filing:
    """A new filing, just submitted for preliminary review."""
    return Filing(
        id=filing_id,
        domain=check_domain(clean_text(domain, "domain")),
        entity=clean_text(entity, "entity"),
        entity_type=entity_type,
        province=province,
        stage=Stage.PRELIMINARY_REVIEW,
        entered_at=at,
        submitted_at=at,
        history=(Transition(at, by, None, Stage.PRELIMINARY_REVIEW, "submitted"),),
        updated_at=at,
        updated_by=by,
    )
