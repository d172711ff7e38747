"""The sign-in desk's part for the people outside the bureau: enterprise users and consumers.

Issue 11, item 5 (docs/security.md, "Enterprise accounts", "Consumer access"). An enterprise
user signs in through the officers' own code (``SignInDesk._sign_in_account``, on the book
``ENTERPRISE_USERS``); a consumer with their ticket's id and verification code, kept as a keyed
hash (``node.access.codes``), wrong codes locking the ticket's consumer access under
``core.access.lockout``'s rules. Every try goes through the desk's rate limits first
(``SignInDesk._limited``). A mixin of ``SignInDesk``: the rows, the record and the sessions are
the desk's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

from core.access import consumer_codes
from core.access.lockout import AccountGuard, after_failure
from core.access.passwords import check_password
from core.access.policy import SignInPolicy
from core.access.principals import (
    CONSUMER_PRINCIPAL,
    EnterpriseUserDraft,
    Principal,
    PrincipalKind,
    check_account_id,
    check_enterprise_user,
)
from core.access.reasons import SignInRefusal
from core.access.record import AccessAction
from core.access.sessions import SessionEnd
from core.errors import AccountLocked, DomainError, InvalidInput, NotFound, NotSignedIn
from core.identifiers import check_credit_code, check_reference
from core.units import UnitLevel
from node.access import codes, enterprises, passwords, store
from node.access.accounts import (
    CONSUMER_REFUSED,
    Account,
    NewEnterpriseUser,
    SignedIn,
    SignInResult,
    make_secret,
)
from node.access.codes import CodeKey
from sync.drill_hierarchy import china_text

if TYPE_CHECKING:
    from node.access.checked import CheckedSessions
    from node.app.blocking import BlockingPool
    from node.desks.roster import Roster
    from node.storage.database import Database

T = TypeVar("T")


@dataclass(frozen=True)
class PreparedEnterpriseUser:
    """An enterprise user's credentials made ready to keep: hashed, with a fresh TOTP secret."""

    draft: EnterpriseUserDraft
    unit_code: str
    hashed: str
    secret: str
    otpauth_uri: str


