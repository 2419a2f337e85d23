"""Provinces: the authority review target and whether verification materials are mailed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from icp_tui.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Province:
    """One provincial-level communications administration."""

    name: str
    aliases: tuple[str, ...]
    authority_review_bd: int
    requires_mailing: bool


@dataclass(frozen=True, slots=True)
class MailingAddress:
    """Where applicants mail verification materials (from the seed FAQ; editable)."""

    address: str
    addressee: str
    phone: str
    postal_code: str
    hours: str = ""


class ProvinceTable:
    """Provinces by English name, with Chinese names accepted as aliases."""

    def __init__(self, provinces: Iterable[Province]) -> None:
        self.provinces: tuple[Province, ...] = tuple(provinces)
        self._by_key: dict[str, Province] = {}
        for province in self.provinces:
            for key in (province.name, *province.aliases):
                self._by_key[key.casefold()] = province

    def resolve(self, text: str) -> Province:
        """The province named `text` (English name or Chinese alias); InvalidInput otherwise."""
        province = self._by_key.get(text.strip().casefold())
        if province is None:
            raise InvalidInput(
                f"unknown province {text!r}; use one of: "
                + ", ".join(p.name for p in self.provinces)
            )
        return province

    def get(self, name: str) -> Province | None:
        """The province with this name or alias (any case), if any."""
        return self._by_key.get(name.casefold())

    def authority_targets(self) -> dict[str, int]:
        """Authority review target in business days, by province name."""
        return {p.name: p.authority_review_bd for p in self.provinces}
