"""Provinces: the authority review target and whether verification materials are mailed."""

from __future__ import annotations

import re
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


#: The one-character abbreviations that start a province's ICP numbers (DOMAIN.md), the usual
#: one first; the second is also seen on issued numbers.
ICP_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "Beijing": ("京",),
    "Tianjin": ("津",),
    "Hebei": ("冀",),
    "Shanxi": ("晋",),
    "Inner Mongolia": ("蒙",),
    "Liaoning": ("辽",),
    "Jilin": ("吉",),
    "Heilongjiang": ("黑",),
    "Shanghai": ("沪",),
    "Jiangsu": ("苏",),
    "Zhejiang": ("浙",),
    "Anhui": ("皖",),
    "Fujian": ("闽",),
    "Jiangxi": ("赣",),
    "Shandong": ("鲁",),
    "Henan": ("豫",),
    "Hubei": ("鄂",),
    "Hunan": ("湘",),
    "Guangdong": ("粤",),
    "Guangxi": ("桂",),
    "Hainan": ("琼",),
    "Chongqing": ("渝",),
    "Sichuan": ("蜀", "川"),
    "Guizhou": ("黔", "贵"),
    "Yunnan": ("滇", "云"),
    "Tibet": ("藏",),
    "Shaanxi": ("陕",),
    "Gansu": ("陇", "甘"),
    "Qinghai": ("青",),
    "Ningxia": ("宁",),
    "Xinjiang": ("新",),
}
_ICP_NUMBER = re.compile(r"([^\x00-\x7f])ICP备([0-9]+)号(?:-([1-9][0-9]*))?")


def icp_number_example(province: str) -> str:
    """A well-formed ICP number of `province`, to show staff the form expected."""
    return f"{ICP_ABBREVIATIONS.get(province, ('?',))[0]}ICP备2026012345号-1"


def icp_number_problem(number: str, province: str) -> str | None:
    """What is wrong with `number` as an ICP number of `province`, or None."""
    try:
        check_icp_number(number, province)
    except InvalidInput as error:
        return str(error)
    return None


def check_icp_number(number: str, province: str) -> str:
    """The ICP number as issued to a filing of `province` (outer spaces dropped), or
    InvalidInput naming the expected form: abbreviation, ICP备, digits, 号, optionally -N."""
    text = number.strip()
    known = ICP_ABBREVIATIONS.get(province)
    match = _ICP_NUMBER.fullmatch(text)
    expected = (known or ("?",))[0]
    if match is None or (known is not None and match.group(1) not in known):
        shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
        raise InvalidInput(
            f"{shown} is not an ICP number of {province}: expected {expected}ICP备, the digits "
            f"and 号, optionally -N for the N-th website (e.g. {icp_number_example(province)})"
        )
    return text


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
