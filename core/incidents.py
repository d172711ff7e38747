"""Group complaints, emergencies and professional claimants: the rules that spot them.

DOMAIN.md §6 names three patterns a supervisor must see without reading every ticket:

* **group complaints** (群体投诉): many consumers against one business in a short time (a prepaid
  gym or a training school that closes) are linked into one incident and escalated to the city;
* **emergencies** (紧急事件): food poisoning, a safety hazard, a price surge in a crisis go to the
  province at once;
* **professional claimants** (职业索赔/职业举报): many tickets from one filer across businesses are
  flagged so the units answer them uniformly.

This module says *what* counts, with thresholds and word lists that are data (``IncidentRules``,
DOMAIN.md's policy tables), not code. It is pure: the node hands it rows of its signals view and
the time, and records the events it returns (``node.jobs.detection``; docs/incidents.md).

Why the incident id is what it is: the id of a new incident is a digest of the city it goes to,
the business and the first member (``incident_id_for``), so two nodes that see the same
complaints mint the same id. A node that sees members already linked reuses the smallest id
among them, and a ticket keeps the smallest id it was ever linked to (the fold's rule,
``core.ticket.lifecycle``): ids only ever decrease, so whatever each node saw and whatever order
the links travel in, every member of a group ends with one id, the smallest minted for it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.deadlines.china_time import china_date
from core.errors import InvalidInput
from core.routing import competent_region
from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import BusinessForm, Consumer, Respondent, TicketKind
from core.units import province_of

DAY_MS = 86_400_000

DEFAULT_EMERGENCY_KEYWORDS: tuple[str, ...] = (
    "食物中毒",  # food poisoning
    "集体中毒",  # several people poisoned
    "安全隐患",  # safety hazard
    "哄抬价格",  # price gouging (in a crisis)
    "哄抬物价",
    "燃气泄漏",  # gas leak
    "煤气泄漏",
    "爆炸",  # explosion
    "起火",  # caught fire
    "电梯困人",  # people trapped in a lift (special equipment)
)
"""Words in the facts or the request that make a ticket an emergency (DOMAIN.md §6)."""

DEFAULT_EMERGENCY_CATEGORIES: tuple[str, ...] = (
    "食物中毒",  # food poisoning
    "突发事件",  # sudden public event
    "特种设备事故",  # special-equipment accident (lifts, boilers, rides)
    "安全事故",  # safety accident
)
"""Categories (any ``/``-separated part of the ticket's category) that are emergencies."""


def _positive(value: int, name: str) -> None:
    if value < 1:
        raise InvalidInput(name, f"must be at least 1, got {value}")


@dataclass(frozen=True)
class GroupRule:
    """When complaints against one business make a group (群体投诉): default 5 in 7 days.

    Consumers are counted, not tickets: one person filing five times is not a group.
    """

    min_consumers: int = 5
    """Different consumers (by phone) who complained within one window."""
    window_days: int = 7
    """Length of the window, in calendar days (24-hour periods, not working days)."""
    kinds: tuple[TicketKind, ...] = (TicketKind.COMPLAINT, TicketKind.COMPOSITE)
    """Which tickets count: complaints, and the complaint part of composites."""

    def __post_init__(self) -> None:
        _positive(self.min_consumers, "groups.min_consumers")
        _positive(self.window_days, "groups.window_days")


@dataclass(frozen=True)
class EmergencyRule:
    """Which tickets are emergencies, escalated to the province at once (紧急事件)."""

    keywords: tuple[str, ...] = DEFAULT_EMERGENCY_KEYWORDS
    """Any of these in the facts or the request makes the ticket an emergency."""
    categories: tuple[str, ...] = DEFAULT_EMERGENCY_CATEGORIES
    """Any of these as a part of the category (``食品/食物中毒``) makes it one."""


@dataclass(frozen=True)
class ClaimantRule:
    """When a filer looks like a professional claimant (职业索赔).

    Default: 5 tickets against 3 different businesses within 30 days.
    """

    min_tickets: int = 5
    """Tickets from one filer within one window."""
    min_businesses: int = 3
    """Different businesses those tickets are against."""
    window_days: int = 30
    """Length of the window, in calendar days."""
    kinds: tuple[TicketKind, ...] = (
        TicketKind.COMPLAINT,
        TicketKind.REPORT,
        TicketKind.COMPOSITE,
    )
    """Which tickets count: complaints and reports (职业索赔 and 职业举报)."""

    def __post_init__(self) -> None:
        _positive(self.min_tickets, "claimants.min_tickets")
        _positive(self.min_businesses, "claimants.min_businesses")
        _positive(self.window_days, "claimants.window_days")


@dataclass(frozen=True)
class IncidentRules:
    """The three rules together: a policy table an administrator may change (DOMAIN.md)."""

    groups: GroupRule = field(default_factory=GroupRule)
    emergencies: EmergencyRule = field(default_factory=EmergencyRule)
    claimants: ClaimantRule = field(default_factory=ClaimantRule)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IncidentRules:
        """Rules from a settings table (TOML), defaults for what it leaves out.

        ``{"groups": {"min_consumers": 5, "window_days": 7}, "emergencies": {"keywords":
        [...], "categories": [...]}, "claimants": {"min_tickets": 5, "min_businesses": 3,
        "window_days": 30}}``. Unknown names are ``InvalidInput``, so a typo is not ignored.
        """
        unknown = set(data) - {"groups", "emergencies", "claimants"}
        if unknown:
            raise InvalidInput("incidents", f"unknown sections {sorted(unknown)}")
        return cls(
            groups=_section(GroupRule, data.get("groups", {}), "groups"),
            emergencies=_section(EmergencyRule, data.get("emergencies", {}), "emergencies"),
            claimants=_section(ClaimantRule, data.get("claimants", {}), "claimants"),
        )


def _section(cls: Any, values: Mapping[str, Any], name: str) -> Any:
    """One rule from its settings table: ints stay ints, lists become tuples, kinds enums."""
    known = {f for f in cls.__dataclass_fields__}
    unknown = set(values) - known
    if unknown:
        raise InvalidInput(f"incidents.{name}", f"unknown settings {sorted(unknown)}")
    converted: dict[str, Any] = {}
    for key, value in values.items():
        if key == "kinds":
            try:
                converted[key] = tuple(TicketKind(v) for v in value)
            except ValueError as exc:
                raise InvalidInput(f"incidents.{name}.kinds", str(exc)) from None
        elif isinstance(value, list | tuple):
            converted[key] = tuple(str(v) for v in value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"incidents.{name}.{key}", f"must be a whole number, got {value!r}")
        else:
            converted[key] = value
    return cls(**converted)


# -- keys: who is the business, who is the filer -----------------------------------------------

_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
"""Legal-form endings people leave out when they name a business on the phone."""


def normalise_name(name: str) -> str:
    """A business name as compared: width-folded, lower-case, no spaces or punctuation,
    without a trailing legal form (``兰州金城健身俱乐部有限公司`` = ``兰州 金城健身俱乐部``)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PS"
    )
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            return text[: -len(form)]
    return text


def _region(respondent: Respondent, incident_region: str) -> str:
    for code in (
        respondent.operating_region,
        respondent.registered_region,
        respondent.platform_region,
        incident_region,
    ):
        if code:
            return code
    return ""


def name_key(respondent: Respondent, incident_region: str = "") -> str:
    """The business by name: normalised name and county (``name:金城健身俱乐部@620102``).

    A shop on a platform is its platform and shop name. Empty when the ticket names no business.
    """
    if respondent.form is BusinessForm.PLATFORM_SHOP:
        platform = normalise_name(respondent.platform_name)
        shop = normalise_name(respondent.shop_name or respondent.name)
        return f"shop:{platform}/{shop}" if platform and shop else ""
    name = normalise_name(respondent.name)
    return f"name:{name}@{_region(respondent, incident_region)}" if name else ""


def respondent_key(respondent: Respondent, incident_region: str = "") -> str:
    """The business complained about: its credit code when given (``uscc:91620102...``), else
    its ``name_key``. Not personal data: businesses are named openly (DOMAIN.md §10)."""
    code = respondent.credit_code.strip().upper()
    return f"uscc:{code}" if code else name_key(respondent, incident_region)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def _phone_digits(phone: str) -> str:
    digits = _digits(phone)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _id_text(id_number: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", id_number)).upper()


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"hotline.v1.filer\0{kind}\0{value}".encode()).hexdigest()[:32]


def phone_key(consumer: Consumer) -> str:
    """A stable key for the filer's phone number, as a digest: the signals view keeps no
    number in clear (DOMAIN.md §9). Empty when there is no number."""
    digits = _phone_digits(consumer.phone)
    return _digest("phone", digits) if digits else ""


def id_key(consumer: Consumer) -> str:
    """A stable key for the filer's ID number, as a digest; empty when none was given."""
    text = _id_text(consumer.id_number)
    return _digest("id", text) if text else ""


MATCHED_BY_PHONE = "phone"
MATCHED_BY_ID = "id_number"


def masked_filer(consumer: Consumer, matched_by: str) -> str:
    """The identifier a filer was recognised by, never in full: ``手机 139****0001``,
    ``身份证 6201**********1234``."""
    if matched_by == MATCHED_BY_ID:
        text = _id_text(consumer.id_number)
        keep = 4 if len(text) > 8 else 1
        return f"身份证 {text[:keep]}{'*' * max(0, len(text) - 2 * keep)}{text[-keep:]}"
    digits = _phone_digits(consumer.phone)
    if len(digits) >= 8:
        return f"手机 {digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    return f"手机 {'*' * max(0, len(digits) - 2)}{digits[-2:]}"


# -- emergencies -------------------------------------------------------------------------------


def emergency_reasons(registration: TicketRegistered, rule: EmergencyRule) -> tuple[str, ...]:
    """Why the ticket is an emergency, e.g. ``keyword:食物中毒``, ``category:突发事件``.

    Empty when it is not one.
    """
    text = unicodedata.normalize("NFKC", f"{registration.facts}\n{registration.request}")
    parts = {p.strip() for p in unicodedata.normalize("NFKC", registration.category).split("/")}
    reasons = [f"category:{c}" for c in rule.categories if c in parts]
    reasons += [f"keyword:{k}" for k in rule.keywords if k and k in text]
    return tuple(reasons)


def emergency_destination(registration: TicketRegistered) -> str:
    """The province whose queue an emergency goes to: where the business is (the competent
    region), else the province of the unit that registered it."""
    try:
        region, _ = competent_region(registration)
    except InvalidInput:
        region = registration.registering_unit
    return province_of(region)


# -- windows -----------------------------------------------------------------------------------


def in_qualifying_windows(
    times: Sequence[int], labels: Sequence[str], window_ms: int, min_count: int, min_distinct: int
) -> set[int]:
    """Indices of items lying in some window ``[t, t + window_ms)`` that starts at an item and
    holds at least ``min_count`` items with at least ``min_distinct`` different labels.

    ``times`` must be sorted. Two pointers and a counter: linear in the number of items.
    """
    found: set[int] = set()
    seen: Counter[str] = Counter()
    end = 0
    marked_to = 0
    for start, begins in enumerate(times):
        while end < len(times) and times[end] < begins + window_ms:
            seen[labels[end]] += 1
            end += 1
        if end - start >= min_count and len(seen) >= min_distinct:
            found.update(range(max(start, marked_to), end))
            marked_to = max(marked_to, end)
        seen[labels[start]] -= 1
        if not seen[labels[start]]:
            del seen[labels[start]]
    return found


# -- group complaints --------------------------------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    """One ticket as group detection sees it (a row of the node's signals view)."""

    ticket_id: str
    received_ms: int
    kind: TicketKind
    respondent_key: str
    name_key: str
    consumer_key: str
    """The filer's ``phone_key``: consumers are counted by it."""
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


# -- professional claimants --------------------------------------------------------------------


@dataclass(frozen=True)
class Filing:
    """One ticket as claimant detection sees it: who filed it, against whom, when."""

    ticket_id: str
    received_ms: int
    kind: TicketKind
    filer_key: str
    """``phone_key`` or ``id_key`` of the filer, whichever the detection compares."""
    respondent_key: str
    flagged: bool = False
    """True when the ticket is flagged already."""


@dataclass(frozen=True)
class ClaimantFinding:
    """A filer who looks like a professional claimant, and the tickets to flag."""

    filer_key: str
    tickets: int
    """Tickets of the filer in qualifying windows."""
    businesses: int
    """Different businesses those tickets are against."""
    members: tuple[str, ...]
    """Those tickets, in order of receipt."""
    to_flag: tuple[str, ...]
    """Members not flagged yet."""


def find_claimants(filings: Iterable[Filing], rule: ClaimantRule) -> list[ClaimantFinding]:
    """Filers with at least ``rule.min_tickets`` tickets against ``rule.min_businesses``
    different businesses within one window of ``rule.window_days``; every ticket of theirs in
    such a window is flagged for a uniform answer (统一答复)."""
    by_filer: dict[str, list[Filing]] = defaultdict(list)
    for f in filings:
        if f.kind in rule.kinds and f.filer_key:
            by_filer[f.filer_key].append(f)
    window = rule.window_days * DAY_MS
    findings: list[ClaimantFinding] = []
    for filer in sorted(by_filer):
        items = sorted(by_filer[filer], key=lambda f: (f.received_ms, f.ticket_id))
        chosen = in_qualifying_windows(
            [f.received_ms for f in items],
            [f.respondent_key for f in items],
            window,
            rule.min_tickets,
            rule.min_businesses,
        )
        if not chosen:
            continue
        members = [items[i] for i in sorted(chosen)]
        findings.append(
            ClaimantFinding(
                filer_key=filer,
                tickets=len(members),
                businesses=len({m.respondent_key for m in members if m.respondent_key}),
                members=tuple(m.ticket_id for m in members),
                to_flag=tuple(m.ticket_id for m in members if not m.flagged),
            )
        )
    return findings
