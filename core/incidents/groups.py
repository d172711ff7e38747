"""Group complaints (群体投诉): many consumers against one business, one incident at the city.

A prepaid gym or a training school that closes draws many complaints within days; the
``GroupRule`` says how many consumers in how many days make a group, ``find_groups`` finds the
groups among the complaints a city's node holds and the links each still needs
(``GroupIncidentLinked``, recorded by ``city_node.group_complaints``).

Why the incident id is what it is: the id of a new incident is a digest of the city it goes to,
the business and the first member (``incident_id_for``), so two nodes that see the same
complaints mint the same id. A node that sees members already linked reuses the smallest id
among them, and a ticket keeps the smallest id it was ever linked to (the fold's rule,
``core.ticket.step_effects``): ids only ever decrease, so whatever each node saw and whatever
order the links travel in, every member of a group ends with one id, the smallest minted for it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from core.deadlines.china_time import china_date
from core.incidents.rules import GroupRule
from core.incidents.windows import DAY_MS, in_qualifying_windows
from core.ticket.vocabulary import TicketKind


@dataclass(frozen=True)
class Complaint:
    """One ticket as group detection sees it (a row of the node's signals view)."""

    ticket_id: str
    received_ms: int
    kind: TicketKind
    respondent_key: str
    name_key: str
    consumer_key: str
    """The filer's keyed phone digest (``personal_lookups``): consumers are counted by it."""
    incident_id: str = ""
    """The incident the ticket is linked to already, if any."""


@dataclass(frozen=True)
class GroupFinding:
    """A group of complaints and the links still to record for it."""

    incident_id: str
    respondent_key: str
    to_unit: str
    members: tuple[str, ...]
    """Every member ticket, in order of receipt."""
    to_link: tuple[str, ...]
    """Members not yet linked to ``incident_id`` (unlinked, or linked to a larger id)."""


def incident_id_for(to_unit: str, key: str, anchor: Complaint) -> str:
    """The id of a new incident: ``GI-<date of its first complaint>-<digest>``.

    A function of the city, the business and the first member only, so two nodes that see
    the same complaints mint the same id; the date makes ids sort roughly by age and reads
    well on the phone.
    """
    digest = hashlib.sha256(f"{to_unit}\x1f{key}\x1f{anchor.ticket_id}".encode()).hexdigest()
    return f"GI-{china_date(anchor.received_ms):%Y%m%d}-{digest[:12]}"


def resolve_keys(complaints: Iterable[Complaint]) -> dict[str, str]:
    """The business each complaint is against, name-only complaints joined to a credit code.

    A call-taker does not always find the credit code: a complaint that names the business
    only is counted with those that give the code when exactly one code is known among them
    for the same normalised name and county.
    """
    items = list(complaints)
    codes: dict[str, set[str]] = defaultdict(set)
    for c in items:
        if c.respondent_key.startswith("uscc:") and c.name_key:
            codes[c.name_key].add(c.respondent_key)
    resolved: dict[str, str] = {}
    for c in items:
        key = c.respondent_key
        if not key.startswith("uscc:") and len(codes.get(c.name_key, ())) == 1:
            (key,) = codes[c.name_key]
        resolved[c.ticket_id] = key
    return resolved


def find_groups(
    complaints: Iterable[Complaint], rule: GroupRule, to_unit: str
) -> list[GroupFinding]:
    """The groups among ``complaints`` and the links each still needs.

    A complaint belongs to a group when it lies in a window of ``rule.window_days`` in which
    at least ``rule.min_consumers`` different consumers complained about the same business.
    Grouped complaints of one business form one incident unless a whole window passes
    between two of them (a gym that closes in March and again in June is two incidents).
    The incident's id is the smallest one its members already carry, else a new one
    (``incident_id_for``): so nodes that saw different parts converge on one id.
    """
    wanted = [c for c in complaints if c.kind in rule.kinds and c.consumer_key]
    keys = resolve_keys(wanted)
    by_key: dict[str, list[Complaint]] = defaultdict(list)
    for c in wanted:
        if keys[c.ticket_id]:
            by_key[keys[c.ticket_id]].append(c)
    window = rule.window_days * DAY_MS
    findings: list[GroupFinding] = []
    for key in sorted(by_key):
        items = sorted(by_key[key], key=lambda c: (c.received_ms, c.ticket_id))
        grouped = in_qualifying_windows(
            [c.received_ms for c in items],
            [c.consumer_key for c in items],
            window,
            rule.min_consumers,
            rule.min_consumers,
        )
        cluster: list[Complaint] = []
        for i in sorted(grouped):
            if cluster and items[i].received_ms - cluster[-1].received_ms >= window:
                findings.append(_finding(key, cluster, to_unit))
                cluster = []
            cluster.append(items[i])
        if cluster:
            findings.append(_finding(key, cluster, to_unit))
    return findings


def _finding(key: str, members: list[Complaint], to_unit: str) -> GroupFinding:
    carried = [m.incident_id for m in members if m.incident_id]
    incident_id = min(carried) if carried else incident_id_for(to_unit, key, members[0])
    return GroupFinding(
        incident_id=incident_id,
        respondent_key=key,
        to_unit=to_unit,
        members=tuple(m.ticket_id for m in members),
        to_link=tuple(
            m.ticket_id for m in members if not m.incident_id or m.incident_id > incident_id
        ),
    )
