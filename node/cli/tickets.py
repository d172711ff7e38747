"""The ticket commands of the ``hotline`` CLI: register, list, show, and one per handling step.

Flags are derived from the core command dataclasses, so the CLI offers exactly the fields the
contracts have: ``hotline register --kind complaint --consumer-name 张三 ...``,
``hotline accept-complaint TICKET --note ...``, ``hotline end-mediation TICKET --outcome
agreement --agreement ... --amount-recovered-fen 200000``. The node checks the input and
answers with the field that is wrong.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import re
import typing
import uuid
from typing import Any

from google.protobuf.json_format import MessageToDict

from core.ticket import commands as c
from core.ticket.state import TicketState, TicketStatus
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2, intake_pb2, ticket_pb2
from sync.codec import enum_member, from_message, to_message

STEP_COMMANDS: tuple[type, ...] = typing.get_args(c.TicketCommand)


def kebab(name: str) -> str:
    """``AcceptComplaint`` -> ``accept-complaint``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _unwrap(hint: Any) -> tuple[Any, bool]:
    args = typing.get_args(hint)
    if type(None) in args:
        return next(a for a in args if a is not type(None)), True
    return hint, False


def add_dataclass_flags(parser: argparse.ArgumentParser, cls: type, prefix: str = "") -> None:
    """One flag per field of ``cls`` (nested dataclasses get a prefix)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint, optional = _unwrap(hints[f.name])
        flag = "--" + (prefix + f.name).replace("_", "-")
        dest = (prefix + f.name).replace("-", "_")
        if dataclasses.is_dataclass(hint):
            add_dataclass_flags(parser, typing.cast(type, hint), f"{prefix}{f.name}-")
        elif isinstance(hint, type) and issubclass(hint, enum.Enum):
            required = f.default is dataclasses.MISSING and not optional
            parser.add_argument(
                flag, dest=dest, choices=[m.value for m in hint], required=required, default=None
            )
        elif typing.get_origin(hint) is tuple:
            if typing.get_args(hint)[0] is str:
                parser.add_argument(
                    flag, dest=dest, action="append", default=[], help="repeat for several"
                )
        elif hint is int:
            parser.add_argument(flag, dest=dest, type=int, default=None)
        else:
            parser.add_argument(flag, dest=dest, default=None)


def dataclass_from_flags(cls: type, args: argparse.Namespace, prefix: str = "") -> Any:
    """An instance of ``cls`` from the flags ``add_dataclass_flags`` made."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint, _ = _unwrap(hints[f.name])
        dest = (prefix + f.name).replace("-", "_")
        if dataclasses.is_dataclass(hint):
            values[f.name] = dataclass_from_flags(
                typing.cast(type, hint), args, f"{prefix}{f.name}_"
            )
            continue
        raw = getattr(args, dest, None)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            values[f.name] = (
                hint(raw)
                if raw is not None
                else (None if f.default is dataclasses.MISSING else f.default)
            )
        elif typing.get_origin(hint) is tuple:
            values[f.name] = tuple(raw or ())
        elif raw is None:
            if f.default is not dataclasses.MISSING:
                values[f.name] = f.default
            else:
                values[f.name] = 0 if hint is int else ""
        else:
            values[f.name] = raw
    return cls(**values)


