"""Names typed by staff: a stage or a health by its id, its label or a prefix of either, and a
filing by its whole id (any case) or its number alone; and counts as messages name them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from icp_tui.domain.errors import InvalidInput

T = TypeVar("T")

#: A filing id: ICP-<year>-<number, at least five digits>.
FILING_ID = re.compile(r"ICP-([0-9]{4})-([0-9]{5,})")


def _normal(text: str) -> str:
    """Case, spaces, hyphens and underscores do not matter: "at-risk" is "at_risk"."""
    return re.sub(r"[\s_-]+", "_", text.strip().casefold())


class UnknownName(ValueError):
    """`pick` was given a name of none of the choices (not one that fits several)."""


def pick(
    text: str,
    names: Mapping[T, Iterable[str]],
    what: str,
    shown: Callable[[T], str] | None = None,
) -> T:
    """The one choice that `text` names: exactly one of its names, else the only choice with
    a name that starts with `text`. ValueError saying what is known (or what is ambiguous),
    each choice as `shown` names it (by default its first name)."""
    typed = _normal(text)
    spelled = {choice: [_normal(n) for n in known] for choice, known in names.items()}

    def listed(choices: Iterable[T]) -> str:
        return ", ".join(shown(c) if shown else next(iter(names[c])) for c in choices)

    for test in (str.__eq__, str.startswith):
        found = [c for c, known in spelled.items() if typed and any(test(n, typed) for n in known)]
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"{what} {text!r} is ambiguous: it could be {listed(found)}")
    raise UnknownName(f"unknown {what} {text!r} (known: {listed(names)})")


def counted(n: int, noun: str) -> str:
    """`n` with its noun, singular for one only: "1 filing", "0 filings", "3 bad rows"."""
    return f"{n} {noun if n == 1 else noun + 's'}"


def resolve_filing_id(text: str, ids: Callable[[], Iterable[str]]) -> str:
    """The filing id that `text` means: a whole id in any case, or its number alone ("155" is
    the filing whose id ends in 00155) when exactly one filing has it. Anything else is given
    back as typed, so the store says it is unknown. `ids` is asked only for a number."""
    whole = text.strip().upper()
    if FILING_ID.fullmatch(whole):
        return whole
    if not re.fullmatch(r"[0-9]+", text.strip()):  # not str.isdigit: "²" is a digit to it
        return text
    number = int(text)
    matches = sorted(
        i for i in ids() if (m := FILING_ID.fullmatch(i)) is not None and int(m.group(2)) == number
    )
    if len(matches) > 1:
        raise InvalidInput(
            f"{text} is the number of {len(matches)} filings ({', '.join(matches)}): "
            "give the whole id"
        )
    return matches[0] if matches else text
