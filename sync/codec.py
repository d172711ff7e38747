"""Translation between the core's dataclasses and the ``hotline.v1`` protobuf messages.

The core speaks plain dataclasses and enums; the wire and the signed log speak protobuf. The
contracts were written so that one rule translates every pair (proto/hotline/v1/common.proto):
same field names; enum values named ``<ENUM_NAME>_<MEMBER>``; value 0 means "not set";
``datetime`` travels as ``google.protobuf.Timestamp``; ``tuple[X, ...]`` as ``repeated``; an
optional dataclass as a message field that may be absent. A plan per dataclass is worked out
once from its type hints and compiled into one function per direction, so the hot path is
plain attribute reads and writes.

Decoding input is where bad requests are caught: an unset required enum raises
``InvalidInput`` naming the dotted field path, before anything is written.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from google.protobuf.message import Message

from core.errors import InvalidInput
from core.ticket.state import TicketState
from proto.hotline.v1 import common_pb2, odr_pb2, ticket_pb2

T = TypeVar("T")
M = TypeVar("M", bound=Message)
E = TypeVar("E", bound=enum.Enum)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@cache
def _enum_numbers(enum_cls: type[enum.Enum]) -> tuple[dict[enum.Enum, int], dict[int, enum.Enum]]:
    """Member -> proto number and back, found by the naming rule on first use."""
    prefix = _snake(enum_cls.__name__)
    for module in (common_pb2, ticket_pb2, odr_pb2):
        descriptor = module.DESCRIPTOR.enum_types_by_name.get(enum_cls.__name__)
        if descriptor is not None:
            break
    else:
        raise LookupError(f"no proto enum named {enum_cls.__name__}")
    to_number: dict[enum.Enum, int] = {}
    for member in enum_cls:
        value = descriptor.values_by_name.get(f"{prefix}_{member.name}")
        if value is None:
            raise LookupError(f"proto enum {descriptor.name} lacks {prefix}_{member.name}")
        to_number[member] = value.number
    return to_number, {n: m for m, n in to_number.items()}


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


# -- plans, compiled ---------------------------------------------------------------------------
#
# Every event recorded, every event read back from the log and every projected view goes
# through here, so the per-field work is compiled into one plain function per dataclass (as
# ``dataclasses`` itself does for ``__init__``): attribute reads and writes, no per-field call
# through a closure, and a field's dotted path is only spelled out when a decoding error names
# it. The rule per field type is the one in the module docstring; ``_encode_lines`` and
# ``_decode_expr`` are its two directions.


def _field_path(path: str, name: str) -> str:
    """The dotted path of field ``name`` of the message at ``path`` (for error messages)."""
    return f"{path}.{name}" if path else name


def _must_be_set(path: str, name: str) -> Any:
    raise InvalidInput(_field_path(path, name), "must be set")


def _enum_decoder(
    name: str, to_member: dict[int, enum.Enum], optional: bool, has_default: bool, default: Any
) -> Callable[[int, str], Any]:
    """The slow path of an enum field: unset (0) or a number no member has."""

    def decode(number: int, path: str) -> Any:
        if number == 0:
            if optional:
                return None
            if has_default:
                return default
            raise InvalidInput(_field_path(path, name), "must be set")
        try:
            return to_member[number]
        except KeyError:
            raise InvalidInput(_field_path(path, name), f"unknown value {number}") from None

    return decode


def _decode_items(decode: Callable[[Message, str], Any], items: Any, path: str) -> tuple[Any, ...]:
    return tuple(decode(m, f"{path}[{i}]") for i, m in enumerate(items))


def _encode_lines(i: int, name: str, hint: Any, env: dict[str, Any]) -> list[str]:
    """Source lines that copy ``obj.<name>`` into ``msg``."""
    inner, _ = _unwrap_optional(hint)
    if typing.get_origin(inner) is tuple:
        if dataclasses.is_dataclass(typing.get_args(inner)[0]):
            return [f"for element in obj.{name}:", f"    _fill(msg.{name}.add(), element)"]
        return [f"msg.{name}.extend(obj.{name})"]
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        env[f"_number{i}"] = _enum_numbers(inner)[0]
        return [f"v = obj.{name}", "if v is not None:", f"    msg.{name} = _number{i}[v]"]
    if inner is datetime:
        return [f"v = obj.{name}", "if v is not None:", f"    msg.{name}.FromDatetime(v)"]
    if dataclasses.is_dataclass(inner):
        # By the value's own class, as ``to_message`` does for the top level.
        return [f"v = obj.{name}", "if v is not None:", f"    _fill(msg.{name}, v)"]
    return [f"msg.{name} = obj.{name}"]


def _decode_expr(
    i: int, name: str, hint: Any, has_default: bool, default: Any, env: dict[str, Any]
) -> str:
    """A source expression for field ``name`` read from ``msg`` (the message at ``path``)."""
    inner, optional = _unwrap_optional(hint)
    env[f"_default{i}"] = default
    here = f"_field_path(path, {name!r})"
    if typing.get_origin(inner) is tuple:
        item = typing.get_args(inner)[0]
        if dataclasses.is_dataclass(item):
            env[f"_item{i}"] = _decoder(typing.cast(type, item))
            return f"_decode_items(_item{i}, msg.{name}, {here})"
        return f"tuple(msg.{name})"
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        to_member = _enum_numbers(inner)[1]
        env[f"_member{i}"] = {n: m for n, m in to_member.items() if n != 0}
        env[f"_odd{i}"] = _enum_decoder(name, to_member, optional, has_default, default)
        return f"_member{i}[v] if (v := msg.{name}) in _member{i} else _odd{i}(v, path)"
    if inner is datetime:
        unset = "None" if optional else f"_must_be_set(path, {name!r})"
        return f"msg.{name}.ToDatetime(tzinfo=_UTC) if msg.HasField({name!r}) else {unset}"
    if dataclasses.is_dataclass(inner):
        env[f"_message{i}"] = _decoder(typing.cast(type, inner))
        read = f"_message{i}(msg.{name}, {here})"
        unset = "None" if optional else f"_default{i}" if has_default else read
        return f"{read} if msg.HasField({name!r}) else {unset}"
    return f"msg.{name}"


_Encode = Callable[[Message, Any], None]
_Decode = Callable[[Message, str], Any]
_ENCODERS: dict[type, _Encode] = {}
_DECODERS: dict[type, _Decode] = {}


def _compile(cls: type, name: str, lines: list[str], env: dict[str, Any]) -> Any:
    env.update(
        _fill=_fill,
        _field_path=_field_path,
        _must_be_set=_must_be_set,
        _decode_items=_decode_items,
        _UTC=UTC,
        _cls=cls,
    )
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), env, namespace)
    function = namespace[name]
    function.__qualname__ = f"{name}_{cls.__name__}"
    return function


def _encoder(cls: type) -> _Encode:
    """``encode(msg, obj)``: fill ``msg`` from the dataclass ``obj`` of class ``cls``."""
    found = _ENCODERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        env: dict[str, Any] = {}
        lines = ["def encode(msg, obj):"]
        for i, f in enumerate(dataclasses.fields(cls)):
            lines += [f"    {line}" for line in _encode_lines(i, f.name, hints[f.name], env)]
        lines.append("    return None")
        found = _ENCODERS[cls] = _compile(cls, "encode", lines, env)
    return found


def _decoder(cls: type) -> _Decode:
    """``decode(msg, path)``: the dataclass ``cls`` read from ``msg``, the message at ``path``."""
    found = _DECODERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        env: dict[str, Any] = {}
        args = []
        for i, f in enumerate(dataclasses.fields(cls)):
            has_default = f.default is not dataclasses.MISSING
            expr = _decode_expr(i, f.name, hints[f.name], has_default, f.default, env)
            args.append(f"        {f.name}=({expr}),")
        lines = ["def decode(msg, path):", "    return _cls(", *args, "    )"]
        found = _DECODERS[cls] = _compile(cls, "decode", lines, env)
    return found


def _fill(msg: Message, obj: Any) -> None:
    _encoder(type(obj))(msg, obj)


def _decode(cls: Any, msg: Message, path: str) -> Any:
    return _decoder(cls)(msg, path)


def to_message(obj: Any, message_cls: type[M]) -> M:
    """A new ``message_cls`` filled from the dataclass ``obj``."""
    msg = message_cls()
    _fill(msg, obj)
    return msg


def fill_message(msg: Message, obj: Any) -> None:
    """Fill an existing message (e.g. a sub-message of a response) from ``obj``."""
    _fill(msg, obj)


def from_message(cls: type[T], msg: Message, path: str = "") -> T:
    """The dataclass ``cls`` read from ``msg``; ``path`` prefixes field names in errors.

    Fields of ``msg`` that ``cls`` does not have (such as a request's ``ticket_id``) are
    ignored, so a request message decodes straight into its command.
    """
    decoded: T = _decode(cls, msg, path)
    return decoded


def encode_ticket(state: TicketState) -> bytes:
    """The ``hotline.v1.Ticket`` bytes of a folded state: the one encoding of a ticket's view,
    made by the projection (``node.views.tickets``) or, for a backlog's registrations, ahead of
    it by the verifying worker (``sync.read_ahead``)."""
    return to_message(state, ticket_pb2.Ticket).SerializeToString(deterministic=True)


ProtoEnumValue = Any
"""A proto enum number. Typed loosely on purpose: mypy-protobuf gives every proto enum its own
``ValueType`` NewType, and this one helper serves them all."""


def enum_number(member: enum.Enum | None) -> ProtoEnumValue:
    """The proto number of an enum member (by the naming rule); None is 0, "not set"."""
    return 0 if member is None else _enum_numbers(type(member))[0][member]


def enum_member(enum_cls: type[E], number: int, path: str) -> E:
    """The member of ``enum_cls`` for a proto number; 0 or unknown is ``InvalidInput``."""
    member = _enum_numbers(enum_cls)[1].get(number)
    if member is None:
        raise InvalidInput(path, "must be set" if number == 0 else f"unknown value {number}")
    return typing.cast(E, member)
