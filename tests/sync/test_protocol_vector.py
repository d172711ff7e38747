"""The test vector in docs/protocol.md is what the code produces, byte for byte."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.officers import OfficerRef
from core.ticket.events import TicketRouted
from core.ticket.vocabulary import JurisdictionBasis
from core.units import UnitLevel
from sync.envelope import GENESIS_HASH, seal
from sync.identity import NodeIdentity

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_the_documented_test_vector_is_reproduced() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    identity = NodeIdentity("620000-0a0b0c", "620000", UnitLevel.PROVINCE, key)
    event = seal(
        identity,
        event_id="00112233445566778899aabbccddeeff",
        seq=1,
        prev_hash=GENESIS_HASH,
        ticket_id="620000-0a0b0c-000001",
        event=TicketRouted("620102", JurisdictionBasis.OPERATING_ADDRESS, ""),
        hlc=1795392000000 << 16,
        officer=OfficerRef("620000-01", "王芳", "620000", UnitLevel.PROVINCE),
        ticket_version=1,
    )
    page = PROTOCOL.read_text(encoding="utf-8")
    for name, value in [
        ("public key", identity.public.public_key.hex()),
        ("key id", identity.key_id),
        ("payload", event.payload.hex()),
        ("envelope", event.envelope.hex()),
        ("signature", event.signature.hex()),
        ("hash", event.hash.hex()),
    ]:
        assert f"{name.ljust(12)} {value}" in page, name
