"""The access record (访问记录): who tried what, when, from where, and how it went; chained.

Every sign-in, sign-out, refused try, lockout, refused token and change of credentials is a
row appended to the node's access record, never updated or deleted. Each row carries the digest
of the row before it, so a row edited or removed in the middle breaks the chain from there on
(``first_break``); the node also signs each digest with its key (``node.access.record``), so
rewriting the chain from the edited row onward needs the node's key, not only the database.
``hotline audit`` checks both (``node.access.record_audit``), and the audit administrator reads
the record with ``hotline access-log`` (``core.access.reading``).

A row's digest (SHA-256)::

    digest = SHA-256("hotline.v1.access\\0" || previous digest || canonical row)
    canonical row = JSON array [seq, at_ms, officer_id, action, outcome, reason, peer,
                                session_id, detail], UTF-8, no spaces

The first row's previous digest is 32 zero bytes (``GENESIS``). Pure: the caller passes the
rows in and the time in them.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

ACCESS_CONTEXT = b"hotline.v1.access\x00"
"""Prefix of what a row's digest covers, and of what the node signs (the digest)."""
GENESIS = bytes(32)
"""The previous digest of the first row."""


class AccessAction(enum.Enum):
    """What was tried (访问类型)."""

    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    LOCKOUT = "lockout"
    """The account was locked by the try recorded just before."""
    CALL = "call"
    """A call refused at the door (bad token, officer mismatch, missing sign-in)."""
    SET_CREDENTIALS = "set-credentials"
    """A security administrator set an officer's password and TOTP secret."""
    INIT_ADMIN = "init-admin"
    """The node's first security administrator created on the node's machine."""
    READ_RECORD = "read-record"
    """The audit administrator read this record (查阅访问记录): a look is an access too."""
    ENTERPRISE_USER = "enterprise-user"
    """A security administrator added an enterprise user (or set their credentials anew)."""
    OFFICER_ACCOUNT = "officer-account"
    """An officer account record made here (pushed, revoked), or one from elsewhere that
    changed this node's roster (an officer added, moved away or revoked; sessions ended)."""
    ADMIN_ACT = "admin-act"
    """An administrator's act served at the client port (管理操作): an officer or a unit put
    on the roster, a sync round, trust published, a quarantine released."""
    PERSONAL_DATA = "personal-data"
    """A look at one personal field of a ticket's filer in full (查看个人信息): the ticket, the
    field, the purpose and the signed event that records it; never the value."""


class AccessOutcome(enum.Enum):
    """How it went (结果)."""

    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True)
class AccessEntry:
    """One row of the access record, without its chain fields."""

    seq: int
    """Position in the node's record, from 1."""
    at_ms: int
    """Real time of the try (Unix milliseconds)."""
    officer_id: str
    """Who: the officer named (claimed, for a refused try)."""
    action: AccessAction
    outcome: AccessOutcome
    reason: str = ""
    """Why it was refused (a ``core.access.reasons`` value), or ''."""
    peer: str = ""
    """From where: the caller's address as gRPC saw it, or ``local:<user>`` on the machine."""
    session_id: str = ""
    detail: str = ""
    """What else helps a reader: the method called, until when an account is locked."""

    def canonical(self) -> bytes:
        """The row's bytes under its digest."""
        return json.dumps(
            [
                self.seq,
                self.at_ms,
                self.officer_id,
                self.action.value,
                self.outcome.value,
                self.reason,
                self.peer,
                self.session_id,
                self.detail,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")


def digest_of(previous: bytes, entry: AccessEntry) -> bytes:
    """The digest of ``entry`` following a row whose digest is ``previous``."""
    return hashlib.sha256(ACCESS_CONTEXT + previous + entry.canonical()).digest()


@dataclass(frozen=True)
class ChainedEntry:
    """A row as stored: the entry, the digest it says came before, its own digest."""

    entry: AccessEntry
    previous: bytes
    digest: bytes


def first_break(rows: Iterable[ChainedEntry]) -> int | None:
    """The ``seq`` of the first row that does not follow from the rows before it, or None.

    ``rows`` in ``seq`` order from the first. A row breaks the chain when its number is not the
    next one, its previous digest is not the digest of the row before, or its own digest is not
    that of its content.
    """
    previous, expected = GENESIS, 1
    for row in rows:
        if (
            row.entry.seq != expected
            or row.previous != previous
            or row.digest != digest_of(previous, row.entry)
        ):
            return row.entry.seq
        previous, expected = row.digest, expected + 1
    return None
