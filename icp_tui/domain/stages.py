"""Stages of an ICP filing, who owns each, the transition table and the withdraw rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.naming import UnknownName, pick


class Stage(StrEnum):
    """Where a filing stands. The values are the ids stored in the database."""

    PRELIMINARY_REVIEW = "preliminary_review"
    RETURNED = "returned"
    AWAITING_PHOTO = "awaiting_photo"
    PHOTO_REVIEW = "photo_review"
    AWAITING_SUBMISSION = "awaiting_submission"
    SMS_VERIFICATION = "sms_verification"
    AUTHORITY_REVIEW = "authority_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Owner(StrEnum):
    """Who has to act for the filing to move on."""

    ALIBABA_CLOUD = "Alibaba Cloud"
    APPLICANT = "applicant"
    AUTHORITY = "authority"
    NOBODY = "-"


class SlaClock(StrEnum):
    """How the SLA clock behaves in a stage."""

    BUSINESS_DAYS = "business days"
    WALL_HOURS = "wall clock"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StageRule:
    """One row of the stage table in DOMAIN.md."""

    stage: Stage
    label: str
    short: str
    owner: Owner
    clock: SlaClock
    may_withdraw: bool
    next_stages: tuple[Stage, ...]
    happy_next: Stage | None


S = Stage
STAGE_RULES: dict[Stage, StageRule] = {
    rule.stage: rule
    for rule in (
        StageRule(
            S.PRELIMINARY_REVIEW,
            "Alibaba Cloud preliminary review",
            "preliminary",
            Owner.ALIBABA_CLOUD,
            SlaClock.BUSINESS_DAYS,
            True,
            (S.AWAITING_PHOTO, S.RETURNED, S.WITHDRAWN),
            S.AWAITING_PHOTO,
        ),
        StageRule(
            S.RETURNED,
            "Returned to applicant for correction",
            "returned",
            Owner.APPLICANT,
            SlaClock.PAUSED,
            True,
            (S.PRELIMINARY_REVIEW, S.WITHDRAWN),
            S.PRELIMINARY_REVIEW,
        ),
        StageRule(
            S.AWAITING_PHOTO,
            "Waiting for the administrator photo (and mailed materials where the province asks)",
            "await photo",
            Owner.APPLICANT,
            SlaClock.PAUSED,
            True,
            (S.PHOTO_REVIEW, S.WITHDRAWN),
            S.PHOTO_REVIEW,
        ),
        StageRule(
            S.PHOTO_REVIEW,
            "Facial verification photo review",
            "photo review",
            Owner.ALIBABA_CLOUD,
            SlaClock.BUSINESS_DAYS,
            True,
            (S.AWAITING_SUBMISSION, S.RETURNED, S.WITHDRAWN),
            S.AWAITING_SUBMISSION,
        ),
        StageRule(
            S.AWAITING_SUBMISSION,
            "Passed Alibaba Cloud review; to be submitted to the communications administration",
            "to submit",
            Owner.ALIBABA_CLOUD,
            SlaClock.BUSINESS_DAYS,
            True,
            (S.SMS_VERIFICATION, S.WITHDRAWN),
            S.SMS_VERIFICATION,
        ),
        StageRule(
            S.SMS_VERIFICATION,
            "MIIT SMS check by the applicant",
            "SMS check",
            Owner.APPLICANT,
            SlaClock.WALL_HOURS,
            False,
            (S.AUTHORITY_REVIEW, S.RETURNED),
            S.AUTHORITY_REVIEW,
        ),
        StageRule(
            S.AUTHORITY_REVIEW,
            "Review by the local communications administration",
            "authority",
            Owner.AUTHORITY,
            SlaClock.BUSINESS_DAYS,
            False,
            (S.APPROVED, S.REJECTED),
            S.APPROVED,
        ),
        StageRule(
            S.APPROVED,
            "Approved; ICP number issued",
            "approved",
            Owner.NOBODY,
            SlaClock.STOPPED,
            False,
            (),
            None,
        ),
        StageRule(
            S.REJECTED,
            "Rejected by the communications administration",
            "rejected",
            Owner.APPLICANT,
            SlaClock.STOPPED,
            False,
            (S.PRELIMINARY_REVIEW,),
            S.PRELIMINARY_REVIEW,
        ),
        StageRule(
            S.WITHDRAWN, "Withdrawn", "withdrawn", Owner.NOBODY, SlaClock.STOPPED, False, (), None
        ),
    )
}

#: The seed's "Alibaba Cloud Review": over 3 bd here since the latest submission needs a ticket.
ALIBABA_CLOUD_REVIEW: frozenset[Stage] = frozenset(
    {S.PRELIMINARY_REVIEW, S.PHOTO_REVIEW, S.AWAITING_SUBMISSION}
)
CLOSED: frozenset[Stage] = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})
#: Stages from which the filing is with the communications administration and cannot be withdrawn.
SUBMITTED_TO_AUTHORITY: frozenset[Stage] = frozenset(
    {S.SMS_VERIFICATION, S.AUTHORITY_REVIEW, S.APPROVED, S.REJECTED}
)
#: The order stages are shown in (the happy path, then the side exits).
STAGE_ORDER: tuple[Stage, ...] = tuple(STAGE_RULES)


def _happy_path() -> tuple[Stage, ...]:
    path = [S.PRELIMINARY_REVIEW]
    while (following := STAGE_RULES[path[-1]].happy_next) is not None:
        path.append(following)
    return tuple(path)


#: Submission to approval with nothing going wrong, as the stage table defines it.
HAPPY_PATH: tuple[Stage, ...] = _happy_path()

#: Reasons offered when withdrawing; "other" asks for free text.
WITHDRAW_REASONS: tuple[str, ...] = (
    "applicant request",
    "duplicate application",
    "wrong entity details",
    "domain not ready",
    "order expired",
    "other",
)
#: The stages a filing goes back to the applicant in, which need a reason from a list.
REASONED_STAGES: frozenset[Stage] = frozenset({S.RETURNED, S.REJECTED})


@dataclass(frozen=True, slots=True)
class ReasonLists:
    """Return, rejection and withdrawal reasons offered to staff (from the data files and
    the settings); "other" + free text is always possible."""

    returned: tuple[str, ...]
    rejected: tuple[str, ...]
    withdrawn: tuple[str, ...] = WITHDRAW_REASONS

    def offered(self, stage: Stage) -> tuple[str, ...]:
        """The reasons for moving to `stage`, "other" last."""
        listed = {S.REJECTED: self.rejected, S.WITHDRAWN: self.withdrawn}.get(stage, self.returned)
        return (*(r for r in listed if r != "other"), "other")

    def chosen(self, stage: Stage, text: str) -> str:
        """The listed reason `text` names (any case, or an unambiguous start of one: staff
        type "duplicate" for "duplicate application"), else `text` kept as "other: text";
        InvalidInput if it starts several."""
        typed = text.strip()
        if not typed:
            return ""  # no reason given: refused by the transition
        if typed.casefold() in ("other", "other:"):
            # Said apart from "no reason": the word alone is a choice made without its text.
            raise InvalidInput('"other" takes the reason in words: "other: TEXT"')
        if typed.casefold().startswith("other:"):
            return f"other: {typed[6:].strip()}"
        listed = {r: (r,) for r in self.offered(stage) if r != "other"}
        try:
            return pick(typed, listed, "reason", shown=lambda r: f"'{r}'")
        except UnknownName:
            return f"other: {text}"  # the free text exactly as typed
        except ValueError as error:
            raise InvalidInput(f'{error}: type more of it, or "other: {typed}"') from None


def rule(stage: Stage) -> StageRule:
    """The stage table row of `stage`."""
    return STAGE_RULES[stage]


def named(stage: Stage) -> str:
    """The stage as a message names it: its short label, quoted ("'photo review'"), which is
    what `list` shows and `--to` takes; ids are for JSON and the database."""
    return f"'{rule(stage).short}'"


def find_stage(text: str) -> Stage:
    """The stage that staff name: its id, its short or full label, or an unambiguous prefix of
    one ("authority", "photo"), in any case, with "-" or " " for "_"; ValueError otherwise,
    naming the stages as messages do (by their short labels, which it takes)."""
    names = {s: (s.value, rule(s).short, rule(s).label) for s in Stage}
    return pick(text, names, "stage", shown=named)


def can_move(source: Stage, target: Stage) -> bool:
    """Whether the transition table allows source -> target."""
    return target in STAGE_RULES[source].next_stages
