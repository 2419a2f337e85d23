"""A filing as it was at a past instant, rebuilt from its history: before, between and after
moves, notes, assignments and tickets; and, for any history the actions can make, the rebuild
at every instant equals the filing as it was then (so at the latest one, today's record).

A step in time reads records the light way (`read_for_rebuild`) and summarizes them at an
instant without making the Filing (`summary_as_of`): for any history, and any damage done to
its stored form, that is what the checked reader and the rebuild give, or it declines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import S, bj

from icp_tui.domain import transitions as t
from icp_tui.domain.asof import Entry, as_of, read_for_rebuild, rebuild, summary_as_of
from icp_tui.domain.errors import IcpError, InvalidRecord, TransitionNotAllowed
from icp_tui.domain.filing import EntityType, Filing, Transition, from_record, to_record
from icp_tui.domain.summary import summarize

T0 = bj(2026, 11, 23, 9)  # a Monday
NUMBER = "浙ICP备2026012345号-1"


def submitted(at: datetime = T0) -> Filing:
    return t.submit(
        "ICP-2026-00001", "example.cn", "某某科技", EntityType.COMPANY, "Zhejiang", at, "amy"
    )


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def story() -> list[Filing]:
    """Each state of one filing: assigned, noted, moved, ticketed, reassigned, noted again."""
    states = [submitted()]

    def then(change: object) -> None:
        states.append(change(states[-1]))  # type: ignore[operator]

    then(lambda f: t.assign(f, minutes(10), "lead", "bob"))
    then(lambda f: t.add_note(f, minutes(20), "bob", "called the applicant"))
    then(lambda f: t.advance(f, minutes(30), "bob"))  # awaiting_photo
    then(lambda f: t.advance(f, minutes(40), "bob"))  # photo_review
    then(lambda f: t.record_ticket(f, minutes(50), "bob", "TK42"))
    then(lambda f: t.assign(f, minutes(60), "lead", None))
    then(lambda f: t.add_note(f, minutes(70), "cy", "photo blurred"))
    then(lambda f: t.advance(f, minutes(80), "cy", S.RETURNED, "administrator photo rejected"))
    then(lambda f: t.advance(f, minutes(90), "cy", S.PRELIMINARY_REVIEW, "resubmitted"))
    return states


def test_before_its_submission_a_filing_is_absent() -> None:
    final = story()[-1]
    assert as_of(final, T0 - timedelta(seconds=1)) is None
    assert rebuild(final, T0 - timedelta(days=3)) is None


def test_as_of_an_instant_from_the_submission_to_the_latest_change() -> None:
    """The time-travel view's answer: present from the submission's own instant, the filing
    as it was between changes, and the record itself from its latest change on."""
    states = story()
    final = states[-1]
    assert as_of(final, T0) == states[0]
    assert as_of(final, minutes(5)) == states[0]
    assert as_of(final, minutes(45)) == states[4]
    assert as_of(final, final.latest_at) is final


def test_between_changes_the_filing_is_as_it_was_after_the_last_one_before() -> None:
    states = story()
    final = states[-1]
    for state in states:
        at = state.latest_at
        assert rebuild(final, at) == state  # at the instant of the change: included
        assert rebuild(final, at + timedelta(minutes=5)) == state  # between two changes


def test_the_stage_assignee_ticket_and_notes_follow_the_history() -> None:
    final = story()[-1]
    early = rebuild(final, minutes(15))
    assert early is not None
    assert (early.stage, early.assignee, early.ticket, early.notes) == (
        S.PRELIMINARY_REVIEW,
        "bob",
        None,
        (),
    )
    middle = rebuild(final, minutes(75))
    assert middle is not None
    assert middle.stage is S.PHOTO_REVIEW and middle.entered_at == minutes(40)
    assert middle.assignee is None and middle.ticket == "TK42"
    assert [n.text for n in middle.notes] == ["called the applicant", "photo blurred"]
    assert middle.checklist.admin_photo
    # The resubmission cleared the ticket and the checklist; the notes stay.
    late = rebuild(final, minutes(95))
    assert late is not None
    assert late.stage is S.PRELIMINARY_REVIEW and late.submitted_at == minutes(90)
    assert late.ticket is None and not late.checklist.admin_photo
    assert len(late.notes) == 2 and late.submissions == 2


def test_after_the_latest_change_the_record_itself_is_the_answer() -> None:
    final = story()[-1]
    assert as_of(final, minutes(500)) is final
    assert rebuild(final, minutes(500)) == final


def test_an_undone_move_and_an_undone_note() -> None:
    f = submitted()
    moved = t.advance(f, minutes(1), "amy")
    undone = t.undo(moved, f, moved.version, minutes(2), "amy")
    noted = t.add_note(undone, minutes(3), "amy", "oops")
    final = t.undo(noted, undone, noted.version, minutes(4), "amy")
    assert rebuild(final, minutes(1)) == moved
    back = rebuild(final, minutes(2))
    assert back is not None and back.stage is S.PRELIMINARY_REVIEW and back.entered_at == T0
    # The undone note's text is gone from the record: between the note and its undo the
    # rebuilt filing has the note's history entry but not its text.
    between = rebuild(final, minutes(3))
    assert between is not None and between.notes == () and len(between.history) == 4
    assert rebuild(final, minutes(4)) == final


def test_an_undone_note_is_not_mistaken_for_a_later_note_by_the_same_author() -> None:
    f = submitted()
    noted = t.add_note(f, minutes(1), "amy", "oops")
    undone = t.undo(noted, f, noted.version, minutes(2), "amy")
    final = t.add_note(undone, minutes(3), "amy", "called the applicant")
    between = rebuild(final, minutes(1))
    assert between is not None and between.notes == ()
    assert rebuild(final, minutes(3)) == final


def test_an_sms_resent_today_was_not_there_before_the_first_move() -> None:
    f = t.assign(submitted(), minutes(1), "lead", "bob")
    assigned = f
    for at in range(2, 6):
        f = t.advance(f, minutes(at), "bob")
    assert f.stage is S.SMS_VERIFICATION
    final = t.sms_resent(f, minutes(6), "bob")
    assert final.sms_sent_at == minutes(6)
    assert rebuild(final, minutes(1)) == assigned
    assert rebuild(final, minutes(5)) == f


def test_an_entry_of_a_kind_it_does_not_know_is_kept_and_changes_nothing_else() -> None:
    """A change recorded in place by an older version (a reason this one never writes): the
    rebuilt filing holds the entry and who made it, and is otherwise as it was."""
    f = t.assign(submitted(), minutes(1), "lead", "bob")
    entry = Transition(minutes(2), "cy", f.stage, f.stage, "checked by the lead")
    final = f.changed(minutes(2), "cy", history=(*f.history, entry))
    assert rebuild(final, minutes(2)) == final
    assert rebuild(final, minutes(1)) == f


def test_approval_sms_resends_and_materials() -> None:
    f = submitted()
    f = t.advance(f, minutes(1), "amy")  # awaiting_photo
    mailed = f = t.record_materials(f, minutes(2), "amy", received=False)
    f = t.record_materials(f, minutes(3), "amy", received=True)
    f = t.advance(f, minutes(4), "amy")
    f = t.advance(f, minutes(5), "amy")
    f = t.advance(f, minutes(6), "amy")  # sms_verification
    resent = f = t.sms_resent(f, minutes(7), "amy")
    f = t.advance(f, minutes(8), "amy")  # authority_review
    reviewing = f
    f = t.advance(f, minutes(9), "amy", S.APPROVED, icp_number=NUMBER)
    assert rebuild(f, minutes(2)) == mailed
    assert rebuild(f, minutes(7)) == resent
    assert rebuild(f, minutes(8)) == reviewing
    approved = rebuild(f, minutes(9))
    assert approved == f and approved is not None and approved.icp_number == NUMBER
    # The finished review appears in the summary only once decided.
    assert summarize(reviewing).reviews == ()
    assert summarize(f).reviews == ((minutes(8).timestamp(), minutes(9).timestamp()),)


# -- any history the actions can make --------------------------------------------------------

ACTIONS = ("advance", "withdraw", "note", "ticket", "assign", "unassign", "mailed", "received",
           "sms", "undo")  # fmt: skip


def _act(f: Filing, previous: Filing, action: str, choice: int, at: datetime) -> Filing:
    """One action, as staff would take it (IcpError when it does not apply)."""
    if action == "advance":
        targets = t.advance_targets(f.stage)
        if not targets:
            raise TransitionNotAllowed("closed")
        target = targets[choice % len(targets)]
        number = NUMBER if target is S.APPROVED else None
        return t.advance(f, at, "amy", target, "materials missing", icp_number=number)
    if action == "withdraw":
        return t.withdraw(f, at, "bob", "applicant request")
    if action == "note":
        return t.add_note(f, at, "cy", f"note {choice}")
    if action == "ticket":
        return t.record_ticket(f, at, "bob", f"TK{choice}")
    if action == "assign":
        return t.assign(f, at, "lead", ["amy", "bob", "cy"][choice % 3])
    if action == "unassign":
        return t.assign(f, at, "lead", None)
    if action in ("mailed", "received"):
        return t.record_materials(f, at, "amy", received=action == "received")
    if action == "sms":
        return t.sms_resent(f, at, "amy")
    return t.undo(f, previous, f.version, at, "amy")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 5), st.integers(1, 3 * 24 * 60)),
        max_size=30,
    )
)
def test_the_rebuild_at_any_instant_is_the_filing_as_it_was(
    steps: list[tuple[str, int, int]],
) -> None:
    states = [submitted()]
    at = T0
    undone_notes = False
    for action, choice, gap in steps:
        current = states[-1]
        # An undo comes within its 5 minutes; other changes whenever.
        at += timedelta(minutes=1 if action == "undo" else gap)
        previous = states[-2] if len(states) > 1 else current
        try:
            changed = _act(current, previous, action, choice, at)
        except IcpError:
            continue
        if action == "undo" and len(changed.notes) < len(current.notes):
            undone_notes = True
        states.append(changed)
    final = states[-1]
    light = read_for_rebuild(to_record(final))
    assert light is not None  # what the actions write is read the light way
    instants = [T0 - timedelta(seconds=1), *(s.latest_at for s in states)]
    for at in [*instants, final.latest_at + timedelta(days=1)]:
        rebuilt = as_of(final, at)
        expected = None if rebuilt is None else summarize(rebuilt)
        assert summary_as_of(final, at) == expected
        assert summary_as_of(light, at) == expected
    # At the latest instant: today's record, field by field.
    assert rebuild(final, final.latest_at) == final
    assert rebuild(final, final.latest_at + timedelta(days=1)) == final
    if undone_notes:
        return  # an undone note's text is gone: earlier states cannot be compared whole
    for state in states:
        assert rebuild(final, state.latest_at) == state


def test_a_record_is_read_the_light_way_with_the_same_fields() -> None:
    final = story()[-1]
    light = read_for_rebuild(to_record(final))
    assert light is not None
    assert light.history == tuple(Entry(e.at, e.by, e.source, e.target, e.reason, e.undo)
                                  for e in final.history)  # fmt: skip
    assert light._replace(history=final.history) == tuple(  # type: ignore[comparison-overlap]
        getattr(final, name) for name in light._fields
    )
    assert summary_as_of(light, minutes(45)) == summarize(states_at(45))


def states_at(minute: int) -> Filing:
    rebuilt = rebuild(story()[-1], minutes(minute))
    assert rebuilt is not None
    return rebuilt


# -- damaged stored forms: the light reader declines whatever the checked reader refuses ----

#: Values a damaged record may hold in place of any field.
DAMAGE = st.sampled_from(
    [None, "", "x", 0, 1, -1, 2.5, True, [], {}, "2026-11-23T09:00:00", "2026-11-23T09:00:00+08:00",
     "1969-01-01T00:00:00+08:00", "approved", "returned", "preliminary_review", "note added",
     "ticket TK1", "assigned to bob", "unassigned", "company", "Zhejiang", "ICP-2026-00001"]
)  # fmt: skip
TOP = ["id", "version", "domain", "entity", "entity_type", "province", "stage", "entered_at",
       "submitted_at", "assignee", "checklist", "ticket", "icp_number", "notes", "history",
       "updated_at", "updated_by", "sms_sent_at"]  # fmt: skip
ITEM = ["at", "by", "from", "to", "reason", "undo"]


def _damaged(record: dict[str, object], where: str, index: int, key: str, value: object) -> None:
    """Put `value` for `key` in the record itself, or in one of its history entries or notes
    (None: the key taken out; "swap": an entry swapped with the next)."""
    if where == "top":
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
        return
    items = record.get(where)
    if not isinstance(items, list) or not items:
        return  # damaged already
    i = index % len(items)
    if key == "swap":
        j = (i + 1) % len(items)
        items[i], items[j] = items[j], items[i]
    elif not isinstance(items[i], dict):
        return
    elif value is None:
        items[i].pop(key, None)
    else:
        items[i][key] = value


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["top", "history", "notes"]),
            st.integers(0, 20),
            st.sampled_from([*TOP, *ITEM, "swap", "text"]),
            DAMAGE,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_the_light_reader_declines_what_the_checked_reader_refuses(
    damage: list[tuple[str, int, str, object]],
) -> None:
    final = story()[-1]
    record = to_record(final)
    for where, index, key, value in damage:
        _damaged(record, where, index, key, value)
    light = read_for_rebuild(record)
    try:
        checked = from_record(record)
    except (InvalidRecord, ValueError, TypeError, KeyError, AttributeError):
        assert light is None
        return
    if light is None:
        return  # unusual but valid: read the checked way
    for state in story():
        at = state.latest_at
        rebuilt = as_of(checked, at)
        assert summary_as_of(light, at) == (None if rebuilt is None else summarize(rebuilt))


def test_the_light_reader_declines_a_history_the_stage_table_refuses() -> None:
    record = to_record(story()[-1])
    assert read_for_rebuild(record) is not None
    record["history"][3]["to"] = "approved"  # awaiting_photo -> approved
    record["history"][4]["from"] = "approved"
    with pytest.raises(InvalidRecord):
        from_record(record)
    assert read_for_rebuild(record) is None
