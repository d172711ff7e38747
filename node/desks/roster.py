"""The node's roster of officers and the units it knows, stored and held in memory.

Commands are judged on the acting officer's roles and unit, so every node keeps the officers
who work on it. Units come from the GB/T 2260 table (``core.regions``) plus what an
administrator registers: stations of a county, divisions the table lacks. Both are small and
read on every command, so they are loaded once and swapped whole when they change. What reads
or writes the database runs on the node's blocking pool when asked from the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select

from core.errors import InvalidInput, UnknownOfficer
from core.limits import check_text, shown
from core.officers import Officer, Role, why_roles_conflict
from core.regions import check_region_code_format, check_station_code_format, standard_units
from core.units import Unit, UnitDirectory, UnitLevel, county_of, level_of
from node.app.blocking import BlockingPool
from node.storage.database import Database
from node.storage.tables import officers, units

T = TypeVar("T")


class Roster:
    """Officers and units of one node, read from its database."""

    def __init__(self, db: Database, own_unit_code: str, blocking: BlockingPool) -> None:
        self._db = db
        self._blocking = blocking
        self._own = own_unit_code
        self._lock = threading.Lock()
        self._officers: dict[str, Officer] = {}
        self._units = standard_units()
        self.reload()

    def reload(self) -> None:
        """Read officers and registered units afresh."""
        with self._db.read() as conn:
            extra = [
                Unit(r.code, r.name, UnitLevel(r.level), r.parent_code)
                for r in conn.execute(select(units))
            ]
            known = standard_units()
            directory = UnitDirectory([*known, *extra])
            people = {
                r.officer_id: Officer(
                    r.officer_id,
                    r.name,
                    r.unit_code,
                    directory.get(r.unit_code).level,
                    frozenset(Role(x) for x in r.roles.split(",") if x),
                )
                for r in conn.execute(select(officers))
                if r.unit_code in directory
            }
        with self._lock:
            self._units, self._officers = directory, people

    @property
    def units(self) -> UnitDirectory:
        """Every unit this node knows."""
        return self._units

    def own_unit(self) -> Unit:
        """This node's unit."""
        return self._units.get(self._own)

    def officer(self, officer_id: str) -> Officer:
        """The officer with this id as last loaded, or ``UnknownOfficer``."""
        found = self._officers.get(officer_id)
        if found is None:
            raise UnknownOfficer(f"officer {officer_id!r} is not on the roster of unit {self._own}")
        return found

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the node's blocking pool (reads and writes of the roster's kin)."""
        return await self._blocking.run(fn, *args)

    def find(self, officer_id: str) -> Officer | None:
        """The officer with this id as last loaded, or None."""
        return self._officers.get(officer_id)

    async def resolve(self, officer_id: str) -> Officer:
        """The officer with this id, or ``UnknownOfficer``.

        A miss reads the roster again (on the blocking pool): another process serving the same
        database (several hub processes on one PostgreSQL) may have added the officer since.
        """
        if officer_id not in self._officers:
            await self._blocking.run(self.reload)
        return self.officer(officer_id)

    def officers(self) -> list[Officer]:
        """Everyone on the roster, by id."""
        return sorted(self._officers.values(), key=lambda o: o.officer_id)

    async def register_officer(
        self, officer_id: str, name: str, unit_code: str, roles: frozenset[Role]
    ) -> Officer:
        """Add or update an officer of this node's unit (on the blocking pool)."""
        return await self._blocking.run(self.save_officer, officer_id, name, unit_code, roles)

    def save_officer(
        self, officer_id: str, name: str, unit_code: str, roles: frozenset[Role]
    ) -> Officer:
        """Add or update an officer of this node's unit (a blocking write)."""
        officer_id, name = officer_id.strip(), check_text(name, "name", kind="officer.name")
        if not officer_id or len(officer_id) > 32:
            raise InvalidInput("officer_id", "must be 1 to 32 characters")
        if unit_code != self._own:
            raise InvalidInput(
                "unit_code", f"this node serves unit {self._own}, not {shown(unit_code)}"
            )
        if not roles:
            raise InvalidInput("roles", "give at least one role")
        conflict = why_roles_conflict(roles)
        if conflict is not None:
            raise InvalidInput("roles", conflict)
        with self._db.write() as conn:
            conn.execute(delete(officers).where(officers.c.officer_id == officer_id))
            conn.execute(
                insert(officers).values(
                    officer_id=officer_id,
                    name=name,
                    unit_code=unit_code,
                    roles=",".join(sorted(r.value for r in roles)),
                )
            )
        self.reload()
        return self.officer(officer_id)

    async def register_unit(self, code: str, name: str, level: UnitLevel, parent_code: str) -> Unit:
        """Add a unit this node must know (on the blocking pool)."""
        return await self._blocking.run(self.save_unit, code, name, level, parent_code)

    def save_unit(self, code: str, name: str, level: UnitLevel, parent_code: str) -> Unit:
        """Add a unit this node must know: a station, or a division missing from the table (a
        blocking write)."""
        code, name = code.strip(), check_text(name, "name", kind="unit.name")
        if level is UnitLevel.STATION:
            check_station_code_format(code, "code")
            if parent_code != county_of(code):
                raise InvalidInput(
                    "parent_code", f"a station's parent is its county {county_of(code)}"
                )
        else:
            check_region_code_format(code, "code")
            if level_of(code) is not level:
                raise InvalidInput("level", f"code {code} names a {level_of(code).value}")
        if parent_code not in self._units:
            raise InvalidInput("parent_code", f"unknown parent unit {shown(parent_code)}")
        with self._db.write() as conn:
            conn.execute(delete(units).where(units.c.code == code))
            conn.execute(
                insert(units).values(
                    code=code, name=name, level=level.value, parent_code=parent_code
                )
            )
        self.reload()
        return self._units.get(code)
