"""The query language staff type to say which filings they mean (dashboard `/`, `--query`).

Free words match the id, domain, entity, province or assignee (as the old filter did); field
terms (`health:breached`, `due:<2bd`, ...) narrow by what the SLA says. Every term must hold
(AND); a `-` in front negates one. Parsing is pure: the matching lives with the queue entries
(icp_tui/queue.py), so the dashboard and the command line select with the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.naming import _normal
from icp_tui.domain.provinces import ProvinceTable
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import Stage, rule


class QueryError(InvalidInput):
    """A query with an unknown field or a bad value; the message says what is allowed."""


class Field(StrEnum):
    """What a term tests. WORDS is a free word (no field named)."""

    WORDS = "words"
    HEALTH = "health"
    STAGE = "stage"
    PROVINCE = "province"
    ASSIGNEE = "assignee"
    TICKET = "ticket"
    ESCALATE = "escalate"
    DUE = "due"
    OVER = "over"
    WAITING = "waiting"
    EXPIRES = "expires"


#: What each field takes, as the one-line error says it.
ALLOWED: dict[Field, str] = {
    Field.HEALTH: "breached, at_risk, on_track, waiting or done (or a prefix; | for either)",
    Field.STAGE: "a stage id or a prefix of one (| for either), e.g. stage:authority",
    Field.PROVINCE: "a province's English or Chinese name, e.g. province:Zhejiang",
    Field.ASSIGNEE: "a user name, me or none",
    Field.TICKET: "yes or no",
    Field.ESCALATE: "yes or no",
    Field.DUE: "today, <Nbd or <Nh (e.g. due:<2bd)",
    Field.OVER: ">Nbd (e.g. over:>3bd)",
    Field.WAITING: ">Nd (e.g. waiting:>5d)",
    Field.EXPIRES: "<Nd (e.g. expires:<10d)",
}
FIELDS_HELP = (
    "fields: "
    + ", ".join(f"{f.value}:" for f in ALLOWED)
    + "; a - in front negates; other words match id, domain, entity, province, assignee"
)

#: The assignee values that are not names.
ME = "me"
NOBODY = "none"


class Unit(StrEnum):
    """The unit of a due/over/waiting/expires bound."""

    TODAY = "today"
    BUSINESS_DAYS = "bd"
    HOURS = "h"
    DAYS = "d"


@dataclass(frozen=True)
class Bound:
    """A number of units, from a term like `due:<2bd`."""

    amount: int
    unit: Unit


Value = frozenset[Health] | frozenset[Stage] | str | bool | Bound | None


@dataclass(frozen=True)
class Term:
    """One condition: a field and its value, possibly negated. `text` is the term as typed."""

    field: Field
    value: Value
    negated: bool
    text: str


@dataclass(frozen=True)
class Query:
    """Terms that must all hold. The empty query selects everything."""

    terms: tuple[Term, ...] = ()
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.terms)


# A term: an optional -, an optional field name and colon, then a "quoted phrase" (closing
# quote optional: the user may be typing it) or a run of non-space characters.
_TOKEN = re.compile(r'(-?)(?:([A-Za-z_]+):)?(?:"([^"]*)"?|(\S*))')
_YES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
_BOUND = re.compile(r"([<>])\s*([0-9]+)\s*(bd|h|d)")


def parse_query(text: str, provinces: ProvinceTable | None = None, as_typed: bool = False) -> Query:
    """Parse what staff typed; QueryError (one line, saying what is allowed) if it is wrong.

    With `provinces`, a province term must name a known province (and is resolved to its
    English name); without, it is kept as typed and compared with every name of a province.
    `as_typed`: the text is still being typed (the dashboard's box), so a quote may be open;
    otherwise (--query, a saved view) an open quote is an error, not a phrase to the end.
    """
    terms: list[Term] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        found = _TOKEN.match(text, position)
        assert found is not None  # every part of the pattern is optional
        dash, name, quoted, bare = found.groups()
        position = max(found.end(), position + 1)
        typed = found.group(0)
        value = quoted if quoted is not None else bare
        if quoted is not None and typed.count('"') == 1 and not as_typed:
            raise QueryError(f'{typed}: the quote is not closed; write a phrase as "two words"')
        if name is None:
            if not value:
                if dash:
                    raise QueryError(f"a - needs a term after it; {FIELDS_HELP}")
                continue
            terms.append(Term(Field.WORDS, value.casefold(), bool(dash), typed))
            continue
        try:
            field = Field(name.casefold())
        except ValueError:
            field = Field.WORDS
        if field is Field.WORDS:
            raise QueryError(
                f"unknown field {name}: ({FIELDS_HELP}; quote a word that has a colon)"
            )
        terms.append(Term(field, _value(field, value, typed, provinces), bool(dash), typed))
    return Query(tuple(terms), text)


def _value(field: Field, text: str, typed: str, provinces: ProvinceTable | None) -> Value:
    def wrong() -> QueryError:
        return QueryError(f"{typed}: {field.value} takes {ALLOWED[field]}")

    text = text.strip()
    if not text:
        raise wrong()
    if field is Field.HEALTH:
        return frozenset(h for part in text.split("|") for h in _healths(part, wrong))
    if field is Field.STAGE:
        return frozenset(s for part in text.split("|") for s in _stages(part, wrong))
    if field is Field.PROVINCE:
        if provinces is None:
            return text.casefold()
        province = provinces.get(text)
        if province is None:
            names = ", ".join(p.name for p in provinces.provinces)
            raise QueryError(f"{typed}: unknown province; province takes one of {names}")
        return province.name
    if field is Field.ASSIGNEE:
        lowered = text.casefold()
        return None if lowered == NOBODY else ME if lowered == ME else text
    if field in (Field.TICKET, Field.ESCALATE):
        if text.casefold() not in _YES:
            raise wrong()
        return _YES[text.casefold()]
    if field is Field.DUE and text.casefold() == "today":
        return Bound(0, Unit.TODAY)
    bound = _BOUND.fullmatch(text.casefold())
    wanted = {
        Field.DUE: ("<", (Unit.BUSINESS_DAYS, Unit.HOURS)),
        Field.OVER: (">", (Unit.BUSINESS_DAYS,)),
        Field.WAITING: (">", (Unit.DAYS,)),
        Field.EXPIRES: ("<", (Unit.DAYS,)),
    }[field]
    if bound is None or bound.group(1) != wanted[0] or Unit(bound.group(3)) not in wanted[1]:
        raise wrong()
    amount = int(bound.group(2))
    if amount > 100_000 or (wanted[0] == "<" and amount < 1):
        raise wrong()
    return Bound(amount, Unit(bound.group(3)))


def _healths(part: str, wrong: Callable[[], QueryError]) -> list[Health]:
    typed = _normal(part)
    found = [h for h in Health if typed and h.value.startswith(typed)]
    if not found:
        raise wrong()
    return found


def _stages(part: str, wrong: Callable[[], QueryError]) -> list[Stage]:
    """The stage named exactly (id or short label), else every stage the prefix starts."""
    typed = _normal(part)
    names = {s: (s.value, _normal(rule(s).short)) for s in Stage}
    exact = [s for s, known in names.items() if typed in known]
    found = exact or [
        s for s, known in names.items() if typed and any(n.startswith(typed) for n in known)
    ]
    if not found:
        raise wrong()
    return found


def narrows(old: Query, new: Query) -> bool:
    """Whether `new` can only select fewer of what `old` selects: typed on from `old` by a
    whole new term, or by letters added to its last free word. (The dashboard then filters
    the rows shown instead of the whole queue: one keystroke costs what is left, not 50,000.)"""
    if not new.text.startswith(old.text) or not old.terms:
        return False
    added = new.text[len(old.text) :]
    if old.text.count('"') % 2:  # inside an open quote: the phrase goes on
        return False
    if old.text[-1].isspace():  # old terms all kept, new ones ANDed
        return True
    last = old.terms[-1]
    word = last.field is Field.WORDS and not last.negated and not last.text.endswith('"')
    # A longer substring matches fewer; a colon would turn the word into a field.
    return word and not any(c.isspace() or c in ':"' for c in added)