def add_ticket_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ticket sub-commands on the ``hotline`` parser."""
    reg = sub.add_parser("register", parents=[common], help="register a ticket")
    add_dataclass_flags(reg, c.RegisterTicket)
    reg.add_argument("--request-id", default=None, help="idempotency key (default: random)")
    reg.set_defaults(run=run_register)

    lst = sub.add_parser("list", parents=[common], help="list tickets held on a node")
    lst.add_argument("--holder", default="", help="only tickets held under this unit prefix")
    lst.add_argument("--conflicts", action="store_true", help="only tickets in conflict")
    lst.set_defaults(run=run_list)

    show = sub.add_parser(
        "show", parents=[common], help="a ticket's state and history, with who signed each event"
    )
    show.add_argument("ticket")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=run_show)

    for cls in STEP_COMMANDS:
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        step = sub.add_parser(kebab(cls.__name__), parents=[common], help=doc)
        step.add_argument("ticket")
        add_dataclass_flags(step, cls)
        step.set_defaults(run=run_step, step_class=cls)


def _client(args: argparse.Namespace) -> NodeClient:
    return NodeClient(args.node, args.officer)


def run_register(args: argparse.Namespace) -> int:
    """``hotline register``."""
    command = dataclass_from_flags(c.RegisterTicket, args)
    ticket = to_message(command, intake_pb2.NewTicket)
    with _client(args) as client:
        response = client.register(args.request_id or uuid.uuid4().hex, ticket)  # type: ignore[arg-type]
    note = " (already registered by this request)" if response.replayed else ""
    print(f"registered {response.ticket_id}{note}: {_status(response.ticket)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """``hotline list``."""
    with _client(args) as client:
        rows = client.list_tickets(holder_prefix=args.holder, in_conflict_only=args.conflicts)
    for t in rows:
        status = enum_member(TicketStatus, t.status, "status").value
        flag = "  CONFLICT" if t.in_conflict else ""
        print(
            f"{t.ticket_id:28} {status:12} {t.holder_unit:9} {t.assigned_station:9} "
            f"{t.category[:16]:16} {t.respondent_name}{flag}"
        )
    print(f"{len(rows)} ticket(s)")
    return 0


def _status(ticket: ticket_pb2.Ticket) -> str:
    state = from_message(TicketState, ticket)
    parts = [f"{t.track.value}={t.stage.value}" for t in state.tracks]
    station = f" station {state.assigned_station}" if state.assigned_station else ""
    conflict = f" IN CONFLICT ({len(state.conflicts)})" if state.conflicts else ""
    return f"{state.status.value} at {state.holder_unit}{station} [{', '.join(parts)}]{conflict}"


def run_show(args: argparse.Namespace) -> int:
    """``hotline show``."""
    with _client(args) as client:
        ticket = client.get(args.ticket)
        history = client.history(args.ticket)
    if args.json:
        print(
            json.dumps(
                {"ticket": MessageToDict(ticket), "history": MessageToDict(history)},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    reg = ticket.registration
    print(f"{ticket.ticket_id}: {_status(ticket)}")
    print(f"  {reg.respondent.name} | {reg.category} | {reg.facts[:60]}")
    print(
        f"  dispatched {ticket.dispatch_count}x, returned {ticket.return_count}x, "
        f"reopened {ticket.reopen_count}x"
    )
    if ticket.HasField("incident"):
        print(
            f"  GROUP INCIDENT {ticket.incident.incident_id} (群体投诉), "
            f"in {ticket.incident.to_unit}'s queue"
        )
    if ticket.HasField("emergency"):
        print(
            f"  EMERGENCY (紧急) in {ticket.emergency.to_unit}'s queue: "
            f"{', '.join(ticket.emergency.reasons)}"
        )
    if ticket.HasField("claimant"):
        c = ticket.claimant
        print(
            f"  POSSIBLE PROFESSIONAL CLAIMANT (职业索赔) {c.filer}: {c.tickets} tickets against "
            f"{c.businesses} businesses in {c.window_days} days; answer uniformly"
        )
    for conflict in ticket.conflicts:
        print(f"  CONFLICT {conflict.event_type} from {conflict.origin_node}: {conflict.reason}")
    print("  history (fold order):")
    for e in history.entries:
        ok = "signature ok" if e.signature_valid else "SIGNATURE NOT VERIFIED"
        applied = "" if e.applied else "  [not applied: conflict]"
        print(
            f"    {e.recorded_at.ToDatetime():%Y-%m-%d %H:%M:%S} {e.event_type:18} "
            f"by {e.officer.name}({e.officer.officer_id}, {e.officer.unit_code}) "
            f"on {e.origin_node}#{e.origin_seq}, key {e.signer_key_id[:12]}, {ok}{applied}"
        )
    return 0


def run_step(args: argparse.Namespace) -> int:
    """``hotline <step> TICKET ...``: one handling step."""
    cls = args.step_class
    command = dataclass_from_flags(cls, args)
    request = to_message(command, getattr(casework_pb2, f"{cls.__name__}Request"))
    request.ticket_id = args.ticket  # type: ignore[attr-defined]
    with _client(args) as client:
        response = client.step(cls.__name__, request)
    print(f"{args.ticket}: {_status(response.ticket)}")
    return 0
