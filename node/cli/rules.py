"""``hotline rules`` and ``hotline campaign``: the province's rule book from the command line.

    hotline rules show      --node N                       the rule book a node judges by
    hotline rules holidays  FILE --node N --officer O      load a year's holidays (province)
    hotline rules policy    FILE --node N --officer O      publish a time-limit table (province)
    hotline campaign start  --id ID --name NAME [--tag T] [--category C] [--keyword K]
                            [--days 3] --node N --officer O
    hotline campaign stop   ID --node N --officer O

Files are TOML (or JSON by their ``.json`` suffix); docs/deadlines.md shows both formats. Each
change is a new signed rule book that reaches every node of the province at its next
replication round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

from core.deadlines.china_time import start_of_day_ms
from core.errors import InvalidInput
from core.ticket.vocabulary import Duty, TicketKind
from node.edge.client import NodeClient
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
        limits.append(
            rules_pb2.TimeLimitRow(
                duty=enum_number(duty),
                kind=enum_number(kind),
                days=max(days, 0),
                max_extension_days=cap,
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
            f"{_when(book.issued_ms)} by {view.issued_by}"
        ]
    for policy in book.policies:
        limits = ", ".join(
            f"{_name(Duty, r.duty)}/{_name(TicketKind, r.kind)}={r.days}WD" for r in policy.limits
        )
        lines.append(f"  table {policy.version} from {_when(policy.effective_from_ms)}: {limits}")
    for year in book.holiday_years:
        lines.append(
            f"  holidays {year.year}: {len(year.rest_days)} rest days, "
            f"{len(year.workdays)} make-up workdays ({', '.join(year.workdays) or 'none'})"
        )
    for c in book.campaigns:
        state = "running" if not c.ended_ms else f"ended {_when(c.ended_ms)}"
        terms = [*(f"tag:{t}" for t in c.tags), *(f"category:{t}" for t in c.categories)]
        terms += [f"keyword:{t}" for t in c.keywords]
        lines.append(
            f"  campaign {c.campaign_id} ({c.name}) {state}, from {_when(c.started_ms)}: "
            f"limits {c.days} WD, daily bulletin; matches {' '.join(terms)}"
        )
    lines.append(f"calendar knows: {', '.join(map(str, view.calendar_years))}")
    if view.unknown_years:
        lines.append(
            f"WARNING: no holidays for {', '.join(map(str, view.unknown_years))}: weekends only "
            "until `hotline rules holidays` loads them"
        )
    return lines


def _name(kind: type[Duty] | type[TicketKind], number: int) -> str:
    return str(enum_member(kind, number, kind.__name__).value)


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d %H:%M+08")


def _amend(args: argparse.Namespace, change: rules_pb2.RuleAmendment) -> int:
    with NodeClient(args.node, args.officer) as client:
        view = client.amend_rules(change)
    print("\n".join(rules_lines(view)))
    return 0


def _show(args: argparse.Namespace) -> int:
    with NodeClient(args.node, args.officer) as client:
        view = client.rules()
    print("\n".join(rules_lines(view)))
    return 0


def _holidays(args: argparse.Namespace) -> int:
    year = holiday_year_from_file(read_table_file(Path(args.file)))
    return _amend(args, rules_pb2.RuleAmendment(holiday_year=year))


def _policy(args: argparse.Namespace) -> int:
    table = policy_from_file(read_table_file(Path(args.file)))
    return _amend(args, rules_pb2.RuleAmendment(policy=table))


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


def add_rules_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``rules`` and ``campaign`` to the top-level sub-parsers."""
    rules = sub.add_parser("rules", help="the province rule book: time limits, holidays")
    rules_sub = rules.add_subparsers(dest="rules", required=True)
    rules_sub.add_parser(
        "show", parents=[common], help="the rule book a node judges by"
    ).set_defaults(run=_show)
    holidays = rules_sub.add_parser(
        "holidays", parents=[common], help="load a year's holidays and make-up workdays"
    )
    holidays.add_argument("file", help="TOML or JSON: year, rest_days, workdays")
    holidays.set_defaults(run=_holidays)
    policy = rules_sub.add_parser("policy", parents=[common], help="publish a time-limit table")
    policy.add_argument("file", help="TOML or JSON: version, effective_from, [[limits]]")
    policy.set_defaults(run=_policy)

    campaign = sub.add_parser("campaign", help="campaigns (专项/应急): compressed limits")
    campaign_sub = campaign.add_subparsers(dest="campaign", required=True)
    start = campaign_sub.add_parser("start", parents=[common], help="switch a campaign on")
    start.add_argument("--id", required=True, help="a short id, e.g. covid-2027")
    start.add_argument("--name", required=True, help="e.g. 新冠疫情防控")
    start.add_argument("--tag", action="append", default=[], help="a ticket tag to match")
    start.add_argument("--category", action="append", default=[], help="a category to match")
    start.add_argument("--keyword", action="append", default=[], help="a word in the facts")
    start.add_argument("--days", type=int, default=3, help="working days for every duty")
    start.set_defaults(run=_campaign_start)
    stop = campaign_sub.add_parser("stop", parents=[common], help="switch a campaign off")
    stop.add_argument("campaign_id")
    stop.set_defaults(run=_campaign_stop)
