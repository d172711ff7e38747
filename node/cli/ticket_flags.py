"""Flags made from the core's command dataclasses, each with help that says what it is.

The CLI offers exactly the fields the contracts have: ``hotline register --kind complaint
--consumer-name 张三 ...``, ``hotline end-mediation TICKET --outcome agreement --agreement ...
--amount-recovered-fen 300000``. A field without a default is a required flag; an enum flag
lists its values with their Chinese terms; a yes/no field is ``--x``/``--no-x``. The node
checks the values and answers with the field that is wrong.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import typing
from typing import Any

from node.cli.catalogue import required_flags
from node.cli.terms import choices_with_terms

FIELD_HELP: dict[str, str] = {
    # registration (登记)
    "kind": "what the filer wants",
    "channel": "how the ticket came in",
    "source_line": "the legacy hotline it belongs to (五线合一)",
    "consumer.name": "the filer's name",
    "consumer.phone": "the filer's phone number",
    "consumer.address": "the filer's address",
    "consumer.id_number": "the filer's identity card number (shown only to those who need it)",
    "respondent.name": "the business complained about or reported",
    "respondent.credit_code": "its unified social credit code (统一社会信用代码, 18 characters)",
    "respondent.form": "how it trades: decides which of its addresses routes the ticket",
    "respondent.address": "its address, in words",
    "respondent.operating_region": "county code where it operates (实际经营地): routes the ticket",
    "respondent.registered_region": "county code where it is registered (住所地)",
    "respondent.platform_name": "the e-commerce platform it sells on",
    "respondent.platform_region": "county code where that platform is registered",
    "respondent.shop_name": "its shop's name on the platform",
    "category": "goods or services category, e.g. 预付式消费/健身",
    "facts": "what happened, in the filer's words",
    "request": "what the filer asks for",
    "amount_fen": "amount involved, in fen (1/100 yuan): 300000 is 3,000 yuan",
    "incident_region": "county code where the conduct happened (reports)",
    "tags": "a campaign or topic tag, e.g. 新冠疫情",
    "odr_green_channel": "the consumer chose the ODR green channel (绿色通道): a complaint against "
    "an enterprise on the ODR roster (by --respondent-credit-code) goes straight to it",
    # handling steps
    "RouteTicket.to_unit": "unit code to dispatch to; leave out to route by jurisdiction",
    "note": "a note kept with the step",
    "ReturnTicket.reason": "why the ticket goes back to its dispatcher (退回)",
    "ReturnTicket.note": "explanation for the dispatcher",
    "ground": "the legal ground for not accepting (不予受理)",
    "notice": "text of the notice sent to the consumer",
    "station_code": "9-digit code of one of this county's stations (known via `hotline add-unit`)",
    "AssignToStation.note": "instructions for the station",
    "PauseMediation.reason": "what is being tested or appraised (the mediation clock stops)",
    "ResumeMediation.note": "outcome of the testing or appraisal",
    "outcome": "how mediation ended",
    "termination_reason": "why mediation was terminated (with --outcome terminated)",
    "agreement": "terms agreed (with --outcome agreement), e.g. 退款3000元",
    "amount_recovered_fen": "money recovered for the consumer, in fen: 300000 is 3,000 yuan",
    "finding": "whether the report is substantiated",
    "evidence": "what was found (required when not substantiated)",
    "case_number": "the enforcement case number (立案)",
    "track": "which part of the ticket: complaint, report or inquiry",
    "summary": "the result as told to the consumer; you sign it as the handler",
    "ApproveResult.note": "the approving head's note",
    "RejectResult.reason": "what the handler must change",
    "answer": "the answer given to the consultation or suggestion",
    "satisfaction": "the consumer's rating (回访); dissatisfied reopens the ticket",
    "RecordCallback.note": "what the consumer said",
    "duty": "the duty (a step with a deadline)",
    "RequestExtension.days": "working days asked for",
    "RequestExtension.reason": "why more time is needed (延期申请)",
    "approved": "approve (--approved) or deny (--no-approved) the pending request",
    "DecideExtension.days": "working days granted; 0 grants what was asked",
    "DecideExtension.note": "the deciding unit's note; the reason of a denial",
    "order_id": "an id for the order, unique within the ticket (a retry is then refused)",
    "OrderSupervision.to_unit": "the unit that must report: the holder or a unit above it",
    "OrderSupervision.days": "working days the written report is due in",
    "instructions": "what is to be done and reported (跟踪督办)",
    "report": "the written report on the supervision order (督办回复)",
}
"""Help of each field, by ``Class.field`` where the meaning is the class's own, else by
dotted field path (``consumer.name``); a test makes sure no flag goes without."""


def field_help(cls: type, path: str) -> str:
    """The help of field ``path`` of ``cls``; ``LookupError`` when the table has none."""
    for key in (f"{cls.__name__}.{path}", path):
        if key in FIELD_HELP:
            return FIELD_HELP[key]
    raise LookupError(f"no help for {cls.__name__}.{path}: add it to FIELD_HELP")


def _unwrap(hint: Any) -> tuple[Any, bool]:
    args = typing.get_args(hint)
    if type(None) in args:
        return next(a for a in args if a is not type(None)), True
    return hint, False


def add_dataclass_flags(
    parser: argparse.ArgumentParser, cls: type, *, top: type | None = None, prefix: str = ""
) -> None:
    """One flag per field of ``cls`` (nested dataclasses get a prefix: ``--consumer-name``)."""
    top = top or cls
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint, optional = _unwrap(hints[f.name])
        path = prefix.replace("-", ".") + f.name
        flag = "--" + (prefix + f.name).replace("_", "-")
        dest = (prefix + f.name).replace("-", "_")
        if dataclasses.is_dataclass(hint):
            add_dataclass_flags(
                parser, typing.cast(type, hint), top=top, prefix=f"{prefix}{f.name}-"
            )
            continue
        if typing.get_origin(hint) is tuple:
            if typing.get_args(hint)[0] is str:
                parser.add_argument(
                    flag,
                    dest=dest,
                    action="append",
                    default=[],
                    metavar="TEXT",
                    help=field_help(top, path) + " (repeat for several)",
                )
            continue  # attachments travel by digest; not typed on a command line
        required = f.default is dataclasses.MISSING and not optional
        target = required_flags(parser) if required else parser
        text = field_help(top, path)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            target.add_argument(
                flag,
                dest=dest,
                choices=[m.value for m in hint],
                required=required,
                default=None,
                metavar=hint.__name__.upper(),
                help=f"{text}: {choices_with_terms(hint)}",
            )
        elif hint is bool:
            target.add_argument(
                flag,
                dest=dest,
                action=argparse.BooleanOptionalAction,
                required=required,
                default=None,
                help=text,
            )
        elif hint is int:
            target.add_argument(
                flag, dest=dest, type=int, required=required, default=None, metavar="N", help=text
            )
        else:
            target.add_argument(
                flag, dest=dest, required=required, default=None, metavar="TEXT", help=text
            )


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
                values[f.name] = False if hint is bool else 0 if hint is int else ""
        else:
            values[f.name] = raw
    return cls(**values)
