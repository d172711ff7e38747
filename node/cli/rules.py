"""``hotline rules`` and ``hotline campaign``: the province's rule book from the command line.

``rules show`` prints the rule book a node judges deadlines by; ``rules holidays`` and ``rules
policy`` load a year's holidays and publish a time-limit table; ``campaign start|stop`` switches
a campaign (compressed limits) on or off; ``rules personal`` chooses the cipher suite of personal
data and how long it is kept, ``rules rotate-lookup-key`` publishes a new look-up key. Only a
province node amends its book, by its head or supervisor. Files are TOML (or JSON by their
``.json`` suffix); docs/deadlines.md shows both formats. Each change is a new signed rule book
that reaches every node of the province at its next replication round. Times are shown in China
time with their zone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

from core.deadlines.china_time import start_of_day_ms
from core.deadlines.rulebook import (
    COMMERCIAL_SUITE,
    DEFAULT_RETENTION_DAYS,
    INTERNATIONAL_SUITE,
    check_personal_suite,
    check_retention_days,
)
from core.deadlines.sweep import DEFAULT_SUPERVISION_GRACE_MS
from core.errors import InvalidInput
from core.ticket.vocabulary import Duty, TicketKind
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time
from node.cli.session_file import node_client
from proto.hotline.v1 import rules_pb2
from sync.codec import enum_member, enum_number

CHINA = dt.timezone(dt.timedelta(hours=8))


def read_table_file(path: Path) -> dict[str, Any]:
    """A TOML or JSON file as a mapping; ``InvalidInput`` naming the file when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        loaded = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise InvalidInput("file", f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidInput("file", f"{path} must hold a table of settings")
    return loaded


def _text_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str | dt.date) for v in value):
        raise InvalidInput(key, "must be a list of YYYY-MM-DD dates")
    return [v.isoformat() if isinstance(v, dt.date) else v for v in value]


def holiday_year_from_file(data: dict[str, Any]) -> rules_pb2.HolidayYear:
    """``year``, ``rest_days`` and ``workdays`` (make-up working days) of a holiday file."""
    year = data.get("year")
    if not isinstance(year, int):
        raise InvalidInput("year", "give the year as a number, e.g. year = 2027")
    return rules_pb2.HolidayYear(
        year=year, rest_days=_text_list(data, "rest_days"), workdays=_text_list(data, "workdays")
    )


def _effective_from_ms(value: Any) -> int:
    """A policy's start: a date (its first moment, China time) or an ISO date-time."""
    if isinstance(value, dt.datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=CHINA)).timestamp() * 1000)
    if isinstance(value, dt.date):
        return start_of_day_ms(value)
    if isinstance(value, str):
        try:
            return _effective_from_ms(dt.datetime.fromisoformat(value))
        except ValueError:
            pass
        try:
            return start_of_day_ms(dt.date.fromisoformat(value))
        except ValueError:
            pass
    raise InvalidInput("effective_from", f"{value!r} is not a date or an ISO date-time")


def policy_from_file(data: dict[str, Any]) -> rules_pb2.PolicyTable:
    """``version``, ``effective_from`` and ``[[limits]]`` rows of a time-limit table file."""
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise InvalidInput("version", "give the table a version name")
    rows = data.get("limits")
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("limits", "give at least one [[limits]] row")
    limits = []
    for i, row in enumerate(rows):
        where = f"limits[{i}]"
        if not isinstance(row, dict):
            raise InvalidInput(where, "must be a table with duty, kind and days")
        try:
            duty, kind = Duty(row.get("duty")), TicketKind(row.get("kind"))
        except ValueError:
            raise InvalidInput(
                where,
                f"duty must be one of {[d.value for d in Duty]} and kind one of "
                f"{[k.value for k in TicketKind]}",
            ) from None
        days, cap = row.get("days"), row.get("max_extension_days", -1)
        if not isinstance(days, int) or not isinstance(cap, int):
            raise InvalidInput(f"{where}.days", "days and max_extension_days are whole numbers")
        calendar, unit = row.get("calendar_days", False), row.get("unit_code", "")
        if not isinstance(calendar, bool):
            raise InvalidInput(f"{where}.calendar_days", "must be true or false")
        if not isinstance(unit, str):
            raise InvalidInput(f"{where}.unit_code", "must be a unit code in quotes")
        limits.append(
            rules_pb2.TimeLimitRow(
                duty=enum_number(duty),
                kind=enum_number(kind),
                days=max(days, 0),
                max_extension_days=cap,
                calendar_days=calendar,
                unit_code=unit,
            )
        )
    return rules_pb2.PolicyTable(
        version=version.strip(),
        effective_from_ms=_effective_from_ms(data.get("effective_from", "")),
        limits=limits,
    )


