"""Units of the five-level network (五级贯通) and what each one's jurisdiction covers.

A unit is a market-supervision body: the national administration (总局), a province (省局), a
city or prefecture (市(州)局), a county or district (县(区)局) or a township station (市场监管所).
Units are named by the 6-digit administrative division code of GB/T 2260; a station is its
county's code plus a 3-digit suffix. Because the codes nest, a unit's jurisdiction is a code
prefix: Gansu ``620000`` covers every code starting ``62``, Lanzhou ``620100`` every code starting
``6201``, Chengguan ``620102`` its own code and its stations ``620102xxx``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from core.errors import InvalidInput, NotFound
from core.limits import shown

NATIONAL_CODE = "100000"
"""The code this system gives the national administration (GB/T 2260 has none of its own)."""


class UnitLevel(enum.Enum):
    """The five levels, from the top; ``rank`` orders them (national is 0)."""

    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    STATION = "station"

    @property
    def rank(self) -> int:
        """Distance from the top of the hierarchy: national 0 ... station 4."""
        return _RANKS[self]

    def is_above(self, other: UnitLevel) -> bool:
        """True when this level has authority over ``other`` (is strictly higher)."""
        return self.rank < other.rank


_RANKS = {level: i for i, level in enumerate(UnitLevel)}

HUB_LEVELS = frozenset({UnitLevel.NATIONAL, UnitLevel.PROVINCE})
"""Levels that run a command centre and dispatch tickets (served by ``province_hub``)."""

HANDLING_LEVELS = frozenset({UnitLevel.CITY, UnitLevel.COUNTY})
"""Levels that accept, mediate, verify and sign results (承办单位)."""


STATION_CODE_LENGTH = 9
"""A station's code: its county's 6 digits plus a 3-digit suffix."""


def level_of(code: str) -> UnitLevel:
    """The level a unit code names: the codes nest, so the shape of the code tells."""
    if len(code) == STATION_CODE_LENGTH:
        return UnitLevel.STATION
    if code == NATIONAL_CODE:
        return UnitLevel.NATIONAL
    if code.endswith("0000"):
        return UnitLevel.PROVINCE
    if code.endswith("00"):
        return UnitLevel.CITY
    return UnitLevel.COUNTY


# The one home of unit-code arithmetic: the codes nest, so the shape of a code tells its level
# and the codes above it. Nothing else in the project slices unit codes.


def county_of(code: str) -> str:
    """The county-level code a unit belongs to (a station's county, or the code itself)."""
    return code[:6]


def city_of(code: str) -> str:
    """The city (市局) a county or station belongs to, or the code itself for a city and above."""
    if level_of(code) in (UnitLevel.COUNTY, UnitLevel.STATION):
        return code[:4] + "00"
    return code


def province_of(code: str) -> str:
    """The province a unit or region code lies in (the national code for national)."""
    return NATIONAL_CODE if code == NATIONAL_CODE else code[:2] + "0000"


def parent_of(code: str) -> str:
    """The unit directly above ``code`` by the shape of the codes: station -> county -> city
    -> province -> national; '' above national. A county directly under its province (no
    city) is the exception the codes cannot show: its node names its parent explicitly."""
    match level_of(code):
        case UnitLevel.STATION:
            return county_of(code)
        case UnitLevel.COUNTY:
            return code[:4] + "00"
        case UnitLevel.CITY:
            return province_of(code)
        case UnitLevel.PROVINCE:
            return NATIONAL_CODE
        case UnitLevel.NATIONAL:
            return ""


def ancestor(code: str, steps: int) -> str:
    """The unit ``steps`` levels above ``code`` (national at most)."""
    for _ in range(steps):
        if level_of(code) is UnitLevel.NATIONAL:
            break
        code = parent_of(code)
    return code


def jurisdiction_prefix(code: str, level: UnitLevel) -> str:
    """The code prefix that every unit or region under ``code`` starts with."""
    match level:
        case UnitLevel.NATIONAL:
            return ""
        case UnitLevel.PROVINCE:
            return code[:2]
        case UnitLevel.CITY:
            return code[:4]
        case UnitLevel.COUNTY:
            return code[:6]
        case UnitLevel.STATION:
            return code


@dataclass(frozen=True)
class Unit:
    """One market-supervision unit: its code, name, level and the unit directly above it."""

    code: str
    name: str
    level: UnitLevel
    parent_code: str = ""

    @property
    def prefix(self) -> str:
        """The jurisdiction prefix of this unit (see module docstring)."""
        return jurisdiction_prefix(self.code, self.level)

    def covers(self, code: str) -> bool:
        """True when the unit or region ``code`` lies inside this unit's jurisdiction."""
        return code.startswith(self.prefix)

    def province_code(self) -> str:
        """The 6-digit code of the province this unit belongs to ('' for national)."""
        return "" if self.level is UnitLevel.NATIONAL else province_of(self.code)


class UnitDirectory:
    """A read-only lookup of known units, used to check routing targets and authority."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units = {u.code: u for u in units}
        self._children: dict[str, list[Unit]] = {}
        for unit in sorted(self._units.values(), key=lambda u: u.code):
            self._children.setdefault(unit.parent_code, []).append(unit)

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def __len__(self) -> int:
        return len(self._units)

    def get(self, code: str) -> Unit:
        """The unit with this code, or ``NotFound``."""
        try:
            return self._units[code]
        except KeyError:
            raise NotFound(f"no unit with code {code!r}") from None

    def find(self, code: str) -> Unit | None:
        """The unit with this code, or None."""
        return self._units.get(code)

    def require(self, code: str, field: str) -> Unit:
        """The unit with this code, or ``InvalidInput`` naming ``field``."""
        unit = self._units.get(code)
        if unit is None:
            hint = ""
            if len(code) == STATION_CODE_LENGTH:
                # A station enrolled and serving is still unknown to its county until the
                # county's administrator adds it: say how, the error alone did not.
                hint = (
                    ": a station is known to its county once added there (hotline add-unit "
                    f"--code {code} --level station --parent {county_of(code)} ...)"
                )
            raise InvalidInput(field, f"unknown unit code {shown(code)}{hint}")
        return unit

    def ancestors(self, code: str) -> list[Unit]:
        """The chain of units above ``code``, nearest first (excluding the unit itself)."""
        chain: list[Unit] = []
        unit = self.find(code)
        while unit is not None and unit.parent_code:
            unit = self.find(unit.parent_code)
            if unit is not None:
                chain.append(unit)
        return chain

    def children(self, code: str) -> list[Unit]:
        """Units whose parent is ``code``, by code."""
        return list(self._children.get(code, ()))

    def handling_unit_for(self, region_code: str) -> Unit | None:
        """The county-level unit responsible for a county-level region, if it is known."""
        unit = self._units.get(region_code)
        if unit is not None and unit.level in HANDLING_LEVELS:
            return unit
        return None
