"""Applications to join the ODR channel as a county's node keeps them (``odr_applications``).

Applications stay on the county that registered them (they carry contacts and are the county's
own file); what the review decides travels as a signed roster record (``node.enrolment.roster``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, insert, select, update

from core.odr.enrolment import ApplicationDraft, ApplicationStatus
from core.odr.roster import ApplicantKind
from node.storage.tables import odr_applications


@dataclass(frozen=True)
class Application:
    """An application as kept: the checked draft, where it stands, who did what when."""

    application_id: str
    draft: ApplicationDraft
    unit_code: str
    status: ApplicationStatus
    reason: str
    submitted_ms: int
    submitted_by: str
    reviewed_ms: int = 0
    reviewed_by: str = ""


def insert_application(conn: Connection, application: Application) -> None:
    """Keep a new application in the caller's transaction."""
    draft = application.draft
    details = {k: v for k, v in asdict(draft).items() if k not in _COLUMNS}
    conn.execute(
        insert(odr_applications).values(
            application_id=application.application_id,
            request_id=draft.request_id,
            credit_code=draft.credit_code,
            name=draft.name,
            kind=draft.kind.value,
            unit_code=application.unit_code,
            status=application.status.value,
            reason=application.reason,
            details=json.dumps(details, ensure_ascii=False, sort_keys=True),
            submitted_ms=application.submitted_ms,
            submitted_by=application.submitted_by,
            reviewed_ms=0,
            reviewed_by="",
        )
    )


def mark_reviewed(
    conn: Connection,
    application_id: str,
    status: ApplicationStatus,
    reason: str,
    *,
    at_ms: int,
    by: str,
) -> bool:
    """Record the review of a pending application; False when it was no longer pending."""
    done = conn.execute(
        update(odr_applications)
        .where(
            odr_applications.c.application_id == application_id,
            odr_applications.c.status == ApplicationStatus.PENDING.value,
        )
        .values(status=status.value, reason=reason, reviewed_ms=at_ms, reviewed_by=by)
    )
    return bool(done.rowcount)


def application(conn: Connection, application_id: str) -> Application | None:
    """The application of that id, or None."""
    row = conn.execute(
        select(odr_applications).where(odr_applications.c.application_id == application_id)
    ).first()
    return None if row is None else _read(row)


def by_request(conn: Connection, request_id: str) -> Application | None:
    """The application a request id registered, or None (a retry finds its first answer)."""
    row = conn.execute(
        select(odr_applications).where(odr_applications.c.request_id == request_id)
    ).first()
    return None if row is None else _read(row)


def applications(
    conn: Connection, unit_code: str, status: ApplicationStatus | None
) -> list[Application]:
    """The applications of a unit, newest first, of one status or all."""
    query = select(odr_applications).where(odr_applications.c.unit_code == unit_code)
    if status is not None:
        query = query.where(odr_applications.c.status == status.value)
    rows = conn.execute(
        query.order_by(
            odr_applications.c.submitted_ms.desc(), odr_applications.c.application_id.desc()
        )
    )
    return [_read(r) for r in rows]


_COLUMNS = frozenset({"request_id", "credit_code", "name", "kind"})


def _read(row: object) -> Application:
    r = row._mapping  # type: ignore[attr-defined]
    details = json.loads(r["details"])
    draft = ApplicationDraft(
        request_id=r["request_id"],
        credit_code=r["credit_code"],
        name=r["name"],
        kind=ApplicantKind(r["kind"]),
        **details,
    )
    return Application(
        application_id=r["application_id"],
        draft=draft,
        unit_code=r["unit_code"],
        status=ApplicationStatus(r["status"]),
        reason=r["reason"],
        submitted_ms=r["submitted_ms"],
        submitted_by=r["submitted_by"],
        reviewed_ms=r["reviewed_ms"],
        reviewed_by=r["reviewed_by"],
    )