def rules_lines(view: rules_pb2.RulesView) -> list[str]:
    """A rule book as text: its number, tables, holiday years, campaigns, unknown years."""
    book = view.rule_book
    if not book.number:
        lines = [f"rule book of {book.issuer_unit}: none issued yet (DOMAIN.md §5 defaults)"]
    else:
        lines = [
            f"rule book of {book.issuer_unit} no. {book.number}, issued "
            f"{china_time(book.issued_ms)} by {view.issued_by}"
        ]
    for policy in book.policies:
        limits = ", ".join(
            f"{_name(Duty, r.duty)}/{_name(TicketKind, r.kind)}={r.days}WD" for r in policy.limits
        )
        since = china_time(policy.effective_from_ms)
        lines.append(f"  table {policy.version} from {since}: {limits}")
    for year in book.holiday_years:
        lines.append(
            f"  holidays {year.year}: {len(year.rest_days)} rest days, "
            f"{len(year.workdays)} make-up workdays ({', '.join(year.workdays) or 'none'})"
        )
    for c in book.campaigns:
        state = "running" if not c.ended_ms else f"ended {china_time(c.ended_ms)}"
        terms = [*(f"tag:{t}" for t in c.tags), *(f"category:{t}" for t in c.categories)]
        terms += [f"keyword:{t}" for t in c.keywords]
        lines.append(
            f"  campaign {c.campaign_id} ({c.name}) {state}, from {china_time(c.started_ms)}: "
            f"limits {c.days} WD, daily bulletin; matches {' '.join(terms)}"
        )
    grace = book.supervision_grace_minutes or DEFAULT_SUPERVISION_GRACE_MS // 60_000
    lines.append(
        f"  supervision from above (上级监督) after {grace} min of delay"
        + ("" if book.supervision_grace_minutes else " (default)")
    )
    lines.extend(_personal_lines(book))
    lines.append(f"calendar knows: {', '.join(map(str, view.calendar_years))}")
    if view.unknown_years:
        lines.append(
            f"WARNING: no holidays for {', '.join(map(str, view.unknown_years))}: weekends only "
            "until `hotline rules holidays` loads them"
        )
    return lines


SUITE_LABELS = {INTERNATIONAL_SUITE: "国际算法", COMMERCIAL_SUITE: "商用密码"}
"""How ``rules show`` names each cipher suite."""
SUITE_NAMES = {"international": INTERNATIONAL_SUITE, "commercial": COMMERCIAL_SUITE}
"""The short names ``rules personal --suite`` takes besides the suites' own."""


def _personal_lines(book: rules_pb2.RuleBook) -> list[str]:
    """The rules for personal data (个人信息): suite, retention, look-up key id (never the key)."""
    suite = book.personal_suite or INTERNATIONAL_SUITE
    days = book.retention_days or DEFAULT_RETENTION_DAYS
    return [
        f"  personal data sealed with {suite} ({SUITE_LABELS.get(suite, '?')})"
        + ("" if book.personal_suite else " (default)"),
        f"  personal data kept {days} days after a ticket ends"
        + ("" if book.retention_days else " (default)"),
        f"  look-up key in force: {book.lookup_key_id or 'none yet'}",
    ]


def personal_suite_argument(text: str) -> str:
    """``international``, ``commercial`` or a suite's own name, as the suite it names."""
    return check_personal_suite(SUITE_NAMES.get(text.strip().lower(), text.strip()), "suite")


