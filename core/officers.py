"""Officers and their roles: who may take which step is decided on these.

A node keeps a roster of its officers; every command names the acting officer and every event
records them, so a ticket's history says who did what (签字负责制).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.units import Unit, UnitLevel


class Role(enum.Enum):
    """What an officer does at their unit."""

    OPERATOR = "operator"
    """接线员/登记员: registers calls and submissions, answers consultations, makes callbacks."""
    DISPATCHER = "dispatcher"
    """分流/派单: routes tickets to the competent unit, re-routes returned ones."""
    HANDLER = "handler"
    """承办人: accepts or refuses, mediates, verifies, writes and signs the result."""
    UNIT_HEAD = "unit_head"
    """负责人: approves results before closure and approves extensions."""
    SUPERVISOR = "supervisor"
    """督办: presses overdue units and watches the supervision queue."""
    STATION_OFFICER = "station_officer"
    """市场监管所 officer: field checks, on-site mediation, signed results in the county's name."""
    SECURITY_ADMIN = "security_admin"
    """安全管理员: puts officers on the roster with their roles and sets their sign-in
    credentials (unlocking, tokens). Takes no part in handling tickets."""
    SYSTEM_ADMIN = "system_admin"
    """系统管理员: runs the node: a sync round now, trust publishing, quarantine release, unit
    registration. Takes no part in handling tickets nor in officers' accounts."""
    AUDIT_ADMIN = "audit_admin"
    """审计管理员: reads the access record and the node's audit views; changes nothing."""


ADMIN_ROLES = frozenset({Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN})
"""The three administrators (三权分立, GB/T 22239-2019 8.1.4.2): each holds one of these and no
other role, so no one person both runs the node, decides who may sign in, and reads the record
of what they did."""

TICKET_ROLES = frozenset(Role) - ADMIN_ROLES
"""The roles that handle tickets."""


def why_roles_conflict(roles: frozenset[Role]) -> str | None:
    """The reason an officer may not hold ``roles`` together, or None.

    An administrator holds one administrator's role and nothing else: an administrator who
    also handled tickets could give themselves a ticket role's rights (the security
    administrator) or hide what they did with it (the audit administrator); two administrator
    roles in one hand undo the separation of powers the assessors ask for (三权分立).
    """
    admin = roles & ADMIN_ROLES
    if not admin:
        return None
    names = ", ".join(sorted(r.value for r in admin))
    if len(admin) > 1:
        return f"{names}: the administrators are three different officers (三权分立)"
    if roles - admin:
        return f"{names} is held alone: an administrator handles no tickets (三权分立)"
    return None


@dataclass(frozen=True)
class Officer:
    """An officer on a node's roster."""

    officer_id: str
    name: str
    unit_code: str
    unit_level: UnitLevel
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        """True when the officer holds at least one of ``roles``."""
        return any(r in self.roles for r in roles)

    def ref(self) -> OfficerRef:
        """The part of the officer that is written into every event they record."""
        return OfficerRef(self.officer_id, self.name, self.unit_code, self.unit_level)


@dataclass(frozen=True)
class OfficerRef:
    """Who acted, as recorded in an event: enough to judge authority without the roster."""

    officer_id: str
    name: str
    unit_code: str
    unit_level: UnitLevel


SYSTEM_OFFICER_NAME = "催办督办系统"
"""The name the node's own system signs under (reminders, escalations, detections)."""


def system_officer(unit: Unit) -> OfficerRef:
    """Who signs what a node does by itself: reminders and escalations of its deadline sweep,
    group-complaint and claimant flags, emergency escalations and campaign routing at
    registration; always in its unit's name, never a person's."""
    return OfficerRef(f"{unit.code}-sweep", SYSTEM_OFFICER_NAME, unit.code, unit.level)


def system_dispatcher(unit: Unit) -> Officer:
    """The node's system officer with the dispatcher's role (campaign routing at a hub)."""
    ref = system_officer(unit)
    return Officer(ref.officer_id, ref.name, unit.code, unit.level, frozenset({Role.DISPATCHER}))


WEB_CHANNEL_NAME = "网上投诉平台"
"""The name the node signs under for what a consumer does on their own page."""


def web_channel(unit: Unit) -> Officer:
    """Who records what a consumer does online (网上投诉平台, the web channel of DOMAIN.md §3):
    a complaint filed on the consumer's page and the consumer's rating of its handling. No
    officer took those steps, and the consumer is no officer; the node records them in its
    unit's name, with the operator's role that the same steps need at a desk."""
    return Officer(
        f"{unit.code}-web", WEB_CHANNEL_NAME, unit.code, unit.level, frozenset({Role.OPERATOR})
    )
