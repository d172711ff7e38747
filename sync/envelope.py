"""The signed, hash-chained envelope around every event: sealing it and opening it.

A pipeline of small stages, after the ``eventsourcing`` library's mapper: the domain event is
encoded to its protobuf message (``sync.codec``), wrapped in an ``EventEnvelope`` with its origin,
sequence, previous hash, clock and officer, serialized deterministically once, and signed. The
serialized bytes are then kept verbatim: replicas store and forward them, verification never
re-serializes, so no two implementations need to agree on protobuf encoding details. The
exact rules are in docs/protocol.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache

from google.protobuf.message import DecodeError, Message

from core.errors import HotlineError
from core.officers import OfficerRef
from core.ticket.events import EVENT_TYPES, DomainEvent, EventMeta, RecordedEvent
from proto.hotline.v1 import common_pb2, events_pb2
from sync.codec import from_message, to_message
from sync.identity import NodeIdentity
from sync.signatures import key_id_of, verify

SIGNING_CONTEXT = b"hotline.v1.event\x00"
"""Prefix of every signed message, so an event signature can never pass for another kind."""

GENESIS_HASH = bytes(32)
"""The ``prev_hash`` of an origin's first event."""

EVENT_MESSAGES: dict[type, type[Message]] = {
    cls: getattr(events_pb2, cls.__name__) for cls in EVENT_TYPES
}
EVENT_CLASSES: dict[str, type] = {
    EVENT_MESSAGES[cls].DESCRIPTOR.full_name: cls for cls in EVENT_TYPES
}


class EnvelopeError(HotlineError):
    """Bytes that do not parse as an envelope, or name an unknown event type."""


def event_type_name(event: DomainEvent) -> str:
    """The wire name of an event's type, e.g. ``hotline.v1.TicketRouted``."""
    return EVENT_MESSAGES[type(event)].DESCRIPTOR.full_name


def encode_payload(event: DomainEvent) -> bytes:
    """The deterministic protobuf bytes of a domain event."""
    return to_message(event, EVENT_MESSAGES[type(event)]).SerializeToString(deterministic=True)


def decode_payload(event_type: str, payload: bytes) -> DomainEvent:
    """The domain event held in ``payload``."""
    cls = EVENT_CLASSES.get(event_type)
    if cls is None:
        raise EnvelopeError(f"unknown event type {event_type!r}")
    msg = EVENT_MESSAGES[cls]()
    try:
        msg.ParseFromString(payload)
    except DecodeError as exc:
        raise EnvelopeError(f"payload of {event_type} does not parse: {exc}") from exc
    event: DomainEvent = from_message(cls, msg)
    return event


def envelope_hash(envelope: bytes) -> bytes:
    """SHA-256 of the envelope bytes: what the next event of the origin links to."""
    return hashlib.sha256(envelope).digest()


@dataclass(frozen=True)
class SealedEvent:
    """An event as the log holds it: the signed bytes and what was read out of them."""

    envelope: bytes
    signature: bytes
    event_id: str
    origin_node: str
    origin_unit: str
    origin_seq: int
    prev_hash: bytes
    ticket_id: str
    event_type: str
    payload: bytes
    hlc: int
    officer: OfficerRef
    ticket_version: int
    signer_key_id: str

    @cached_property
    def hash(self) -> bytes:
        """SHA-256 of the envelope bytes."""
        return envelope_hash(self.envelope)

    def signature_valid(self, public_key: bytes) -> bool:
        """True when the signature verifies under ``public_key``."""
        return verify(public_key, self.signature, SIGNING_CONTEXT + self.envelope)

    def meta(self) -> EventMeta:
        """The envelope facts the fold needs."""
        return EventMeta(
            self.event_id,
            self.ticket_id,
            self.origin_node,
            self.origin_seq,
            self.hlc,
            self.officer,
            self.ticket_version,
        )

    def recorded(self) -> RecordedEvent:
        """The domain event with its meta, ready for the fold."""
        return RecordedEvent(self.meta(), decode_payload(self.event_type, self.payload))

    def to_proto(self) -> events_pb2.SignedEvent:
        """The wire form: envelope bytes and signature."""
        return events_pb2.SignedEvent(envelope=self.envelope, signature=self.signature)


