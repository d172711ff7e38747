"""Which version of the replication protocol a node speaks, and refusing a peer of another.

Protocol 2 (issue 12) changed what a signed registration holds: a commitment to the filer's
personal data instead of the data (docs/protocol.md, "Personal data"). A node of protocol 1
would send registrations with the values in clear and could not read the seals that travel
beside them, so the two do not replicate with each other at all: the first call of a round
(``Hello``) carries each side's version, and either side refuses the other with a reason that
says what to do. A ``HelloRequest`` without the field is protocol 1 (its default, 0).
"""

from __future__ import annotations

from sync.errors import ReplicationError

PROTOCOL_VERSION = 2
"""The protocol this code speaks: 2, personal data sealed beside the signed log."""


class ProtocolMismatch(ReplicationError):
    """A peer speaks another version of the replication protocol; nothing was exchanged."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "FAILED_PRECONDITION")


def check_peer_protocol(version: int, peer: str) -> None:
    """Refuse a peer whose protocol version is not ``PROTOCOL_VERSION``."""
    if version == PROTOCOL_VERSION:
        return
    spoken = version or 1
    raise ProtocolMismatch(
        f"{peer} speaks replication protocol {spoken}, this node protocol {PROTOCOL_VERSION} "
        "(personal data sealed beside the signed log): upgrade the node of the older protocol "
        "before it replicates again"
    )
