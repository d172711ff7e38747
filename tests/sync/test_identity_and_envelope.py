"""A node's key stays private and stable; every event is sealed so that any change is detected."""

from __future__ import annotations

import dataclasses
import enum
import os
import stat
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from core.officers import OfficerRef
from core.ticket.events import EVENT_TYPES, ComplaintAccepted, DomainEvent
from core.units import UnitLevel
from proto.hotline.v1 import common_pb2, events_pb2, ticket_pb2
from sync.envelope import (
    GENESIS_HASH,
    SIGNING_CONTEXT,
    decode_payload,
    encode_payload,
    event_type_name,
    open_sealed,
    seal,
)
from sync.identity import IdentityError, NodeIdentity
from sync.signatures import verify

OFFICER = OfficerRef("620102-07", "李强", "620102", UnitLevel.COUNTY)


def test_the_key_is_created_once_with_mode_0600_and_reloaded(tmp_path: Path) -> None:
    first = NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    mode = stat.S_IMODE((tmp_path / "node.key").stat().st_mode)
    again = NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    assert mode == 0o600
    assert (again.node_id, again.key_id) == (first.node_id, first.key_id)
    assert again.node_id.startswith("620102-")


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    os.chmod(tmp_path / "node.key", 0o644)
    with pytest.raises(IdentityError, match="chmod 600"):
        NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)


def test_a_data_folder_of_another_unit_is_refused(tmp_path: Path) -> None:
    NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    with pytest.raises(IdentityError, match="belongs to unit 620102"):
        NodeIdentity.load_or_create(tmp_path, "620103", UnitLevel.COUNTY)


def test_a_sealed_event_verifies_and_any_changed_byte_does_not() -> None:
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    event = seal(
        identity,
        event_id="ab" * 16,
        seq=1,
        prev_hash=GENESIS_HASH,
        ticket_id="T1",
        event=ComplaintAccepted("受理"),
        hlc=123 << 16,
        officer=OFFICER,
        ticket_version=1,
    )
    key = identity.public.public_key
    assert open_sealed(event.envelope, event.signature).signature_valid(key)
    for i in range(len(event.envelope)):
        tampered = bytearray(event.envelope)
        tampered[i] ^= 0x01
        try:
            reopened = open_sealed(bytes(tampered), event.signature)
        except Exception:  # no longer parses: caught all the same
            continue
        assert not reopened.signature_valid(key)


@settings(max_examples=50, deadline=None)
@given(message=st.binary(max_size=2048))
def test_libsodium_signs_exactly_what_openssl_signs_with_the_node_key(message: bytes) -> None:
    """Ed25519 is deterministic: the node's libsodium signature is byte for byte the one
    ``cryptography`` makes with the same key file, and it verifies under the public key."""
    identity = _SIGNING_IDENTITY
    signature = identity.sign(message)
    assert signature == identity.event_key.sign(message)
    assert verify(identity.public.public_key, signature, message)
    assert not verify(identity.public.public_key, signature, message + b"\x00")


_SIGNING_IDENTITY = NodeIdentity.generate("620000", UnitLevel.PROVINCE)


def test_the_signature_covers_a_context_so_it_cannot_be_reused_elsewhere() -> None:
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    event = seal(
        identity,
        event_id="cd" * 16,
        seq=1,
        prev_hash=GENESIS_HASH,
        ticket_id="T1",
        event=ComplaintAccepted(),
        hlc=1,
        officer=OFFICER,
        ticket_version=0,
    )
    assert verify(identity.public.public_key, event.signature, SIGNING_CONTEXT + event.envelope)
    assert not verify(identity.public.public_key, event.signature, event.envelope)


def test_the_envelope_names_its_chain_and_payload_type() -> None:
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    first = seal(
        identity,
        event_id="01" * 16,
        seq=1,
        prev_hash=GENESIS_HASH,
        ticket_id="T1",
        event=ComplaintAccepted(),
        hlc=1,
        officer=OFFICER,
        ticket_version=0,
    )
    second = seal(
        identity,
        event_id="02" * 16,
        seq=2,
        prev_hash=first.hash,
        ticket_id="T1",
        event=ComplaintAccepted(),
        hlc=2,
        officer=OFFICER,
        ticket_version=1,
    )
    parsed = events_pb2.EventEnvelope.FromString(second.envelope)
    assert (parsed.origin_node, parsed.origin_seq) == (identity.node_id, 2)
    assert parsed.prev_hash == first.hash
    assert parsed.event_type == "hotline.v1.ComplaintAccepted"
    assert parsed.signer_key_id == identity.key_id


_INT_RANGES = {
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT32: (0, 2**31 - 1),
}
"""Ranges of the narrower proto integer types; every other integer field takes up to 2**62."""


def _int_range(cls: Any, field: str) -> tuple[int, int]:
    """The values an integer field of ``cls`` can carry, read off the proto message it mirrors."""
    for module in (events_pb2, common_pb2, ticket_pb2):
        descriptor = module.DESCRIPTOR.message_types_by_name.get(cls.__name__)
        if descriptor is not None and field in descriptor.fields_by_name:
            return _INT_RANGES.get(descriptor.fields_by_name[field].type, (0, 2**62))
    return (0, 2**62)


def strategy_for(hint: Any, int_range: tuple[int, int] = (0, 2**62)) -> st.SearchStrategy[Any]:
    """Values of a core field type, as the codec must carry them (recursively for dataclasses)."""
    args = typing.get_args(hint)
    if type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return st.none() | strategy_for(inner)
    if typing.get_origin(hint) is tuple:
        return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if hint is datetime:
        return st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        )
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        fields = {
            f.name: strategy_for(hints[f.name], _int_range(hint, f.name))
            for f in dataclasses.fields(hint)
        }
        return st.builds(hint, **fields)
    if hint is int:
        return st.integers(*int_range)
    if hint is bool:
        return st.booleans()
    if hint is bytes:
        return st.binary(max_size=32)
    return st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(EVENT_TYPES).flatmap(strategy_for))
def test_every_event_type_survives_encoding_unchanged(event: DomainEvent) -> None:
    payload = encode_payload(event)
    assert decode_payload(event_type_name(event), payload) == event
    assert encode_payload(decode_payload(event_type_name(event), payload)) == payload
