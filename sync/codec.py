"""Translation between the core's dataclasses and the ``hotline.v1`` protobuf messages.

The core speaks plain dataclasses and enums; the wire and the signed log speak protobuf. The
contracts were written so that one rule translates every pair (proto/hotline/v1/common.proto):
same field names; enum values named ``<ENUM_NAME>_<MEMBER>``; value 0 means "not set";
``datetime`` travels as ``google.protobuf.Timestamp``; ``tuple[X, ...]`` as ``repeated``; an
optional dataclass as a message field that may be absent. A plan per dataclass is worked out
once from its type hints and cached, so the hot path is a loop over prepared steps.

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
from google.protobuf.timestamp_pb2 import Timestamp

from core.errors import InvalidInput
from proto.hotline.v1 import common_pb2, ticket_pb2

T = TypeVar("T")
M = TypeVar("M", bound=Message)
E = TypeVar("E", bound=enum.Enum)

_Encoder = Callable[[Message, str, Any], None]
_Decoder = Callable[[Message, str, str], Any]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@cache
def _enum_numbers(enum_cls: type[enum.Enum]) -> tuple[dict[enum.Enum, int], dict[int, enum.Enum]]:
    """Member -> proto number and back, found by the naming rule on first use."""
    prefix = _snake(enum_cls.__name__)
    for module in (common_pb2, ticket_pb2):
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


def _field_steps(hint: Any, has_default: bool, default: Any) -> tuple[_Encoder, _Decoder]:
    """Encoder and decoder for one field of a given type hint."""
    inner, optional = _unwrap_optional(hint)
    if typing.get_origin(inner) is tuple:
        item = typing.get_args(inner)[0]
        if dataclasses.is_dataclass(item):

            def enc_items(msg: Message, name: str, value: Any) -> None:
                repeated = getattr(msg, name)
                for element in value:
                    _fill(repeated.add(), element)

            def dec_items(msg: Message, name: str, path: str) -> Any:
                return tuple(
                    _decode(typing.cast(type, item), m, f"{path}[{i}]")
                    for i, m in enumerate(getattr(msg, name))
                )

            return enc_items, dec_items

        def enc_scalars(msg: Message, name: str, value: Any) -> None:
            getattr(msg, name).extend(value)

        return enc_scalars, lambda msg, name, path: tuple(getattr(msg, name))
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        to_number, to_member = _enum_numbers(inner)

        def enc_enum(msg: Message, name: str, value: Any) -> None:
            if value is not None:
                setattr(msg, name, to_number[value])

        def dec_enum(msg: Message, name: str, path: str) -> Any:
            number = getattr(msg, name)
            if number == 0:
                if optional:
                    return None
                if has_default:
                    return default
                raise InvalidInput(path, "must be set")
            try:
                return to_member[number]
            except KeyError:
                raise InvalidInput(path, f"unknown value {number}") from None

        return enc_enum, dec_enum
    if inner is datetime:

        def enc_time(msg: Message, name: str, value: Any) -> None:
            if value is not None:
                getattr(msg, name).FromDatetime(value)

        def dec_time(msg: Message, name: str, path: str) -> Any:
            if not msg.HasField(name):
                if optional:
                    return None
                raise InvalidInput(path, "must be set")
            stamp: Timestamp = getattr(msg, name)
            return stamp.ToDatetime(tzinfo=UTC)

        return enc_time, dec_time
    if dataclasses.is_dataclass(inner):
        cls: type = typing.cast(type, inner)

        def enc_message(msg: Message, name: str, value: Any) -> None:
            if value is not None:
                _fill(getattr(msg, name), value)

        def dec_message(msg: Message, name: str, path: str) -> Any:
            if not msg.HasField(name):
                if optional:
                    return None
                if has_default:
                    return default
            return _decode(cls, getattr(msg, name), path)

        return enc_message, dec_message

    def enc_plain(msg: Message, name: str, value: Any) -> None:
        setattr(msg, name, value)

    return enc_plain, lambda msg, name, path: getattr(msg, name)


@cache
def _plan(cls: Any) -> tuple[tuple[str, _Encoder, _Decoder], ...]:
    hints = typing.get_type_hints(cls)
    steps = []
    for f in dataclasses.fields(cls):
        has_default = f.default is not dataclasses.MISSING
        enc, dec = _field_steps(hints[f.name], has_default, f.default)
        steps.append((f.name, enc, dec))
    return tuple(steps)


def _fill(msg: Message, obj: Any) -> None:
    plan: tuple[tuple[str, _Encoder, _Decoder], ...] = _plan(typing.cast(Any, type(obj)))
    for name, enc, _ in plan:
        enc(msg, name, getattr(obj, name))


def _decode(cls: Any, msg: Message, path: str) -> Any:
    prefix = f"{path}." if path else ""
    return cls(**{name: dec(msg, name, prefix + name) for name, _, dec in _plan(cls)})


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