def _name(kind: type[Duty] | type[TicketKind], number: int) -> str:
    return str(enum_member(kind, number, kind.__name__).value)


def _amend(args: argparse.Namespace, change: rules_pb2.RuleAmendment) -> int:
    with node_client(args) as client:
        view = client.amend_rules(change)
    print("\n".join(rules_lines(view)))
    return 0


def _show(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        view = client.rules()
    print("\n".join(rules_lines(view)))
    return 0


def _holidays(args: argparse.Namespace) -> int:
    year = holiday_year_from_file(read_table_file(Path(args.file)))
    return _amend(args, rules_pb2.RuleAmendment(holiday_year=year))


def _policy(args: argparse.Namespace) -> int:
    table = policy_from_file(read_table_file(Path(args.file)))
    return _amend(args, rules_pb2.RuleAmendment(policy=table))


def _grace(args: argparse.Namespace) -> int:
    return _amend(args, rules_pb2.RuleAmendment(supervision_grace_minutes=args.minutes))


def _personal(args: argparse.Namespace) -> int:
    if args.suite is None and args.retention_days is None:
        raise InvalidInput("personal", "give --suite, --retention-days or both")
    # Both checked before either is published: a bad second value publishes nothing.
    changes = []
    if args.suite is not None:
        changes.append(rules_pb2.RuleAmendment(personal_suite=personal_suite_argument(args.suite)))
    if args.retention_days is not None:
        days = check_retention_days(args.retention_days, "retention_days")
        changes.append(rules_pb2.RuleAmendment(retention_days=days))
    with node_client(args) as client:
        for change in changes:
            view = client.amend_rules(change)
    print("\n".join(rules_lines(view)))
    return 0


def _rotate_lookup_key(args: argparse.Namespace) -> int:
    return _amend(args, rules_pb2.RuleAmendment(rotate_lookup_key=True))


def _campaign_start(args: argparse.Namespace) -> int:
    if args.days < 1:
        raise InvalidInput("days", f"must be at least 1 working day, not {args.days}")
    campaign = rules_pb2.Campaign(
        campaign_id=args.id,
        name=args.name,
        tags=args.tag,
        categories=args.category,
        keywords=args.keyword,
        days=args.days,
    )
    return _amend(args, rules_pb2.RuleAmendment(start_campaign=campaign))


def _campaign_stop(args: argparse.Namespace) -> int:
    return _amend(args, rules_pb2.RuleAmendment(stop_campaign=args.campaign_id))


PROVINCE = "--node 127.0.0.1:7100 --officer 620000-02"


def add_rules_commands(catalogue: Catalogue) -> None:
    """Register ``rules show|holidays|policy|grace|personal|rotate-lookup-key`` and ``campaign
    start|stop``."""
    rules = catalogue.family(
        "rules", summary="the province's rule book: time-limit tables, holidays, campaigns"
    )
    show = rules.command(
        Audience.SUPERVISORS,
        "show",
        summary="the rule book a node judges deadlines by",
        examples=["hotline rules show --node 127.0.0.1:7300"],
        run=_show,
    )
    node_flags(show, officer=False)
    holidays = rules.command(
        Audience.SUPERVISORS,
        "holidays",
        summary="load a year's holidays and make-up workdays (province)",
        description="The file (TOML, or JSON by its .json suffix) holds year, rest_days and "
        "workdays; docs/deadlines.md shows one.",
        examples=[f"hotline rules holidays 2027.toml {PROVINCE}"],
        run=_holidays,
    )
    holidays.add_argument("file", metavar="FILE", help="TOML or JSON: year, rest_days, workdays")
    node_flags(holidays, officer=True)
    policy = rules.command(
        Audience.SUPERVISORS,
        "policy",
        summary="publish a new time-limit table (province)",
        description="The file (TOML, or JSON by its .json suffix) holds version, "
        "effective_from and [[limits]] rows of duty, kind and days; docs/deadlines.md shows one.",
        examples=[f"hotline rules policy gansu-2027.toml {PROVINCE}"],
        run=_policy,
    )
    policy.add_argument(
        "file", metavar="FILE", help="TOML or JSON: version, effective_from, [[limits]]"
    )
    node_flags(policy, officer=True)
    grace = rules.command(
        Audience.SUPERVISORS,
        "grace",
        summary="how late a county's escalation may be before the level above records it",
        description="Supervision from above (上级监督): a city records the escalation of a "
        "county's overdue duty itself when it has not arrived MINUTES after it was due (the "
        "province after twice that), and reminders later than that are recorded as missed. "
        "It must cover the replication lag; on a drill's accelerated clock that is drill hours "
        "(docs/drills.md). Default 240.",
        examples=[f"hotline rules grace 240 {PROVINCE}"],
        run=_grace,
    )
    grace.add_argument("minutes", type=int, metavar="MINUTES", help="1 to 10080 (a week)")
    node_flags(grace, officer=True)
    personal = rules.command(
        Audience.SUPERVISORS,
        "personal",
        summary="the cipher suite of personal data and how long it is kept (province)",
        description="Personal data (个人信息) of later registrations is sealed with the chosen "
        "suite: international (aes-256-gcm/sha-256, 国际算法, the default) or commercial "
        "(sm4-gcm/sm3, 商用密码); what was sealed before keeps its suite. A ticket's personal "
        f"data is kept DAYS after the ticket ends (default {DEFAULT_RETENTION_DAYS}, three "
        "years). After switching the suite, `hotline rules rotate-lookup-key` makes look-ups "
        "use it too. Each value given is its own new rule book.",
        examples=[
            f"hotline rules personal --suite commercial {PROVINCE}",
            f"hotline rules personal --retention-days 1825 {PROVINCE}",
        ],
        run=_personal,
    )
    personal.add_argument(
        "--suite", metavar="SUITE", help="international, commercial, or a suite's full name"
    )
    personal.add_argument(
        "--retention-days", type=int, metavar="DAYS", help="1 to 36500 days after a ticket ends"
    )
    node_flags(personal, officer=True)
    rotate = rules.command(
        Audience.SUPERVISORS,
        "rotate-lookup-key",
        summary="publish a new look-up key (关联键密钥) for phone and ID look-ups (province)",
        description="The province node makes a new random key in its key folder and publishes "
        "a rule book naming it; every node of the province receives the key at its next "
        "replication round and re-keys its look-ups. Old keys are kept. The key itself is "
        "never printed.",
        examples=[f"hotline rules rotate-lookup-key {PROVINCE}"],
        run=_rotate_lookup_key,
    )
    node_flags(rotate, officer=True)

    campaign = catalogue.family(
        "campaign", summary="campaigns (专项/应急): compressed limits for matching tickets"
    )
    start = campaign.command(
        Audience.SUPERVISORS,
        "start",
        summary="switch a campaign on: matching tickets get compressed limits (province)",
        examples=[
            f"hotline campaign start --id covid --name 新冠疫情防控 --tag 新冠疫情 {PROVINCE}"
        ],
        run=_campaign_start,
    )
    need = required_flags(start)
    need.add_argument("--id", required=True, metavar="ID", help="a short id, e.g. covid-2027")
    need.add_argument("--name", required=True, help="its name, e.g. 新冠疫情防控")
    start.add_argument(
        "--tag", action="append", default=[], help="a ticket tag to match (repeat for several)"
    )
    start.add_argument(
        "--category",
        action="append",
        default=[],
        help="a category to match (repeat for several)",
    )
    start.add_argument(
        "--keyword", action="append", default=[], help="a word in the facts (repeat for several)"
    )
    start.add_argument(
        "--days", type=int, default=3, metavar="N", help="working days for every duty (default 3)"
    )
    node_flags(start, officer=True)
    stop = campaign.command(
        Audience.SUPERVISORS,
        "stop",
        summary="switch a campaign off (province)",
        examples=[f"hotline campaign stop covid {PROVINCE}"],
        run=_campaign_stop,
    )
    stop.add_argument("campaign_id", metavar="ID", help="the campaign's id")
    node_flags(stop, officer=True)