class OutsiderSignIn:
    """Enterprise users' and consumers' sign-in, and enterprise users' accounts."""

    if TYPE_CHECKING:
        _db: Database
        _roster: Roster
        _blocking: BlockingPool
        _hashing: asyncio.Semaphore
        _codes: CodeKey | None
        _wall_ms: Callable[[], int]
        passwords: passwords.PasswordHashing
        consumer_policy: SignInPolicy
        checked: CheckedSessions

        async def _limited(
            self,
            peer: str,
            account: str,
            run: Callable[..., Awaitable[T]],
            work: Callable[..., T],
            *args: Any,
        ) -> T: ...

        async def _hashed(self, work: Callable[..., T], *args: Any) -> T: ...

        def _sign_in_account(
            self,
            account: Account,
            unknown: SignInRefusal | None,
            password: str,
            code: str,
            peer: str,
        ) -> SignInResult: ...

        def _open(
            self, conn: Connection, now: int, principal: Principal, peer: str
        ) -> SignInResult: ...

        def _lock_recorded(
            self, conn: Connection, now: int, who: str, until: int, peer: str, policy: SignInPolicy
        ) -> AccountLocked: ...

        def _security_admin(
            self, actor: SignedIn | None, action: AccessAction, target: str, peer: str, now: int
        ) -> SignedIn: ...

        def _append(
            self,
            conn: Connection,
            now: int,
            officer_id: str,
            action: AccessAction,
            reason: str,
            peer: str,
            *,
            session_id: str = "",
            detail: str = "",
        ) -> None: ...

    async def enterprise_sign_in(
        self, credit_code: str, user_id: str, password: str, code: str, peer: str
    ) -> SignInResult:
        """An enterprise user's sign-in: the officers' rules, on ``enterprise_users``."""
        principal = Principal(
            PrincipalKind.ENTERPRISE,
            check_account_id(user_id, "user_id"),
            check_credit_code(credit_code, "credit_code"),
        )
        account = Account(
            principal, (principal.scope, principal.principal_id), store.ENTERPRISE_USERS
        )
        return await self._limited(
            peer,
            principal.label,
            self._hashed,
            self._sign_in_account,
            account,
            None,
            password,
            code,
            peer,
        )

    # -- consumers -----------------------------------------------------------------------------

    async def consumer_sign_in(self, ticket_id: str, code: str, peer: str) -> SignInResult:
        """A consumer's sign-in with their ticket's id and verification code: a session that
        may read that ticket only (docs/security.md, "Consumer access")."""
        ticket_id = check_reference(ticket_id, "ticket_id")
        code = consumer_codes.normalized(code, "code")
        label = Principal(PrincipalKind.CONSUMER, CONSUMER_PRINCIPAL, ticket_id).label
        return await self._limited(
            peer, label, self._blocking.run, self.consumer_sign_in_now, ticket_id, code, peer
        )

    def consumer_sign_in_now(self, ticket_id: str, code: str, peer: str) -> SignInResult:
        """``consumer_sign_in``, blocking. The code is compared in constant time, and against
        a dummy when the ticket has none here, so the time says nothing either way."""
        now = self._wall_ms()
        principal = Principal(PrincipalKind.CONSUMER, CONSUMER_PRINCIPAL, ticket_id)
        who = principal.label
        keeper = self._codes
        with self._db.write() as conn:
            stored = codes.code_row(conn, ticket_id, for_update=True)
            if keeper is None or stored is None or stored.key_id != keeper.key_id:
                if keeper is not None:
                    keeper.matches(None, ticket_id, code)
                why = SignInRefusal.UNKNOWN_ACCOUNT.value
                self._append(conn, now, who, AccessAction.SIGN_IN, why, peer)
                failure: Exception = NotSignedIn(CONSUMER_REFUSED)
            elif stored.guard.locked(now):
                self._append(conn, now, who, AccessAction.SIGN_IN, SignInRefusal.LOCKED.value, peer)
                failure = self._consumer_locked(stored.guard.locked_until_ms)
            elif not keeper.matches(stored.code_hash, ticket_id, code):
                result = after_failure(stored.guard, now, self.consumer_policy)
                codes.save_guard(conn, ticket_id, result.guard)
                why = SignInRefusal.WRONG_CODE.value
                self._append(conn, now, who, AccessAction.SIGN_IN, why, peer)
                failure = NotSignedIn(CONSUMER_REFUSED)
                if result.locked_now:
                    until = result.guard.locked_until_ms
                    policy = self.consumer_policy
                    self._lock_recorded(conn, now, who, until, peer, policy)
                    failure = self._consumer_locked(until)
            else:
                codes.save_guard(conn, ticket_id, AccountGuard())
                return self._open(conn, now, principal, peer)
        raise failure

    def _consumer_locked(self, until_ms: int) -> AccountLocked:
        return AccountLocked(
            f"too many wrong verification codes for this ticket: it cannot be read with a code "
            f"until {china_text(until_ms)} (锁定)",
            until_ms,
        )

    # -- enterprise users --------------------------------------------------------------------

    async def add_enterprise_user(
        self,
        actor: SignedIn | None,
        credit_code: str,
        enterprise_name: str,
        user_id: str,
        name: str,
        password: str,
        peer: str,
    ) -> NewEnterpriseUser:
        """A county's security administrator adds an enterprise user (enrolling the enterprise
        with its first user) or sets a user's credentials anew."""
        async with self._hashing:
            return await self._blocking.run(
                self.add_enterprise_user_now,
                actor,
                credit_code,
                enterprise_name,
                user_id,
                name,
                password,
                peer,
            )

    def add_enterprise_user_now(
        self,
        actor: SignedIn | None,
        credit_code: str,
        enterprise_name: str,
        user_id: str,
        name: str,
        password: str,
        peer: str,
    ) -> NewEnterpriseUser:
        """``add_enterprise_user``, blocking."""
        now = self._wall_ms()
        action = AccessAction.ENTERPRISE_USER
        draft = check_enterprise_user(credit_code, enterprise_name, user_id, name)
        principal = Principal(PrincipalKind.ENTERPRISE, draft.user_id, draft.credit_code)
        admin = self._security_admin(actor, action, principal.label, peer, now)
        prepared = self.prepare_enterprise_user(draft, password)
        with self._db.write() as conn:
            added = self.keep_enterprise_user(
                conn,
                prepared,
                at_ms=now,
                by=admin.officer_id,
                peer=peer,
                session_id=admin.session.session_id,
            )
        self.checked.forget_all()  # again after the commit: no check read the old row since
        return added

    def prepare_enterprise_user(
        self, draft: EnterpriseUserDraft, password: str
    ) -> PreparedEnterpriseUser:
        """An enterprise user's credentials made ready, outside any transaction (blocking: the
        password is hashed): the node must be a county's, the password strong enough."""
        unit = self._roster.own_unit()
        if unit.level is not UnitLevel.COUNTY:
            raise DomainError(
                f"enterprises are enrolled by a county's node (县级局), and this is a "
                f"{unit.level.value} node: their users sign in to the county that enrolled them"
            )
        check_password(password)
        hashed = self.passwords.hash_password(password)
        secret, shown = make_secret(f"{draft.credit_code}:{draft.user_id}", unit.code)
        return PreparedEnterpriseUser(draft, unit.code, hashed, secret, shown.otpauth_uri)

    def keep_enterprise_user(
        self,
        conn: Connection,
        prepared: PreparedEnterpriseUser,
        *,
        at_ms: int,
        by: str,
        peer: str,
        session_id: str = "",
    ) -> NewEnterpriseUser:
        """Keep a prepared enterprise user in the caller's transaction (enrolling the
        enterprise on this node if it is not yet), ending their open sessions, recorded."""
        draft = prepared.draft
        principal = Principal(PrincipalKind.ENTERPRISE, draft.user_id, draft.credit_code)
        known = enterprises.enterprise_name(conn, draft.credit_code)
        if known is None:
            if not draft.enterprise_name:
                raise InvalidInput(
                    "enterprise_name",
                    f"must be given: {draft.credit_code} is not enrolled on this node yet",
                )
            enterprises.enrol(
                conn,
                draft.credit_code,
                draft.enterprise_name,
                prepared.unit_code,
                at_ms=at_ms,
                by=by,
            )
        key = (draft.credit_code, draft.user_id)
        store.save_credentials(
            conn,
            key,
            prepared.hashed,
            prepared.secret,
            at_ms=at_ms,
            set_by=by,
            book=store.ENTERPRISE_USERS,
            extra={"name": draft.name},
        )
        ended = store.end_sessions_of(
            conn,
            draft.user_id,
            at_ms,
            SessionEnd.CREDENTIALS_CHANGED,
            kind=PrincipalKind.ENTERPRISE.value,
            scope=draft.credit_code,
        )
        self.checked.forget_all()
        self._append(
            conn,
            at_ms,
            by,
            AccessAction.ENTERPRISE_USER,
            "",
            peer,
            session_id=session_id,
            detail=f"for {principal.label}"
            + ("; enterprise enrolled" if known is None else "")
            + (f"; {ended} open session(s) ended" if ended else ""),
        )
        return NewEnterpriseUser(
            draft.credit_code, draft.user_id, known is None, prepared.secret, prepared.otpauth_uri
        )

    async def enterprise_user(self, who: SignedIn) -> enterprises.EnterpriseUser:
        """The enterprise user a session stands for (WhoAmI): as the door's full check read
        them with the session row, else read afresh."""
        principal = who.principal
        found: enterprises.EnterpriseUser | None = who.enterprise_user
        if found is None:
            found = await self._blocking.run(
                self._read, enterprises.user, principal.scope, principal.principal_id
            )
        if found is None:
            raise NotFound(f"{principal.label} is no longer an enterprise user here")
        return found

    def _read(self, read: Callable[..., T], *args: Any) -> T:
        with self._db.read() as conn:
            return read(conn, *args)