@lru_cache(maxsize=64)
def _key_id(public_key: bytes) -> str:
    """``key_id_of``, remembered: a node signs every event with the same few keys."""
    return key_id_of(public_key)


_OFFICERS: dict[tuple[str, str, str, int], OfficerRef] = {}


def _officer_of(msg: common_pb2.OfficerRef) -> OfficerRef:
    """The officer of an envelope being opened: ``from_message``, remembered by its fields.

    An office has few officers and a node reads each one's events by the thousand; an
    ``OfficerRef`` is immutable, so one instance serves all of them. A message that does not
    decode is never remembered (it raises as before).
    """
    key = (msg.officer_id, msg.name, msg.unit_code, msg.unit_level)
    found = _OFFICERS.get(key)
    if found is None:
        found = from_message(OfficerRef, msg)
        if len(_OFFICERS) >= 4096:
            _OFFICERS.clear()
        _OFFICERS[key] = found
    return found


@lru_cache(maxsize=4096)
def _officer_message(officer: OfficerRef) -> tuple[common_pb2.OfficerRef, OfficerRef]:
    """The officer as a message, and as read back from it (what ``open_sealed`` would give);
    an office has few officers, each signs many events."""
    msg = to_message(officer, common_pb2.OfficerRef)
    return msg, from_message(OfficerRef, msg)


def seal(
    identity: NodeIdentity,
    *,
    event_id: str,
    seq: int,
    prev_hash: bytes,
    ticket_id: str,
    event: DomainEvent,
    hlc: int,
    officer: OfficerRef,
    ticket_version: int,
) -> SealedEvent:
    """Encode, chain and sign one new event of this node."""
    officer_msg, officer_read = _officer_message(officer)
    envelope = events_pb2.EventEnvelope(
        event_id=event_id,
        origin_node=identity.node_id,
        origin_unit=identity.unit_code,
        origin_seq=seq,
        prev_hash=prev_hash,
        ticket_id=ticket_id,
        event_type=event_type_name(event),
        payload=encode_payload(event),
        hlc=hlc,
        officer=officer_msg,
        ticket_version=ticket_version,
        signer_key_id=_key_id(identity.public.public_key),
    )
    raw = envelope.SerializeToString(deterministic=True)
    # Read out of the message just built, as ``open_sealed`` would, without parsing the
    # officer again (``_officer_message`` has it as read back).
    return SealedEvent(
        envelope=raw,
        signature=identity.sign(SIGNING_CONTEXT + raw),
        event_id=envelope.event_id,
        origin_node=envelope.origin_node,
        origin_unit=envelope.origin_unit,
        origin_seq=envelope.origin_seq,
        prev_hash=envelope.prev_hash,
        ticket_id=envelope.ticket_id,
        event_type=envelope.event_type,
        payload=envelope.payload,
        hlc=envelope.hlc,
        officer=officer_read,
        ticket_version=envelope.ticket_version,
        signer_key_id=envelope.signer_key_id,
    )


def open_sealed(envelope: bytes, signature: bytes) -> SealedEvent:
    """Read a signed event received or loaded as bytes (the signature is not checked here)."""
    msg = events_pb2.EventEnvelope()
    try:
        msg.ParseFromString(envelope)
    except DecodeError as exc:
        raise EnvelopeError(f"envelope does not parse: {exc}") from exc
    if msg.event_type not in EVENT_CLASSES:
        raise EnvelopeError(f"unknown event type {msg.event_type!r}")
    return _sealed(envelope, signature, msg)


def _sealed(raw: bytes, signature: bytes, msg: events_pb2.EventEnvelope) -> SealedEvent:
    return SealedEvent(
        envelope=raw,
        signature=signature,
        event_id=msg.event_id,
        origin_node=msg.origin_node,
        origin_unit=msg.origin_unit,
        origin_seq=msg.origin_seq,
        prev_hash=msg.prev_hash,
        ticket_id=msg.ticket_id,
        event_type=msg.event_type,
        payload=msg.payload,
        hlc=msg.hlc,
        officer=_officer_of(msg.officer),
        ticket_version=msg.ticket_version,
        signer_key_id=msg.signer_key_id,
    )
