"""Who a session stands for: an officer, or one of the people outside the bureau.

Issue 11, item 5. Besides officers (on a node's roster, with roles), two kinds of people sign
in to a node, and neither is ever an officer:

- an **enterprise user** (企业用户): one of several people of an enterprise taking part in
  online dispute resolution (在线消费纠纷解决, ODR, issue 13), known by their own id inside the
  enterprise's unified social credit code (统一社会信用代码); they sign in with a password and a
  TOTP code under the officers' rules, to the county node that enrolled the enterprise;
- a **consumer** (消费者) reading their own ticket: the ticket number and the verification code
  issued when the ticket was registered; their session is for that one ticket.

The permission table (``core.access.permissions``) names these two as the roles
``enterprise`` and ``consumer``; they are not ``core.officers.Role`` members, so no officer can
hold them and no enterprise user or consumer can pass a row written for officers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.errors import InvalidInput
from core.identifiers import check_credit_code
from core.limits import check_text


class PrincipalKind(enum.Enum):
    """What kind of caller a session stands for (the ``kind`` of its token and row)."""

    OFFICER = "officer"
    ENTERPRISE = "enterprise"
    """企业用户: an enterprise user; the session's scope is the enterprise's credit code."""
    CONSUMER = "consumer"
    """消费者: a consumer; the session's scope is their one ticket."""


OUTSIDERS = frozenset({PrincipalKind.ENTERPRISE, PrincipalKind.CONSUMER})
"""The kinds that are not officers: what the permission table may open a row to besides roles."""

CONSUMER_PRINCIPAL = "consumer"
"""The principal id of every consumer session: a consumer is known by their ticket (the
session's scope), not by an id of their own."""


@dataclass(frozen=True)
class Principal:
    """Who a session stands for: its kind, its id and its scope."""

    kind: PrincipalKind
    principal_id: str
    """The officer id, the enterprise user's id, or ``consumer``."""
    scope: str = ""
    """'' for an officer; the enterprise's credit code; the consumer's ticket id."""

    @property
    def label(self) -> str:
        """How the access record names it (its ``officer_id`` column: who)."""
        match self.kind:
            case PrincipalKind.OFFICER:
                return self.principal_id
            case PrincipalKind.ENTERPRISE:
                return f"enterprise:{self.scope}:{self.principal_id}"
        return f"consumer:{self.scope}"


ACCOUNT_ID_LENGTH = 32
"""Most characters of an enterprise user's id."""

_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def check_account_id(value: str, field: str) -> str:
    """An enterprise user's id, trimmed: 1 to 32 letters, digits or ``-_.``; else
    ``InvalidInput`` naming ``field``."""
    value = value.strip()
    if not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > ACCOUNT_ID_LENGTH:
        raise InvalidInput(
            field, f"{len(value)} characters is more than the {ACCOUNT_ID_LENGTH} allowed"
        )
    if not set(value) <= _ID_CHARACTERS:
        raise InvalidInput(field, "may hold only letters, digits and -_.")
    return value


@dataclass(frozen=True)
class EnterpriseUserDraft:
    """An enterprise user as a security administrator asks to add them, checked."""

    credit_code: str
    """统一社会信用代码 (GB 32100-2015), upper case, check character verified."""
    enterprise_name: str
    """The enterprise's name ('' when it is already enrolled here: the stored one stays)."""
    user_id: str
    name: str


def check_enterprise_user(
    credit_code: str, enterprise_name: str, user_id: str, name: str
) -> EnterpriseUserDraft:
    """The request to add an enterprise user, checked field by field (``InvalidInput`` naming
    the first wrong one)."""
    return EnterpriseUserDraft(
        credit_code=check_credit_code(credit_code, "credit_code"),
        enterprise_name=check_text(
            enterprise_name, "enterprise_name", required=False, kind="respondent.name"
        ),
        user_id=check_account_id(user_id, "user_id"),
        name=check_text(name, "name", kind="officer.name"),
    )
