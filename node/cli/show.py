"""``hotline show``: every field of a ticket, its open deadlines and its history, in words.

A ticket (``hotline.v1.Ticket``) and each event's payload are walked field by field from their
descriptors, so a field added to the contracts shows up here without a change. Each value is
put in words: an enum by its value and Chinese term (``time_barred 超过三年``), a clock value
(``*_hlc``, ``*_ms``, timestamps) in China time with its zone, money (``*_fen``) in yuan, a
yes/no as yes or no. Fields without a value (proto3 leaves them unset) are left out.

Between the ticket and its history come its open duties from the node's obligations view
(``IntakeService.GetTicketDeadlines``), each with its due date and, where the date was counted
over a year whose holidays are not loaded, the mark "provisional 暂定".
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from core.ticket.escalation_history import counted_escalations
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty
from node.cli.display import (
    china_time,
    china_time_of,
    china_time_of_hlc,
    due_date,
    duration,
    provisional_mark,
    yuan,
)
from node.cli.personal import personal_lines
from node.cli.session_file import node_client
from node.cli.terms import ENUMS, event_term, term, term_of
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import events_pb2, intake_pb2, ticket_pb2
from sync.codec import enum_member, from_message

LABELS: dict[str, str] = {
    "ground": "refusal ground (不予受理理由)",
    "refusal_ground": "refusal ground (不予受理理由)",
    "notice": "notice to the consumer",
    "refusal_notice": "notice to the consumer",
    "satisfaction": "rating (满意度)",
    "agreement": "agreement (调解协议)",
    "amount_recovered_fen": "amount recovered",
    "amount_fen": "amount involved",
    "holder_unit": "held by",
    "last_router_unit": "dispatched by (a return goes there)",
    "supervising_unit": "dispatchers above both (a return goes there)",
    "assigned_station": "station working on it",
    "to_unit": "to unit",
    "from_unit": "from unit",
    "operating_region": "operating region (实际经营地)",
    "registered_region": "registered region (住所地)",
    "credit_code": "credit code (统一社会信用代码)",
    "paused_ms": "mediation clock stopped for",
    "paused_since_hlc": "mediation clock stopped since",
    "version": "events folded",
    "awaiting_callback": "awaiting callback (待回访)",
    "units_involved": "units involved",
    "held_since_hlc": "held since",
    "last_hlc": "last event at",
    "received_at": "received at",
    "registering_unit": "registered by unit",
    "duplicate_of": "duplicate of",
}
"""Words for field names where the name alone reads poorly; others are the name in words."""


def label(field: FieldDescriptor) -> str:
    """A field's name in words: ``accepted_hlc`` -> ``accepted at``."""
    if field.name in LABELS:
        return LABELS[field.name]
    name = field.name
    for suffix, words in (("_hlc", " at"), ("_ms", " at"), ("_fen", "")):
        if name.endswith(suffix):
            return name[: -len(suffix)].replace("_", " ") + words
    return name.replace("_", " ")


def scalar(field: FieldDescriptor, value: object) -> str:
    """One value of a scalar or enum field, in words."""
    enum_type = field.enum_type
    if field.type == FieldDescriptor.TYPE_ENUM and enum_type is not None:
        kind = ENUMS.get(enum_type.name)
        if kind is None:
            return enum_type.values_by_number[int(value)].name  # type: ignore[call-overload]
        return term(enum_member(kind, int(value), field.name))  # type: ignore[call-overload]
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "yes" if value else "no"
    if field.name.endswith("_hlc"):
        return china_time_of_hlc(int(value))  # type: ignore[call-overload]
    if field.name == "paused_ms":
        return duration(int(value))  # type: ignore[call-overload]
    if field.name.endswith("_ms"):
        return china_time(int(value))  # type: ignore[call-overload]
    if field.name.endswith("_fen"):
        return yuan(int(value))  # type: ignore[call-overload]
    return str(value)


