"""Why a received event is refused, and what an administrator is alerted of: closed lists.

Receipt (``sync.ingest``) refuses an event, or keeps it only as evidence, for one of a fixed
set of reasons; each is a ``Refusal`` with the phrase a human reads, and the kind of alert it
raises (if any) follows from it, so nothing downstream has to match words in a message. A
``Refused`` is one such reason with the specifics of the case (which origin, which sequence,
what the trust store said); its text, ``"<phrase>: <detail>"``, is what ``sync_problems.reason``,
an evidence row's ``verdict``, the sender's rejection and the alert's detail show.

``AlertKind``'s values are the strings stored in ``alerts.kind`` and printed by
``hotline alerts``; they must not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    """What an alert for an administrator is about (the stored ``alerts.kind``)."""

    REFUSED_EVENT = "refused-event"
    """A received event was refused or kept only as evidence."""
    TAMPERED_EVENT = "tampered-event"
    """A received event's signature or chain link was broken: bytes were changed on the way."""
    FORK = "fork"
    """An origin signed two different events at one place of its chain; it is quarantined."""
    REVOKED_SIGNER = "revoked-signer"
    """A signer's certificate was revoked: its later events no longer count."""
    RULE_BOOK_REFUSED = "rule-book-refused"
    """A rule book from the province could not be trusted and was not taken."""
    RELEASED = "released"
    """An administrator let a quarantined origin in again."""
    ACCESS_RECORD = "access-record"
    """A child's access record went back below, or changed at, the head it sent before (rows
    cut or rewritten), or its head came with a signature that does not verify."""
    OFFICER_ACCOUNT_REFUSED = "account-refused"
    """An officer account record from a peer could not be trusted and was not taken."""
    ODR_ROSTER_REFUSED = "roster-refused"
    """An ODR roster record from a peer could not be trusted and was not taken."""


class Refusal(StrEnum):
    """Why a received event is refused or kept only as evidence (values are stable codes)."""

    OUTSIDE_SUBTREE = "outside-subtree"
    FROM_RECEIVER = "from-receiver"
    QUARANTINED = "quarantined"
    WAITS_FOR_EARLIER = "waits-for-earlier"
    UNPARSEABLE = "unparseable"
    BAD_SIGNATURE = "bad-signature"
    NO_CERTIFICATE = "no-certificate"
    FORK = "fork"
    GAP = "gap"
    CHAIN_BROKEN = "chain-broken"
    SIGNER_NOT_TRUSTED = "signer-not-trusted"
    OFFICER_OF_ANOTHER_UNIT = "officer-of-another-unit"
    UNIT_DOES_NOT_DISPATCH = "unit-does-not-dispatch"
    UNIT_NOT_INVOLVED = "unit-not-involved"
    PERSONAL_DATA_IN_CLEAR = "personal-data-in-clear"

    @property
    def text(self) -> str:
        """The phrase a human reads."""
        return _TEXT[self]

    @property
    def alert(self) -> AlertKind | None:
        """The alert this refusal raises; None when it is only recorded and counted."""
        return _ALERT[self]


_TEXT: dict[Refusal, str] = {
    Refusal.OUTSIDE_SUBTREE: "origin outside the sender's subtree",
    Refusal.FROM_RECEIVER: "claims to come from the receiving node itself",
    Refusal.QUARANTINED: "origin quarantined",
    Refusal.WAITS_FOR_EARLIER: "waits for an earlier event of its chain",
    Refusal.UNPARSEABLE: "envelope does not parse",
    Refusal.BAD_SIGNATURE: "signature does not verify",
    Refusal.NO_CERTIFICATE: "no certificate known for the signer",
    Refusal.FORK: "fork",
    Refusal.GAP: "gap",
    Refusal.CHAIN_BROKEN: "chain broken",
    Refusal.SIGNER_NOT_TRUSTED: "signer not trusted",
    Refusal.OFFICER_OF_ANOTHER_UNIT: "officer of another unit",
    Refusal.UNIT_DOES_NOT_DISPATCH: "unit does not dispatch tickets",
    Refusal.UNIT_NOT_INVOLVED: "unit has no part in the ticket",
    Refusal.PERSONAL_DATA_IN_CLEAR: (
        "a registration with personal data in clear (protocol 1), not stored: it would put the "
        "data on this node's disk"
    ),
}

_ALERT: dict[Refusal, AlertKind | None] = {
    Refusal.OUTSIDE_SUBTREE: AlertKind.REFUSED_EVENT,
    Refusal.FROM_RECEIVER: AlertKind.REFUSED_EVENT,
    # Held back on purpose (a fork already alerted) or waiting its turn: not news.
    Refusal.QUARANTINED: None,
    Refusal.WAITS_FOR_EARLIER: None,
    Refusal.UNPARSEABLE: None,  # answered to the sender; never reaches the writer
    Refusal.BAD_SIGNATURE: AlertKind.TAMPERED_EVENT,
    Refusal.NO_CERTIFICATE: AlertKind.REFUSED_EVENT,
    Refusal.FORK: AlertKind.FORK,
    Refusal.GAP: None,  # the missing events come in a later batch
    Refusal.CHAIN_BROKEN: AlertKind.TAMPERED_EVENT,
    Refusal.SIGNER_NOT_TRUSTED: AlertKind.REFUSED_EVENT,
    Refusal.OFFICER_OF_ANOTHER_UNIT: AlertKind.REFUSED_EVENT,
    Refusal.UNIT_DOES_NOT_DISPATCH: AlertKind.REFUSED_EVENT,
    Refusal.UNIT_NOT_INVOLVED: AlertKind.REFUSED_EVENT,
    Refusal.PERSONAL_DATA_IN_CLEAR: AlertKind.REFUSED_EVENT,
}


@dataclass(frozen=True)
class Refused:
    """One refusal: its reason, and the specifics of this case for the human reading it."""

    reason: Refusal
    detail: str = ""

    @property
    def alert(self) -> AlertKind | None:
        """The alert this refusal raises, if any (it follows from the reason alone)."""
        return self.reason.alert

    def __str__(self) -> str:
        return f"{self.reason.text}: {self.detail}" if self.detail else self.reason.text
