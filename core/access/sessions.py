"""Session tokens: what a token claims, how it is written, and whether it still holds.

A successful sign-in opens a session on the node: a row the node keeps (so that sign-out and
the idle timeout work, and so that several processes of one hub on one database agree) and a
token the officer's tool sends with every call (``authorization: Bearer <token>``). The token
is the session's claims, signed by the node (Ed25519 with the node's event key, under its own
signing context, ``node.access.tokens``)::

    hs1.<claims, base64url>.<signature, base64url>

    claims = {"exp": 1767250800000, "iat": 1767222000000, "node": "620102-6f27e4",
              "officer": "620102-07", "sid": "3b0c…", "v": 1}     (JSON, keys sorted, no spaces)

A token holds when its signature verifies under this node's key, it names this node, the
session it names is open here for the officer it names, its lifetime has not run out and the
session has seen a call within the idle timeout. This module decides the last four from the
claims, the row and the time; it does no cryptography and reads no clock.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass

from core.access.policy import SignInPolicy
from core.access.principals import Principal, PrincipalKind
from core.access.reasons import TokenRefusal

TOKEN_PREFIX = "hs1"
"""First part of every token: the format's version, so a later format can be told apart."""
CLAIMS_VERSION = 1
MAX_TOKEN_LENGTH = 1024
"""A longer token is refused unread."""


class BadToken(Exception):
    """A token's text cannot be read (a ``TokenRefusal.MALFORMED``); internal to the check."""


