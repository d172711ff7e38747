"""What a sign-in answers and works on: accounts, signed-in callers, new credentials.

Shared by the sign-in desk (``node.access.desk``) and its part for the people outside the
bureau (``node.access.outsiders``); the desk re-exports them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from core.access import totp
from core.access.principals import Principal, PrincipalKind
from core.access.sessions import SessionRecord
from node.access import store
from node.access.enterprises import EnterpriseUser

REFUSED = (
    "sign-in refused: wrong officer id, password or code (or no credentials set for the "
    "officer on this node)"
)
"""What every refused sign-in says, whatever the reason: the record keeps which it was."""

ENTERPRISE_REFUSED = (
    "sign-in refused: wrong credit code, user id, password or code (or the enterprise is not "
    "enrolled on this node: sign in to the county that enrolled it)"
)
"""What every refused enterprise sign-in says."""

CONSUMER_REFUSED = (
    "sign-in refused: wrong ticket number or verification code (or the ticket was registered "
    "at another office: ask there)"
)
"""What every refused consumer sign-in says."""


@dataclass(frozen=True)
class Account:
    """An account that signs in with a password and a TOTP code: an officer's or an enterprise
    user's, with where its credentials are kept."""

    principal: Principal
    key: str | tuple[str, ...]
    """Its key in ``book``."""
    book: store.Book

    @property
    def refused(self) -> str:
        """What a refused try is told."""
        return REFUSED if self.book is store.OFFICERS else ENTERPRISE_REFUSED


@dataclass(frozen=True)
class SignedIn:
    """An officer proven by a valid session token on the call under way."""

    officer_id: str
    """The principal's id: an officer's roster id unless ``principal`` says otherwise."""
    session: SessionRecord
    enterprise_user: EnterpriseUser | None = None
    """Of an enterprise user's session, the user as the full check read them with the session
    row (their name is signed under their steps; it changes only with new credentials, which
    end the session); None for anyone else, or when the row is no longer held."""

    @property
    def principal(self) -> Principal:
        """Whom the session stands for: an officer, an enterprise user, a consumer."""
        return self.session.principal

    @property
    def is_officer(self) -> bool:
        """True when the session is an officer's (only then may it act as one)."""
        return self.session.kind == PrincipalKind.OFFICER.value


@dataclass(frozen=True)
class NewEnterpriseUser:
    """An enterprise user just added: the TOTP secret, shown once."""

    credit_code: str
    user_id: str
    enrolled: bool
    """True when the enterprise was enrolled on this node by this call."""
    totp_secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class SignInResult:
    """A successful sign-in: the token to send on every call, and its session."""

    token: str
    session: SessionRecord


@dataclass(frozen=True)
class NewCredentials:
    """Credentials just set: the TOTP secret, shown once, for the officer's authenticator app."""

    officer_id: str
    totp_secret: str
    """Base32, as an app takes it typed in."""
    otpauth_uri: str
    """The same as an ``otpauth://`` URI (what a QR code carries)."""


def issuer_of(unit_code: str) -> str:
    """The issuer an authenticator app shows beside the officer's id."""
    return f"12315-{unit_code}"


def make_secret(officer_id: str, unit_code: str) -> tuple[str, NewCredentials]:
    """A fresh TOTP secret (160 random bits): its stored text and what the officer is shown."""
    key = secrets.token_bytes(totp.SECRET_BYTES)
    text = totp.secret_text(key)
    return text, NewCredentials(
        officer_id, text, totp.otpauth_uri(key, officer_id, issuer_of(unit_code))
    )