def message_lines(message: Message, indent: str = "  ") -> list[str]:
    """Every field of ``message`` that has a value, one line each, nested messages indented."""
    lines: list[str] = []
    for field, value in message.ListFields():
        name = label(field)
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                lines.append(f"{indent}{name}: {', '.join(scalar(field, v) for v in value)}")
            else:
                lines.append(f"{indent}{name}: {scalar(field, value)}")
            continue
        items = list(value) if field.is_repeated else [value]
        for i, item in enumerate(items):
            if isinstance(item, Timestamp):
                lines.append(f"{indent}{name}: {china_time_of(item)}")
                continue
            number = f" {i + 1}" if len(items) > 1 else ""
            lines.append(f"{indent}{name}{number}:")
            lines.extend(message_lines(item, indent + "  "))
    return lines


def payload_lines(entry: intake_pb2.HistoryEntry, indent: str) -> list[str]:
    """The fields of one history entry's payload in words (its ``details`` JSON, read back)."""
    if not entry.details:
        return []
    kind = getattr(events_pb2, entry.event_type.rsplit(".", 1)[-1], None)
    if kind is None:
        return [f"{indent}details: {entry.details}"]
    payload = kind()
    try:
        json_format.Parse(entry.details, payload, ignore_unknown_fields=True)
    except json_format.ParseError:
        return [f"{indent}details: {entry.details}"]
    if isinstance(payload, events_pb2.TicketRegistered):
        payload.ClearField("ticket_id")  # the ticket shown
    return message_lines(payload, indent)


def history_lines(
    history: intake_pb2.TicketHistory, ticket: ticket_pb2.Ticket | None = None
) -> list[str]:
    """Each event: when, what (with its Chinese name), who, where, signature; then its fields.

    With the ``ticket``, each escalation says what became of it (counted, superseded...).
    """
    outcomes = {} if ticket is None else escalation_outcomes(ticket)
    lines = []
    for e in history.entries:
        ok = "signature ok" if e.signature_valid else "SIGNATURE NOT VERIFIED"
        applied = "" if e.applied else "  [not applied: conflict]"
        outcome = f"  [{outcomes[e.event_id]}]" if e.event_id in outcomes else ""
        lines.append(
            f"  {china_time_of(e.recorded_at)}  {event_term(e.event_type)}  "
            f"by {e.officer.name} ({e.officer.officer_id}, {e.officer.unit_code}) "
            f"on {e.origin_node}#{e.origin_seq}, key {e.signer_key_id[:12]}, {ok}{applied}"
            f"{outcome}"
        )
        lines.extend(payload_lines(e, "      "))
    return lines


def escalation_outcomes(ticket: ticket_pb2.Ticket) -> dict[str, str]:
    """Each escalation event's id and what became of it, in words (``standing 督办中``)."""
    state = from_message(TicketState, ticket)
    return {r.event_id: term(r.outcome) for r in state.escalation_history}


def escalation_summary(ticket: ticket_pb2.Ticket) -> str:
    """How many escalations count against the units that owed the duties, and how many not."""
    state = from_message(TicketState, ticket)
    if not state.escalation_history:
        return ""
    counted = counted_escalations(state)
    levels = ", ".join(f"{r.from_unit} level {r.level} to {r.to_unit}" for r in counted)
    uncounted = len(state.escalation_history) - len(counted)
    return (
        f"  ESCALATIONS (督办) counted: {len(counted)}{f' ({levels})' if levels else ''}; "
        f"not counted (superseded 已撤销, repeated 重复 or void 无效): {uncounted}"
    )


