"""Why access was refused: the closed lists the access record and the edge's messages use.

Each value is what the access record's ``reason`` column holds, so ``hotline access-log`` can
filter on it; each refusal also has the sentence an officer reads.
"""

from __future__ import annotations

import enum


class SignInRefusal(enum.Enum):
    """Why a sign-in was refused. The caller is told only "wrong officer, password or code",
    or that the account is locked; the record keeps which."""

    UNKNOWN_OFFICER = "unknown-officer"
    """No such officer on this node's roster."""
    NO_CREDENTIALS = "no-credentials"
    """On the roster, but no password and code set yet (hotline officers set-credentials)."""
    WRONG_PASSWORD = "wrong-password"
    WRONG_CODE = "wrong-code"
    """The password was right, the TOTP code not (nor within one step of now)."""
    SPENT_CODE = "spent-code"
    """A code of a step already used to sign in (RFC 6238 §5.2): a replay, or a second sign-in
    within the same thirty seconds."""
    LOCKED = "locked"
    """The account is locked after too many wrong tries; nothing was checked."""
    UNKNOWN_ACCOUNT = "unknown-account"
    """No such enterprise user (of that enterprise) on this node, or no consumer code for that
    ticket here (registered elsewhere, or before codes were issued)."""
    RATE_LIMITED = "rate-limited"
    """Too many tries from the caller's address or on the account: refused before anything was
    checked. One row per burst, with its count (``core.access.throttle``)."""


class TokenRefusal(enum.Enum):
    """Why a token does not let its bearer act (each recorded in the access record)."""

    MALFORMED = "malformed-token"
    """Not a token of this format at all."""
    FORGED = "forged-token"
    """Its signature does not verify under this node's key (forged, altered, or signed by a
    key this node no longer has)."""
    OTHER_NODE = "other-node"
    """Signed for another node: an officer signs in to each node they use."""
    UNKNOWN_SESSION = "unknown-session"
    """Names a session this node never opened (or one opened for another officer)."""
    EXPIRED = "expired"
    """Its absolute lifetime has run out."""
    IDLE = "idle"
    """No call for longer than the idle timeout."""
    SIGNED_OUT = "signed-out"
    """The officer signed out (or their credentials were changed)."""
    ACCOUNT_ENDED = "account-ended"
    """The officer's account was revoked, or moved to another unit, since the sign-in."""

    @property
    def advice(self) -> str:
        """What the officer reads: what happened and what to do."""
        return {
            TokenRefusal.MALFORMED: "the session token is not one this node issues",
            TokenRefusal.FORGED: "the session token does not verify under this node's key",
            TokenRefusal.OTHER_NODE: "the session token was issued by another node",
            TokenRefusal.UNKNOWN_SESSION: "the session token names no session of this node",
            TokenRefusal.EXPIRED: "the session has reached its lifetime",
            TokenRefusal.IDLE: "the session ended after a time without calls",
            TokenRefusal.SIGNED_OUT: "the session was signed out",
            TokenRefusal.ACCOUNT_ENDED: "the officer's account was revoked or moved to another "
            "unit (人员账户已注销或调出)",
        }[self] + "; sign in again (hotline login)"


class CallRefusal(enum.Enum):
    """Why a call with a good token (or none) was refused at the door."""

    NO_TOKEN = "no-token"
    """The call needs a signed-in officer and sent no token."""
    OFFICER_MISMATCH = "officer-mismatch"
    """The token was one officer's and the call's officer metadata named another (given while
    the ``x-hotline-officer`` metadata still named officers; kept so that older rows read)."""
    UNKNOWN_OFFICER = "unknown-officer"
    """The officer a valid token names is no longer on this node's roster."""
    NO_RULE = "no-rule"
    """The table of who may call what (``core.access.permissions``) has no row for the
    method: refused whoever calls (deny by default)."""
    MISSING_ROLE = "missing-role"
    """The officer holds none of the roles the method needs."""
    OUTSIDE_JURISDICTION = "outside-jurisdiction"
    """The ticket or unit the call is about lies outside the officer's unit's jurisdiction."""
    NOT_SECURITY_ADMIN = "not-security-admin"
    """Only a security administrator (安全管理员) sets officers' credentials."""
    PERSONAL_DATA_WITHHELD = "personal-data-withheld"
    """A look at a filer's personal data in full that the rules of who sees what refuse
    (``core.personal.access``), such as a report's filer asked for by anyone but the head of
    the holding unit (举报人信息保密)."""
