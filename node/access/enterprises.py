"""The rows of enterprises and their users (企业账户) on the county node that enrolled them.

An enterprise is enrolled on a county's node by its first user, added by the county's security
administrator; its users' credentials are ``enterprise_users`` rows, read and written through
the same functions as officers' (``node.access.store``, book ``ENTERPRISE_USERS``). Neither
table is replicated: an enterprise user signs in to the node that enrolled the enterprise, as
an officer signs in to the node of their unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from node.storage.tables import enterprise_users, enterprises


@dataclass(frozen=True)
class EnterpriseUser:
    """An enterprise user as kept: who, of which enterprise."""

    credit_code: str
    user_id: str
    name: str
    enterprise_name: str


def enterprise_name(conn: Connection, credit_code: str) -> str | None:
    """The enrolled enterprise's name, or None when it is not enrolled here."""
    row = conn.execute(
        select(enterprises.c.name).where(enterprises.c.credit_code == credit_code)
    ).first()
    return None if row is None else str(row.name)


def enrol(
    conn: Connection, credit_code: str, name: str, unit_code: str, *, at_ms: int, by: str
) -> None:
    """Enrol an enterprise on this node."""
    conn.execute(
        insert(enterprises).values(
            credit_code=credit_code,
            name=name,
            unit_code=unit_code,
            enrolled_ms=at_ms,
            enrolled_by=by,
        )
    )


def user(conn: Connection, credit_code: str, user_id: str) -> EnterpriseUser | None:
    """An enterprise user with their enterprise's name, or None."""
    row = conn.execute(
        select(enterprise_users.c.name, enterprises.c.name.label("enterprise_name"))
        .join(enterprises, enterprises.c.credit_code == enterprise_users.c.credit_code)
        .where(enterprise_users.c.credit_code == credit_code, enterprise_users.c.user_id == user_id)
    ).first()
    if row is None:
        return None
    return EnterpriseUser(credit_code, user_id, row.name, row.enterprise_name)