def status_line(ticket: ticket_pb2.Ticket) -> str:
    """Where a ticket stands, in one line: ``routed 已分流 at 620102 [complaint: ...]``."""
    state = from_message(TicketState, ticket)
    parts = [f"{t.track.value}: {term(t.stage)}" for t in state.tracks]
    station = f" station {state.assigned_station}" if state.assigned_station else ""
    conflict = f" IN CONFLICT ({len(state.conflicts)})" if state.conflicts else ""
    return f"{term(state.status)} at {state.holder_unit}{station} [{', '.join(parts)}]{conflict}"


def ticket_lines(ticket: ticket_pb2.Ticket) -> list[str]:
    """The ticket: a heading, the flags a supervisor must see, then every field in words."""
    lines = [f"ticket {ticket.ticket_id}: {status_line(ticket)}"]
    if ticket.HasField("incident"):
        lines.append(f"  GROUP INCIDENT (群体投诉) {ticket.incident.incident_id}")
    if ticket.HasField("emergency"):
        lines.append(
            f"  EMERGENCY (紧急) in {ticket.emergency.to_unit}'s queue: "
            f"{', '.join(ticket.emergency.reasons)}"
        )
    if ticket.HasField("claimant"):
        lines.append("  POSSIBLE PROFESSIONAL CLAIMANT (职业索赔): answer uniformly")
    summary = escalation_summary(ticket)
    if summary:
        lines.append(summary)
    for conflict in ticket.conflicts:
        lines.append(
            f"  CONFLICT {conflict.event_type} from {conflict.origin_node}: {conflict.reason}"
        )
    lines.extend(personal_lines(ticket))
    shown = ticket_pb2.Ticket()
    shown.CopyFrom(ticket)
    shown.ClearField("ticket_id")  # in the heading
    for shown_above in ("reveals", "personal_status"):
        shown.ClearField(shown_above)
    if shown.HasField("registration"):
        shown.registration.ClearField("ticket_id")
        shown.registration.ClearField("consumer")  # shown above, with what is held of it
    lines.extend(message_lines(shown))
    return lines


def deadline_line(deadline: intake_pb2.DutyDeadline, indent: str = "  ") -> str:
    """One open duty: what, who owes it, its due date (marked when provisional), escalation."""
    climbed = (
        f", escalated {deadline.escalation_level}x to {deadline.escalated_to}"
        if deadline.escalated_to
        else ""
    )
    return (
        f"{indent}{term_of(Duty, deadline.duty)}  owed by {deadline.unit_code}  "
        f"due {due_date(deadline.due_ms)}{provisional_mark(deadline.unknown_years)}{climbed}"
    )


def deadline_lines(deadlines: Sequence[intake_pb2.DutyDeadline]) -> list[str]:
    """The open duties of a ticket under a heading; a line saying so when there are none."""
    if not deadlines:
        return ["deadlines (时限): none open"]
    return ["deadlines (时限):", *(deadline_line(d) for d in deadlines)]


def _deadlines(client: NodeClient, ticket_id: str) -> list[intake_pb2.DutyDeadline] | None:
    """The ticket's open duties on the node; None from a node too old to say."""
    try:
        return list(client.deadlines(ticket_id).deadlines)
    except CallError as error:
        if error.code == "UNIMPLEMENTED":
            return None
        raise


def run_show(args: argparse.Namespace) -> int:
    """``hotline show TICKET``: the ticket in words, its open deadlines, its signed history."""
    with node_client(args) as client:
        ticket = client.get(args.ticket)
        deadlines = _deadlines(client, args.ticket)
        history = client.history(args.ticket)
    if args.json:
        shown: dict[str, object] = {"ticket": MessageToDict(ticket)}
        if deadlines is not None:
            shown["deadlines"] = [MessageToDict(d) for d in deadlines]
        shown["history"] = MessageToDict(history)
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    for line in ticket_lines(ticket):
        print(line)
    if deadlines is None:
        print("deadlines (时限): this node does not list them (an older version)")
    else:
        for line in deadline_lines(deadlines):
            print(line)
    print("history (fold order):")
    for line in history_lines(history, ticket):
        print(line)
    return 0
