"""The enrolment desk of a node: applications, their review, listings and removal decisions.

A county's handler registers an application; its unit head approves it (the enterprise is
enrolled on this node with its first user, and a signed roster record puts it on the roster,
all in one transaction) or refuses it with a reason. A listed unit cannot enrol; an officer of
the county or a unit above it lists or unlists a unit, which disqualifies it on the roster; a
unit head decides a removal supervision proposed. Each change is a roster record signed here
(``node.enrolment.roster``) that replication carries everywhere. Every step checks all its
input before it writes, and writes all or nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from core.access.principals import check_enterprise_user
from core.errors import EnrolmentForbidden, InvalidInput, NotFound, NotPermitted
from core.identifiers import check_credit_code
from core.limits import check_text
from core.odr.enrolment import (
    ApplicationDraft,
    ApplicationStatus,
    check_applies_to,
    check_review,
)
from core.odr.roster import OdrRoster
from core.odr.roster_changes import (
    Signer,
    check_may_apply,
    enrolment,
    listing_change,
    removal_decision,
)
from core.odr.roster_record import Listing, RosterRecord
from core.officers import Officer
from core.units import UnitLevel
from node.access.accounts import NewEnterpriseUser
from node.access.outsiders import OutsiderSignIn
from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.enrolment import applications as kept
from node.enrolment.applications import Application
from node.enrolment.roster import RosterBook, current_record, read_roster, roster_with_records
from node.storage.database import Database


@dataclass(frozen=True)
class Reviewed:
    """A reviewed application, and the first user's credentials when it was approved."""

    application: Application
    first_user: NewEnterpriseUser | None