@dataclass(frozen=True)
class SessionClaims:
    """What a token says: which session, of which officer, on which node, until when."""

    session_id: str
    node_id: str
    officer_id: str
    """The principal's id: an officer's roster id, an enterprise user's id, or ``consumer``."""
    issued_ms: int
    expires_ms: int
    kind: str = PrincipalKind.OFFICER.value
    """Whom the session stands for (``core.access.principals.PrincipalKind``); an officer's
    token leaves it out, so officers' tokens read as they always did."""
    scope: str = ""
    """The enterprise's credit code, or the consumer's ticket id ('' for an officer)."""

    def to_bytes(self) -> bytes:
        """The claims as signed: JSON with sorted keys and no spaces."""
        claims: dict[str, object] = {
            "v": CLAIMS_VERSION,
            "sid": self.session_id,
            "node": self.node_id,
            "officer": self.officer_id,
            "iat": self.issued_ms,
            "exp": self.expires_ms,
        }
        if self.kind != PrincipalKind.OFFICER.value:
            claims.update(kind=self.kind, scope=self.scope)
        return json.dumps(
            claims,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        ).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionClaims:
        """The claims read back; ``BadToken`` when they are not claims of this version."""
        try:
            raw = json.loads(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadToken(f"claims are not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("v") != CLAIMS_VERSION:
            raise BadToken("claims of an unknown version")
        try:
            claims = cls(
                session_id=raw["sid"],
                node_id=raw["node"],
                officer_id=raw["officer"],
                issued_ms=raw["iat"],
                expires_ms=raw["exp"],
                kind=raw.get("kind", PrincipalKind.OFFICER.value),
                scope=raw.get("scope", ""),
            )
        except KeyError as exc:
            raise BadToken(f"claims lack {exc}") from None
        kinds = {k.value for k in PrincipalKind}
        if not isinstance(claims.kind, str) or claims.kind not in kinds:
            raise BadToken("claims of an unknown kind")
        if not isinstance(claims.scope, str):
            raise BadToken("claims of an unknown kind")
        if (claims.kind == PrincipalKind.OFFICER.value) == bool(claims.scope):
            raise BadToken("claims whose scope does not fit their kind")
        texts = (claims.session_id, claims.node_id, claims.officer_id)
        times = (claims.issued_ms, claims.expires_ms)
        if not all(isinstance(t, str) and t for t in texts) or not all(
            type(t) is int for t in times
        ):
            raise BadToken("claims of the wrong types")
        return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadToken(f"not base64url: {exc}") from None


def token_text(claims: bytes, signature: bytes) -> str:
    """A token from its claims' bytes and the node's signature of them."""
    return f"{TOKEN_PREFIX}.{_b64(claims)}.{_b64(signature)}"


def token_parts(token: str) -> tuple[bytes, bytes]:
    """A token's claims bytes and signature; ``BadToken`` when it is not of this format."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadToken("too long")
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise BadToken(f"not an {TOKEN_PREFIX} token")
    return _unb64(parts[1]), _unb64(parts[2])


class SessionEnd(enum.Enum):
    """Why a session ended before its lifetime ran out (kept in its row)."""

    SIGNED_OUT = "signed-out"
    """The officer signed out."""
    IDLE = "idle"
    """A call came after the idle timeout; the session was closed then."""
    CREDENTIALS_CHANGED = "credentials-changed"
    """A security administrator set new credentials for the officer: every session of theirs
    ends, so a session opened with a stolen password does not outlive the reset."""
    ACCOUNT_ENDED = "account-ended"
    """The officer's account was revoked, or moved to another unit, by a record that reached
    this node (``core.officer_accounts``): they no longer sign in here."""


_ENDED_AS = {
    SessionEnd.IDLE.value: TokenRefusal.IDLE,
    SessionEnd.ACCOUNT_ENDED.value: TokenRefusal.ACCOUNT_ENDED,
}
"""The refusal a token of an ended session gets, by end reason (otherwise: signed out)."""


@dataclass(frozen=True)
class SessionRecord:
    """A session as the node keeps it."""

    session_id: str
    officer_id: str
    node_id: str
    issued_ms: int
    expires_ms: int
    last_seen_ms: int
    ended_ms: int = 0
    """When it ended early (sign-out, idle, new credentials); 0 while open."""
    end_reason: str = ""
    """A ``SessionEnd`` value once ended."""
    kind: str = PrincipalKind.OFFICER.value
    """Whom it stands for (``PrincipalKind``)."""
    scope: str = ""
    """The enterprise's credit code, the consumer's ticket id; '' for an officer."""

    @property
    def principal(self) -> Principal:
        """Whom the session stands for."""
        return Principal(PrincipalKind(self.kind), self.officer_id, self.scope)


def new_session(
    session_id: str,
    node_id: str,
    officer_id: str,
    now_ms: int,
    policy: SignInPolicy,
    *,
    kind: PrincipalKind = PrincipalKind.OFFICER,
    scope: str = "",
) -> tuple[SessionClaims, SessionRecord]:
    """The claims and row of a session opened at ``now_ms`` (of an officer unless ``kind``
    says otherwise)."""
    expires = now_ms + policy.lifetime_ms
    return (
        SessionClaims(session_id, node_id, officer_id, now_ms, expires, kind.value, scope),
        SessionRecord(
            session_id, officer_id, node_id, now_ms, expires, now_ms, kind=kind.value, scope=scope
        ),
    )


def refusal(
    claims: SessionClaims,
    record: SessionRecord | None,
    node_id: str,
    now_ms: int,
    policy: SignInPolicy,
) -> TokenRefusal | None:
    """Why a token whose signature verified does not hold now, or None when it does.

    Checked in this order, so the reason recorded is the first that applies: another node's,
    a session unknown here, signed out, past its lifetime, idle.
    """
    if claims.node_id != node_id:
        return TokenRefusal.OTHER_NODE
    if (
        record is None
        or record.officer_id != claims.officer_id
        or record.node_id != claims.node_id
        or record.expires_ms != claims.expires_ms
        or record.kind != claims.kind
        or record.scope != claims.scope
    ):
        return TokenRefusal.UNKNOWN_SESSION
    if record.ended_ms:
        return _ENDED_AS.get(record.end_reason, TokenRefusal.SIGNED_OUT)
    if now_ms >= record.expires_ms:
        return TokenRefusal.EXPIRED
    if now_ms - record.last_seen_ms >= policy.idle_ms:
        return TokenRefusal.IDLE
    return None


def needs_touch(record: SessionRecord, now_ms: int, policy: SignInPolicy) -> bool:
    """True when a call should write the session's last-seen time (see ``touch_ms``)."""
    return now_ms - record.last_seen_ms >= policy.touch_ms
