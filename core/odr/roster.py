"""The ODR roster (ODR单位名录): who may receive disputes through the green channel.

The roster is reference data signed above the county and handed down to every node that may
route a dispute (docs/odr.md). A registering node reads one question of it: is this credit code
an enrolled unit in good standing, and which county enrolled it (the dispute is held there, so
it replicates to that county's node, where the enterprise's users sign in). Pure: the roster is
built by whoever reads it from storage.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class ApplicantKind(enum.Enum):
    """What kind of unit joins the channel."""

    ENTERPRISE = "enterprise"  # 企业
    MALL_DESK = "mall_desk"  # 商场消费争议受理站: a mall's dispute desk
    ASSOCIATION = "association"  # 行业协会: an industry association


class Standing(enum.Enum):
    """Where an enrolled unit stands on the roster."""

    ENROLLED = "enrolled"  # 在册
    WARNED = "warned"  # 已警告: still receives disputes
    REMOVED = "removed"  # 已移出: removed by a unit head's decision
    DISQUALIFIED = "disqualified"  # 取消资格: on the abnormal-operations list or a blacklist

    @property
    def routable(self) -> bool:
        """True when disputes may still go to the unit."""
        return self in (Standing.ENROLLED, Standing.WARNED)


@dataclass(frozen=True)
class RosterEntry:
    """One enrolled unit: its credit code, name, the county that enrolled it, its standing."""

    credit_code: str
    name: str
    kind: ApplicantKind
    unit_code: str
    standing: Standing
    since_ms: int
    reason: str = ""


@dataclass(frozen=True)
class OdrRoster:
    """One signed version of the roster; ``version`` grows with every change."""

    version: int = 0
    entries: tuple[RosterEntry, ...] = ()
    _by_code: dict[str, RosterEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {e.credit_code: e for e in self.entries})

    @classmethod
    def of(cls, version: int, entries: Iterable[RosterEntry]) -> OdrRoster:
        """A roster of ``entries`` (in credit-code order, so equal rosters compare equal)."""
        return cls(version, tuple(sorted(entries, key=lambda e: e.credit_code)))

    def entry(self, credit_code: str) -> RosterEntry | None:
        """The entry of ``credit_code``, whatever its standing, or None."""
        return self._by_code.get(credit_code)

    def routable(self, credit_code: str) -> RosterEntry | None:
        """The entry of ``credit_code`` when a dispute may go to it now, else None."""
        entry = self._by_code.get(credit_code)
        return entry if entry is not None and entry.standing.routable else None


EMPTY_ROSTER = OdrRoster()
"""The roster of a node that has received none: nobody is routable."""
