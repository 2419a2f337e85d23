"""The query language: every field, negation, errors, and the laws AND and `-` obey."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import bj, build_filing

from icp_tui.config import Reference, Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.filing import Filing
from icp_tui.domain.provinces import Province, ProvinceTable
from icp_tui.domain.query import Bound, QueryError, Unit, narrows, parse_query
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import Stage
from icp_tui.queue import QuerySelection, Queue

S = Stage
#: A Monday with no holiday near.
NOW = bj(2025, 3, 10, 12)
ME = "alice"


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(Settings())


def _filings() -> list[Filing]:
    return [
        # Due Tuesday 3/4: breached, 4 bd over, escalated (over 3 bd in review), no ticket.
        build_filing(
            S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 10), id="ICP-2025-00001", assignee=ME,
            domain="late.cn",
        ),
        # Authority review since this morning, Zhejiang (30 bd): on track.
        build_filing(
            S.AUTHORITY_REVIEW, bj(2025, 3, 10, 9), id="ICP-2025-00002", province="Zhejiang",
            assignee="bob", domain="slow.cn",
        ),
        # Entered Friday: due today, at risk; a ticket recorded.
        build_filing(
            S.PRELIMINARY_REVIEW, bj(2025, 3, 7, 10), id="ICP-2025-00003", ticket="TK1",
            domain="today.cn", entity="杭州某某科技有限公司",
        ),
        # Waiting for the photo for 7 days.
        build_filing(S.AWAITING_PHOTO, bj(2025, 3, 3, 10), id="ICP-2025-00004", domain="wait.cn"),
        # Approved: done.
        build_filing(
            S.APPROVED, bj(2025, 3, 5, 10), id="ICP-2025-00005", domain="done.cn",
            icp_number="京ICP备2025000005号-1",
        ),
        # The SMS check since 08:00: due tomorrow 08:00, in 20 hours.
        build_filing(S.SMS_VERIFICATION, bj(2025, 3, 10, 8), id="ICP-2025-00006", domain="sms.cn"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def queue(reference: Reference) -> Queue:
    queue = Queue(reference, NOW)
    for filing in _filings():
        queue.put(filing)
    return queue


def ids(queue: Queue, text: str) -> list[int]:
    query = parse_query(text, queue.reference.provinces)
    return sorted(int(e.id[-5:]) for e in queue.select(query=query, actor=ME))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [1, 2, 3, 4, 5, 6]),
        ("late", [1]),  # free word: the domain
        ("ICP-2025-0000", [1, 2, 3, 4, 5, 6]),
        ("杭州", [3]),  # the entity
        ("浙江", [2]),  # the province's Chinese name, as a free word
        ("bob", [2]),  # the assignee, as a free word
        ("late cn", [1]),  # several words: all of them
        ('"late.cn"', [1]),
        ("health:breached", [1]),
        ("health:br", [1]),
        ("health:at-risk", [3]),
        ("health:on", [2, 6]),
        ("health:waiting", [4]),
        ("health:done", [5]),
        ("health:br|at", [1, 3]),
        ("-health:done", [1, 2, 3, 4, 6]),
        ("stage:authority_review", [2]),
        ("stage:pre", [1, 3]),
        ("stage:sms", [6]),
        ("stage:awaiting", [4]),  # a prefix of two stages: either
        ("stage:pre|sms", [1, 3, 6]),
        ("province:Zhejiang", [2]),
        ("province:浙江", [2]),
        ("-province:zhejiang", [1, 3, 4, 5, 6]),
        ("assignee:me", [1]),
        ("assignee:Me", [1]),  # "me" in any case is the user, not someone called Me
        ("assignee:bob", [2]),
        ("assignee:BOB", [2]),
        ("assignee:none", [3, 4, 5, 6]),
        ("-assignee:none", [1, 2]),
        ("ticket:yes", [3]),
        ("ticket:no", [1, 2, 4, 5, 6]),
        ("escalate:yes", [1]),
        ("escalate:no -health:done", [2, 3, 4, 6]),
        ("due:today", [3]),
        ("due:<1bd", [3]),  # due today: 0 bd left
        ("due:<2bd", [3, 6]),  # the SMS check is due tomorrow
        ("due:<24h", [3, 6]),
        ("due:<13h", [3]),
        ("over:>3bd", [1]),
        ("over:>4bd", []),
        ("waiting:>6d", [4]),
        ("waiting:>7d", [4]),  # 7 d 2 h
        ("waiting:>8d", []),
        ("health:breached assignee:me late", [1]),
        ("-late -today", [2, 4, 5, 6]),
    ],
)
def test_each_field(queue: Queue, text: str, expected: list[int]) -> None:
    assert ids(queue, text) == expected


def test_expiry(reference: Reference) -> None:
    """Order expiry: 45 days after the first submission; `expires:<Nd` includes the expired."""
    queue = Queue(reference, NOW)
    for i, days in enumerate((44, 40, 20, 50), start=1):
        queue.put(
            build_filing(
                S.AWAITING_PHOTO,
                datetime.fromtimestamp(NOW.timestamp() - days * 86400, NOW.tzinfo),
                id=f"ICP-2025-0000{i}",
            )
        )
    queue.put(build_filing(S.AUTHORITY_REVIEW, bj(2025, 1, 2, 10), id="ICP-2025-00005"))
    assert ids(queue, "expires:<2d") == [1, 4]
    assert ids(queue, "expires:<6d") == [1, 2, 4]
    assert ids(queue, "-expires:<6d") == [3, 5]  # no expiry once with the authority


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("colour:red", "unknown field colour"),
        ("health:late", "health takes breached, at_risk, on_track, waiting or done"),
        ("stage:nowhere", "stage takes a stage id"),
        ("province:Atlantis", "unknown province; province takes one of"),
        ("ticket:maybe", "ticket takes yes or no"),
        ("escalate:", "escalate takes yes or no"),
        ("due:tomorrow", "due takes today, <Nbd or <Nh"),
        ("due:>2bd", "due takes today, <Nbd or <Nh"),
        ("due:<0bd", "due takes today"),
        ("over:<2bd", "over takes >Nbd"),
        ("waiting:>2bd", "waiting takes >Nd"),
        ("expires:<10h", "expires takes <Nd"),
        ("-", "a - needs a term after it"),
    ],
)
def test_errors_say_what_is_allowed(text: str, says: str, reference: Reference) -> None:
    with pytest.raises(QueryError) as raised:
        parse_query(f"late {text}", reference.provinces)
    message = str(raised.value)
    assert says in message
    assert "\n" not in message


def test_an_unknown_province_lists_the_known_ones() -> None:
    provinces = ProvinceTable(
        [
            Province("Beijing", ("北京市",), 20, requires_mailing=False),
            Province("Zhejiang", ("浙江省",), 30, requires_mailing=True),
        ]
    )
    with pytest.raises(QueryError) as raised:
        parse_query("-province:Atlantis", provinces)
    assert str(raised.value) == (
        "-province:Atlantis: unknown province; province takes one of Beijing, Zhejiang"
    )


def test_an_error_starts_with_the_term_as_typed() -> None:
    with pytest.raises(QueryError) as raised:
        parse_query("late -Health:late")
    assert str(raised.value) == (
        "-Health:late: health takes breached, at_risk, on_track, waiting or done "
        "(or a prefix; | for either)"
    )


def test_an_empty_phrase_is_no_term_and_the_rest_still_counts() -> None:
    query = parse_query('"" late health:br')
    assert [(t.field.value, t.value) for t in query.terms] == [
        ("words", "late"),
        ("health", frozenset({Health.BREACHED})),
    ]


def test_a_bound_is_at_most_100000() -> None:
    assert parse_query("over:>100000bd").terms[0].value == Bound(100_000, Unit.BUSINESS_DAYS)
    with pytest.raises(QueryError, match="over takes >Nbd"):
        parse_query("over:>100001bd")


def test_only_an_empty_query_is_false() -> None:
    assert not parse_query("")
    assert not parse_query("   ")
    assert parse_query("late")


def test_a_word_with_a_colon_is_quoted(queue: Queue) -> None:
    with pytest.raises(QueryError, match="quote a word"):
        parse_query("http://late.cn")
    assert ids(queue, '"late.cn"') == [1]


# -- laws, over demo filings in every stage and health ----------------------------------

TERMS = [
    "health:breached", "health:at_risk", "health:waiting", "health:done", "stage:authority",
    "stage:pre", "stage:sms", "province:Zhejiang", "province:广东", "assignee:me",
    "assignee:none", "ticket:yes", "escalate:yes", "due:today", "due:<2bd", "due:<10h",
    "over:>1bd", "waiting:>3d", "expires:<10d", "cn", "com", "有限公司", "icp-2026-001",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_queue(reference: Reference) -> Queue:
    now = bj(2026, 11, 30, 15)
    queue = Queue(reference, now)
    filings = generate_filings(400, now, reference.policy, reference.provinces, seed=5)
    for filing in filings:
        queue.put(filing)
    return queue


def chosen(queue: Queue, text: str) -> set[str]:
    query = parse_query(text, queue.reference.provinces)
    return {e.id for e in queue.select(query=query, actor="sunqi")}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TERMS), max_size=3), st.sampled_from(TERMS))
def test_and_and_negation_laws(demo_queue: Queue, rest: list[str], term: str) -> None:
    base = " ".join(rest)
    everything = chosen(demo_queue, base)
    with_term = chosen(demo_queue, f"{base} {term}")
    without = chosen(demo_queue, f"{base} -{term}")
    assert with_term == everything & chosen(demo_queue, term)  # AND
    assert with_term | without == everything  # a term or its negation...
    assert not with_term & without  # ...never both


def test_the_laws_have_something_to_select(demo_queue: Queue) -> None:
    """The demo queue gives every term both matches and non-matches (else the laws say little)."""
    total = len(demo_queue.entries)
    empty = [t for t in TERMS if not 0 < len(chosen(demo_queue, t)) < total]
    assert empty == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("he", "hea", True),
        ("health:at ", "health:at stage:pre", True),
        ("cn ", "cn -com", True),
        ("health", "health:a", False),  # the word became a field
        ("due:<3bd", "due:<30bd", False),  # a wider bound
        ("-a", "-ab", False),  # a longer excluded word excludes fewer
        ('"a b', '"a bc', False),  # inside an open quote
        ("abc", "ab", False),
        ("late", "lateX", True),  # an upper-case letter lengthens the word too
        ('"a b" c', '"a b" cd', True),  # after a closed phrase
        ('"a b"', '"a b"c', False),  # a closed phrase is no word to lengthen
        ("", "a", False),
    ],
)
def test_narrows(old: str, new: str, expected: bool) -> None:
    # As the dashboard's box narrows what it shows while a query is typed (a quote may be open).
    assert narrows(parse_query(old, as_typed=True), parse_query(new, as_typed=True)) is expected


def test_an_open_quote_is_refused_unless_the_query_is_still_being_typed() -> None:
    assert parse_query('health:breached "a b', as_typed=True).terms[-1].value == "a b"
    with pytest.raises(QueryError, match="the quote is not closed"):
        parse_query('health:breached "a b')
    with pytest.raises(QueryError, match="the quote is not closed"):
        parse_query('-"')
    assert parse_query('"a b" c').terms[0].value == "a b"


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(TERMS), min_size=1, max_size=2),
    st.text(alphabet="acimno-: 0", max_size=4),
)
def test_narrowing_selects_what_the_whole_query_selects(
    demo_queue: Queue, start: list[str], more: str
) -> None:
    old_text = " ".join(start)
    try:
        old, new = parse_query(old_text), parse_query(old_text + more)
    except QueryError:
        return
    if narrows(old, new):
        entries = list(demo_queue.entries.values())
        shown = demo_queue.matching(entries, old, "sunqi")
        assert demo_queue.matching(shown, new, "sunqi") == demo_queue.matching(
            entries, new, "sunqi"
        )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([*TERMS, "-", " ", "a", "c", ":", "n"]), max_size=6))
def test_typing_a_query_key_by_key_selects_what_the_whole_query_does(
    demo_queue: Queue, pieces: list[str]
) -> None:
    """The dashboard's selection as one types (remembered prefixes) is `Queue.matching`."""
    entries = demo_queue.select()
    selection = QuerySelection(demo_queue, entries, "sunqi")
    text = " ".join(pieces)
    for end in range(len(text) + 1):
        try:
            query = parse_query(text[:end], demo_queue.reference.provinces)
        except QueryError:
            continue  # the dashboard keeps the last good rows
        assert selection.select(query) == demo_queue.matching(entries, query, "sunqi"), text[:end]