class EnrolmentDesk:
    """Applications, listings and removals at one node (every method on the blocking pool)."""

    def __init__(
        self,
        db: Database,
        roster: Roster,
        book: RosterBook,
        accounts: OutsiderSignIn,
        blocking: BlockingPool,
        wall_ms: Callable[[], int],
    ) -> None:
        self._db = db
        self._roster = roster
        self._book = book
        self._accounts = accounts
        self._blocking = blocking
        self._wall_ms = wall_ms

    # -- who acts ----------------------------------------------------------------------------

    def officer(self, officer_id: str) -> Officer:
        """The acting officer, on this node's roster (the edge's guard let them call)."""
        officer = self._roster.find(officer_id)
        if officer is None:
            raise NotPermitted(f"officer {officer_id} is not on this node's roster")
        return officer

    def _county(self) -> str:
        unit = self._roster.own_unit()
        if unit.level is not UnitLevel.COUNTY:
            raise NotPermitted(
                f"applications to the ODR channel are made to a county bureau (县级局); this "
                f"is a {unit.level.value} node"
            )
        return unit.code

    # -- applications ------------------------------------------------------------------------

    async def submit(self, officer_id: str, draft: ApplicationDraft) -> Application:
        """Register an application the county received (申请)."""
        return await self._blocking.run(self.submit_now, officer_id, draft)

    def submit_now(self, officer_id: str, draft: ApplicationDraft) -> Application:
        """``submit``, blocking."""
        county = self._county()
        officer = self.officer(officer_id)
        check_applies_to(draft, county)
        with self._db.write() as conn:
            again = kept.by_request(conn, draft.request_id)
            if again is not None:
                if again.draft.credit_code != draft.credit_code:
                    raise InvalidInput(
                        "request_id", "already used for another applicant's application"
                    )
                return again
            check_may_apply(current_record(conn, draft.credit_code))
            application = Application(
                application_id=f"ODR-{county}-{secrets.token_hex(5).upper()}",
                draft=draft,
                unit_code=county,
                status=ApplicationStatus.PENDING,
                reason="",
                submitted_ms=self._wall_ms(),
                submitted_by=officer.officer_id,
            )
            kept.insert_application(conn, application)
        return application

    async def review(
        self,
        officer_id: str,
        application_id: str,
        approve: bool,
        reason: str,
        first_user: tuple[str, str, str],
        peer: str,
    ) -> Reviewed:
        """Approve (enrol with the first user) or refuse with a reason (审核)."""
        return await self._blocking.run(
            self.review_now, officer_id, application_id, approve, reason, first_user, peer
        )

    def review_now(
        self,
        officer_id: str,
        application_id: str,
        approve: bool,
        reason: str,
        first_user: tuple[str, str, str],
        peer: str,
    ) -> Reviewed:
        """``review``, blocking: every check before the one transaction that writes."""
        county = self._county()
        officer = self.officer(officer_id)
        if not application_id.strip():
            raise InvalidInput("application_id", "must not be empty")
        with self._db.read() as conn:
            found = kept.application(conn, application_id.strip())
        if found is None or found.unit_code != county:
            raise NotFound(f"no application {application_id} at this county")
        reason = check_review(found.status, approve, reason)
        now = self._wall_ms()
        if not approve:
            with self._db.write() as conn:
                if not kept.mark_reviewed(
                    conn,
                    found.application_id,
                    ApplicationStatus.REFUSED,
                    reason,
                    at_ms=now,
                    by=officer.officer_id,
                ):
                    raise EnrolmentForbidden("the application was reviewed meanwhile")
                done = kept.application(conn, found.application_id)
            assert done is not None
            return Reviewed(done, None)
        user_id, user_name, password = first_user
        draft = found.draft
        try:
            user = check_enterprise_user(draft.credit_code, draft.name, user_id, user_name)
            prepared = self._accounts.prepare_enterprise_user(user, password)
        except InvalidInput as wrong:
            # The request names the first user's fields first_user_id, _name, _password.
            field = "first_user_" + wrong.field.removeprefix("user_")
            raise InvalidInput(field, wrong.reason) from None
        with self._db.write() as conn:
            record = enrolment(
                current_record(conn, draft.credit_code),
                self._signer(officer, now),
                credit_code=draft.credit_code,
                name=draft.name,
                kind=draft.kind,
                application_id=found.application_id,
            )
            if not kept.mark_reviewed(
                conn,
                found.application_id,
                ApplicationStatus.APPROVED,
                reason,
                at_ms=now,
                by=officer.officer_id,
            ):
                raise EnrolmentForbidden("the application was reviewed meanwhile")
            added = self._accounts.keep_enterprise_user(
                conn, prepared, at_ms=now, by=officer.officer_id, peer=peer
            )
            self._book.issue(conn, record)
            done = kept.application(conn, found.application_id)
        assert done is not None
        return Reviewed(done, added)

    async def list_applications(self, status: ApplicationStatus | None) -> list[Application]:
        """The applications of this node's unit, newest first."""

        def read() -> list[Application]:
            with self._db.read() as conn:
                return kept.applications(conn, self._roster.own_unit().code, status)

        return await self._blocking.run(read)

    # -- the roster --------------------------------------------------------------------------

    async def roster(self) -> OdrRoster:
        """The roster as this node holds it."""

        def read() -> OdrRoster:
            with self._db.read() as conn:
                return read_roster(conn)

        return await self._blocking.run(read)

    async def roster_with_records(self) -> tuple[OdrRoster, list[RosterRecord]]:
        """The roster and the newest record of every credit code (listed ones too), read in
        one transaction so that the two agree."""

        def read() -> tuple[OdrRoster, list[RosterRecord]]:
            with self._db.read() as conn:
                return roster_with_records(conn)

        return await self._blocking.run(read)

    async def set_listing(
        self, officer_id: str, credit_code: str, listing: Listing, listed: bool, note: str
    ) -> RosterRecord:
        """Put a unit on a list, or take it off (经营异常名录, 严重违法失信名单)."""
        code = check_credit_code(credit_code, "credit_code")
        note = check_text(note, "note")
        return await self._blocking.run(
            self.set_listing_now, officer_id, code, listing, listed, note
        )

    def set_listing_now(
        self, officer_id: str, credit_code: str, listing: Listing, listed: bool, note: str
    ) -> RosterRecord:
        """``set_listing``, blocking."""
        officer = self.officer(officer_id)
        now = self._wall_ms()
        with self._db.write() as conn:
            draft = listing_change(
                current_record(conn, credit_code),
                self._signer(officer, now),
                credit_code,
                listing,
                listed,
                note,
            )
            return self._book.issue(conn, draft)

    async def decide_removal(
        self, officer_id: str, credit_code: str, approve: bool, note: str
    ) -> RosterRecord:
        """A unit head decides supervision's proposal to remove a unit (signed)."""
        code = check_credit_code(credit_code, "credit_code")
        note = check_text(note, "note")
        return await self._blocking.run(self.decide_removal_now, officer_id, code, approve, note)

    def decide_removal_now(
        self, officer_id: str, credit_code: str, approve: bool, note: str
    ) -> RosterRecord:
        """``decide_removal``, blocking."""
        officer = self.officer(officer_id)
        now = self._wall_ms()
        with self._db.write() as conn:
            draft = removal_decision(
                current_record(conn, credit_code),
                self._signer(officer, now),
                credit_code,
                approve,
                note,
            )
            return self._book.issue(conn, draft)

    def _signer(self, officer: Officer, now: int) -> Signer:
        """This node signing, for ``officer``, now."""
        return Signer(self._book.unit_code, self._book.node_id, officer.officer_id, now)
