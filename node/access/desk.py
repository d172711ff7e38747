"""The sign-in desk: signing officers in and out, checking tokens, setting credentials.

Every decision is one of ``core.access``'s rules; this desk reads and writes the rows, hashes
and signs, and keeps the access record in the same transaction as what it records. A refusal
is committed to the record first and raised after, so a refused try is never rolled back with
the change it did not make.

Time here is real wall time (``wall_ms``, never the node's drill clock): an officer's phone
computes TOTP codes on real time, a lockout keeps a guesser out for real minutes, and a drill
clock running a month in an hour would end every session in seconds (docs/security.md).

All of it blocks (Argon2id is slow on purpose, the rest is database work), so the async
methods run it on the node's blocking pool, and at most ``HASHING_AT_ONCE`` password checks run
at once: a flood of sign-ins queues here instead of taking every thread of the pool (and 19 MiB
each) from the reads that answer other officers. The one exception is a token checked in full
in the last two seconds: it is answered from the desk's memory on the loop
(``node.access.checked``), so that most calls never wait on the pool for their session.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection

from core.access import totp
from core.access.lockout import AccountGuard, after_failure, after_success, judge_try
from core.access.passwords import check_password
from core.access.policy import SignInPolicy
from core.access.principals import (
    Principal,
    PrincipalKind,
)
from core.access.reading import AccessFilter
from core.access.reasons import CallRefusal, SignInRefusal, TokenRefusal
from core.access.record import AccessAction, AccessOutcome
from core.access.sessions import SessionEnd, needs_touch, new_session, refusal
from core.access.throttle import SignInLimits
from core.errors import (
    AccountLocked,
    NotFound,
    NotPermitted,
    NotSignedIn,
    UnknownOfficer,
)
from core.officers import Officer, Role
from node.access import enterprises, passwords, reader, record, store
from node.access.accounts import (
    CONSUMER_REFUSED,
    ENTERPRISE_REFUSED,
    REFUSED,
    Account,
    NewCredentials,
    NewEnterpriseUser,
    SignedIn,
    SignInResult,
    issuer_of,
    make_secret,
)
from node.access.checked import CheckedSession, CheckedSessions
from node.access.codes import CodeKey
from node.access.outsiders import OutsiderSignIn
from node.access.record import StoredRow
from node.access.throttle import EndedBurst, SignInThrottle
from node.access.tokens import TokenRefused, open_token, sign_token
from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.storage.database import Database
from sync.drill_hierarchy import china_text
from sync.errors import Busy
from sync.identity import NodeIdentity

T = TypeVar("T")
log = logging.getLogger(__name__)

__all__ = [
    "CONSUMER_REFUSED",
    "ENTERPRISE_REFUSED",
    "REFUSED",
    "Account",
    "NewCredentials",
    "NewEnterpriseUser",
    "SignInDesk",
    "SignInResult",
    "SignedIn",
    "issuer_of",
    "make_secret",
]

HASHING_AT_ONCE = 2
"""Password checks and hashes running at once, at most."""


class SignInDesk(OutsiderSignIn):
    """Sign-in, sign-out, token checks and credentials of one node's officers (and, by its
    mixin ``OutsiderSignIn``, of enterprise users and consumers)."""

    def __init__(
        self,
        db: Database,
        identity: NodeIdentity,
        roster: Roster,
        blocking: BlockingPool,
        policy: SignInPolicy,
        wall_ms: Callable[[], int],
        *,
        consumer_policy: SignInPolicy | None = None,
        limits: SignInLimits | None = None,
        codes: CodeKey | None = None,
        hashing: passwords.PasswordHashing = passwords.DEFAULT_HASHING,
        checked: CheckedSessions | None = None,
    ) -> None:
        self._db = db
        self._identity = identity
        self._roster = roster
        self._blocking = blocking
        self.policy = policy
        self.consumer_policy = consumer_policy or policy
        """Wrong codes before a ticket's consumer access locks, for how long, and how long a
        consumer's session lasts."""
        self.throttle = SignInThrottle(limits or SignInLimits())
        self._other_throttles: list[tuple[SignInThrottle, str]] = []
        self._codes = codes
        self._wall_ms = wall_ms
        self.passwords = hashing
        """How this node hashes passwords (Argon2id; its memory is a setting)."""
        self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)
        self.checked = checked or CheckedSessions()
        """Tokens checked in full lately, answered from memory (``node.access.checked``)."""

    def policy_of(self, kind: PrincipalKind | str) -> SignInPolicy:
        """The session rules of a kind of principal: consumers' sessions are shorter."""
        return (
            self.consumer_policy if PrincipalKind(kind) is PrincipalKind.CONSUMER else self.policy
        )

    # -- limits per caller -------------------------------------------------------------------

    async def _limited(
        self,
        peer: str,
        account: str,
        run: Callable[..., Awaitable[T]],
        work: Callable[..., T],
        *args: Any,
    ) -> T:
        """Run a sign-in try if its caller's address and its account have a try left
        (``node.access.throttle``); else refuse it (``Busy``: RESOURCE_EXHAUSTED with when to
        retry) before anything is checked or written. Bursts that ended are recorded, one row
        each. A try that succeeds gives its tokens back."""
        now = self._wall_ms()
        keys = self.throttle.keys(peer, account)
        admission = self.throttle.admit(keys, now)
        if admission.ended:
            await self._blocking.run(self._record_bursts, admission.ended, now)
        if not admission.admitted:
            per = "from this address" if admission.refused_by == keys[0] else "on this account"
            raise Busy(f"too many sign-in tries {per}", admission.retry_after_ms)
        result = await run(work, *args)
        self.throttle.succeeded(keys, self._wall_ms())
        return result

    def _record_bursts(
        self,
        bursts: tuple[EndedBurst, ...],
        now: int,
        action: AccessAction = AccessAction.SIGN_IN,
        what: str = "tries",
    ) -> None:
        """One access-record row per burst of refused ``what``, with its count."""
        with self._db.write() as conn:
            for ended in bursts:
                burst, key = ended.burst, ended.key
                by_address = key.kind == "address"
                per = "from this address" if by_address else "on this account"
                self._append(
                    conn,
                    now,
                    "" if by_address else key.value,
                    action,
                    SignInRefusal.RATE_LIMITED.value,
                    key.value if by_address else "",
                    detail=f"{burst.refused} {what} refused {per} from "
                    f"{china_text(burst.first_ms)} to {china_text(burst.last_ms)} (rate limit)",
                )

    async def record_refused_calls(self, bursts: tuple[EndedBurst, ...], what: str) -> None:
        """Record bursts of calls another limit of the node refused (``what``: e.g. complaints
        filed online), one row each, as refused calls."""
        if bursts:
            await self._blocking.run(
                self._record_bursts, bursts, self._wall_ms(), AccessAction.CALL, what
            )

    def flush_also(self, throttle: SignInThrottle, what: str) -> None:
        """Have ``flush_bursts`` record the bursts ``throttle`` still holds at the node's stop."""
        self._other_throttles.append((throttle, what))

    async def flush_bursts(self) -> None:
        """Record every burst not yet recorded (at the node's stop)."""
        pending = tuple(self.throttle.drain())
        try:
            if pending:
                await self._blocking.run(self._record_bursts, pending, self._wall_ms())
            for throttle, what in self._other_throttles:
                await self.record_refused_calls(tuple(throttle.drain()), what)
        except Exception:  # the stop goes on; the log says what was not recorded
            log.exception("bursts of refused tries not recorded")

    # -- signing in and out ------------------------------------------------------------------

    async def sign_in(self, officer_id: str, password: str, code: str, peer: str) -> SignInResult:
        """Check the password and the code; open a session (on the blocking pool)."""
        label = officer_id.strip()
        return await self._limited(
            peer, label, self._hashed, self.sign_in_now, officer_id, password, code, peer
        )

    async def _hashed(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` on the blocking pool, at most ``HASHING_AT_ONCE`` at once (it hashes).
        Called after the rate limits: a refused try never waits in this line."""
        async with self._hashing:
            return await self._blocking.run(work, *args)

    def sign_in_now(self, officer_id: str, password: str, code: str, peer: str) -> SignInResult:
        """``sign_in``, blocking."""
        officer_id = officer_id.strip()
        officer = self._on_roster(officer_id)
        account = Account(Principal(PrincipalKind.OFFICER, officer_id), officer_id, store.OFFICERS)
        unknown = SignInRefusal.UNKNOWN_OFFICER if officer is None else None
        return self._sign_in_account(account, unknown, password, code, peer)

    def _sign_in_account(
        self,
        account: Account,
        unknown: SignInRefusal | None,
        password: str,
        code: str,
        peer: str,
    ) -> SignInResult:
        """Check an account's password and code under the lockout rules; open a session.

        ``unknown``: why the account cannot exist (an officer not on the roster); the try is
        refused after as long as a password check takes, whatever the reason.
        """
        now = self._wall_ms()
        who = account.principal.label
        with self._db.read() as conn:
            stored = (
                store.credentials(conn, account.key, book=account.book) if unknown is None else None
            )
        if stored is None:
            self.passwords.spend_time_as_if_checking(password)
            why = unknown or (
                SignInRefusal.NO_CREDENTIALS
                if account.book is store.OFFICERS
                else SignInRefusal.UNKNOWN_ACCOUNT
            )
            self._record(now, who, AccessAction.SIGN_IN, why.value, peer)
            raise NotSignedIn(account.refused)
        if stored.guard.locked(now):
            self._record(now, who, AccessAction.SIGN_IN, SignInRefusal.LOCKED.value, peer)
            raise self._locked(stored.guard.locked_until_ms)
        password_ok = self.passwords.password_matches(stored.password_hash, password)
        step = totp.matching_step(totp.secret_bytes(stored.totp_secret), code, now)
        rehashed = (
            self.passwords.hash_password(password)
            if password_ok and self.passwords.needs_rehash(stored.password_hash)
            else None
        )
        with self._db.write() as conn:
            current = store.credentials(conn, account.key, for_update=True, book=account.book)
            if current is None or current.password_hash != stored.password_hash:
                # Set anew while this try was being checked: the try was against the old ones.
                gone = current is None
                why = SignInRefusal.NO_CREDENTIALS if gone else SignInRefusal.WRONG_PASSWORD
                self._append(conn, now, who, AccessAction.SIGN_IN, why.value, peer)
                failure: Exception = NotSignedIn(account.refused)
            else:
                refused = judge_try(current.guard, now, password_ok=password_ok, code_step=step)
                if refused is SignInRefusal.LOCKED:
                    self._append(conn, now, who, AccessAction.SIGN_IN, refused.value, peer)
                    failure = self._locked(current.guard.locked_until_ms)
                elif refused is not None:
                    failure = self._count_failure(conn, now, account, current.guard, refused, peer)
                else:
                    assert step is not None
                    store.save_guard(
                        conn, account.key, after_success(current.guard, step), account.book
                    )
                    if rehashed is not None:
                        store.save_password_hash(conn, account.key, rehashed, account.book)
                    return self._open(conn, now, account.principal, peer)
        raise failure

    def _open(self, conn: Connection, now: int, principal: Principal, peer: str) -> SignInResult:
        """A right try: open the session, record it; the signed token."""
        claims, session = new_session(
            secrets.token_hex(16),
            self._identity.node_id,
            principal.principal_id,
            now,
            self.policy_of(principal.kind),
            kind=principal.kind,
            scope=principal.scope,
        )
        store.open_session(conn, session, record.fit(peer, 200))
        self._append(
            conn,
            now,
            principal.label,
            AccessAction.SIGN_IN,
            "",
            peer,
            session_id=session.session_id,
            detail=f"session until {china_text(session.expires_ms)}",
        )
        return SignInResult(sign_token(self._identity, claims), session)

    def _count_failure(
        self,
        conn: Connection,
        now: int,
        account: Account,
        guard: AccountGuard,
        why: SignInRefusal,
        peer: str,
    ) -> Exception:
        """Record a wrong try and count it; the try that reaches the limit locks the account."""
        result = after_failure(guard, now, self.policy)
        store.save_guard(conn, account.key, result.guard, account.book)
        who = account.principal.label
        self._append(conn, now, who, AccessAction.SIGN_IN, why.value, peer)
        if not result.locked_now:
            return NotSignedIn(account.refused)
        return self._lock_recorded(conn, now, who, result.guard.locked_until_ms, peer, self.policy)

    def _lock_recorded(
        self, conn: Connection, now: int, who: str, until: int, peer: str, policy: SignInPolicy
    ) -> AccountLocked:
        """Record the lockout a wrong try just caused; the error that says so."""
        self._append(
            conn,
            now,
            who,
            AccessAction.LOCKOUT,
            "",
            peer,
            detail=f"{policy.max_failures} wrong tries; locked until {china_text(until)}",
        )
        return self._locked(until, just_now=True)

    def _security_admin(
        self, actor: SignedIn | None, action: AccessAction, target: str, peer: str, now: int
    ) -> SignedIn:
        """The signed-in security administrator making a change; refused (and recorded)
        otherwise."""
        if actor is None:
            self._record(now, "", action, CallRefusal.NO_TOKEN.value, peer, detail=target)
            raise NotSignedIn("this needs a signed-in security administrator (hotline login)")
        admin = self._on_roster(actor.officer_id) if actor.is_officer else None
        if admin is None or not admin.has(Role.SECURITY_ADMIN):
            why = CallRefusal.NOT_SECURITY_ADMIN.value
            label = actor.principal.label
            self._record(now, label, action, why, peer, detail=f"for {target}")
            raise NotPermitted(f"{label} is not a security administrator (安全管理员)")
        return actor

    def _locked(self, until_ms: int, *, just_now: bool = False) -> AccountLocked:
        lead = "wrong password or code; too many wrong tries: " if just_now else ""
        return AccountLocked(
            f"{lead}the account is locked until {china_text(until_ms)} (锁定); a security "
            "administrator can lift the lock by setting new credentials",
            until_ms,
        )

    async def sign_out(self, who: SignedIn, peer: str) -> None:
        """End the caller's session (on the blocking pool)."""
        await self._blocking.run(self.sign_out_now, who, peer)

    def sign_out_now(self, who: SignedIn, peer: str) -> None:
        """``sign_out``, blocking."""
        now = self._wall_ms()
        with self._db.write() as conn:
            store.end_session(conn, who.session.session_id, now, SessionEnd.SIGNED_OUT)
            self._append(
                conn,
                now,
                who.principal.label,
                AccessAction.SIGN_OUT,
                "",
                peer,
                session_id=who.session.session_id,
            )
        self.checked.forget_all()  # after the commit: no check can bring the session back

    # -- tokens at the door ------------------------------------------------------------------

    async def authenticate(self, token: str, peer: str, method: str) -> SignedIn:
        """The officer a call's token proves, or ``NotSignedIn`` (recorded): from the memory
        of recent checks when it answers, else checked in full on the blocking pool."""
        known = self.recently_checked(token)
        if known is not None:
            return known
        return await self._blocking.run(self.authenticate_now, token, peer, method)

    def recently_checked(self, token: str) -> SignedIn | None:
        """Whom ``token`` proves, judged on the session row a recent full check read
        (``node.access.checked``); None when a full check is needed: nothing recent, the
        officer no longer on the roster, a refusal to record, a last-seen time to write."""
        now = self._wall_ms()
        checked = self.checked.recent(token, now, self._identity.public)
        if checked is None:
            return None
        who = checked.signed_in
        if who.is_officer and self._roster.find(who.officer_id) is None:
            return None  # revoked or moved by a record from above: the full check says so
        policy = self.policy_of(checked.claims.kind)
        node_id = self._identity.node_id
        if refusal(checked.claims, who.session, node_id, now, policy) is not None:
            return None
        if needs_touch(who.session, now, policy):
            return None
        return who

    def authenticate_now(self, token: str, peer: str, method: str) -> SignedIn:
        """``authenticate``, blocking: the signature verified, the session's row read."""
        epoch = self.checked.epoch
        now = self._wall_ms()
        try:
            claims = open_token(self._identity, token)
        except TokenRefused as refused:
            claimed = refused.claims.officer_id if refused.claims else ""
            self._record(
                now,
                claimed,
                AccessAction.CALL,
                refused.refusal.value,
                peer,
                session_id=refused.claims.session_id if refused.claims else "",
                detail=f"{method}: {refused}",
            )
            raise NotSignedIn(refused.refusal.advice) from None
        enterprise = claims.kind == PrincipalKind.ENTERPRISE.value
        with self._db.read() as conn:
            session = store.session(conn, claims.session_id)
            user = enterprises.user(conn, claims.scope, claims.officer_id) if enterprise else None
        policy = self.policy_of(claims.kind)
        who = Principal(PrincipalKind(claims.kind), claims.officer_id, claims.scope).label
        why = refusal(claims, session, self._identity.node_id, now, policy)
        if why is not None:
            with self._db.write() as conn:
                if why is TokenRefusal.IDLE:
                    store.end_session(conn, claims.session_id, now, SessionEnd.IDLE)
                self._append(
                    conn,
                    now,
                    who,
                    AccessAction.CALL,
                    why.value,
                    peer,
                    session_id=claims.session_id,
                    detail=method,
                )
            self.checked.drop(token)
            raise NotSignedIn(why.advice)
        assert session is not None
        if needs_touch(session, now, policy):
            with self._db.write() as conn:
                store.touch_session(conn, session.session_id, now)
            session = replace(session, last_seen_ms=now)
        proven = SignedIn(claims.officer_id, session, enterprise_user=user)
        self.checked.keep(token, CheckedSession(claims, proven, now, self._identity.public), epoch)
        return proven

    async def refuse_call(
        self, officer_id: str, why: CallRefusal, peer: str, method: str, error: Exception
    ) -> Exception:
        """Record a call refused at the door for ``why``; returns ``error`` to raise."""
        now = self._wall_ms()
        await self._blocking.run(
            self._record, now, officer_id, AccessAction.CALL, why.value, peer, detail=method
        )
        return error

    async def record_act(self, who: SignedIn, method: str, peer: str, detail: str) -> None:
        """Record an administrator's act that the node has just served (``node.edge.acts``)."""
        now = self._wall_ms()
        await self._blocking.run(
            self._record,
            now,
            who.officer_id,
            AccessAction.ADMIN_ACT,
            "",
            peer,
            session_id=who.session.session_id,
            detail=f"{method} {detail}".strip(),
        )

    # -- credentials -------------------------------------------------------------------------

    async def set_credentials(
        self, actor: SignedIn | None, officer_id: str, password: str, peer: str
    ) -> NewCredentials:
        """A security administrator sets an officer's password and a new TOTP secret."""
        async with self._hashing:
            return await self._blocking.run(
                self.set_credentials_now, actor, officer_id, password, peer
            )

    def set_credentials_now(
        self, actor: SignedIn | None, officer_id: str, password: str, peer: str
    ) -> NewCredentials:
        """``set_credentials``, blocking."""
        now = self._wall_ms()
        action = AccessAction.SET_CREDENTIALS
        actor = self._security_admin(actor, action, officer_id, peer, now)
        admin = self._on_roster(actor.officer_id)
        assert admin is not None
        target = self._on_roster(officer_id.strip())
        if target is None:
            raise NotFound(
                f"officer {officer_id!r} is not on this node's roster: add them first "
                "(hotline add-officer)"
            )
        check_password(password)
        hashed = self.passwords.hash_password(password)
        secret, shown = make_secret(target.officer_id, self._roster.own_unit().code)
        with self._db.write() as conn:
            store.save_credentials(
                conn, target.officer_id, hashed, secret, at_ms=now, set_by=admin.officer_id
            )
            ended = store.end_sessions_of(
                conn, target.officer_id, now, SessionEnd.CREDENTIALS_CHANGED
            )
            self._append(
                conn,
                now,
                admin.officer_id,
                action,
                "",
                peer,
                session_id=actor.session.session_id,
                detail=f"for {target.officer_id}; {ended} open session(s) ended",
            )
        self.checked.forget_all()
        return shown

    # -- reading the record ------------------------------------------------------------------

    async def begin_read(
        self, officer_id: str, session_id: str, peer: str, wanted: AccessFilter
    ) -> tuple[int, bytes]:
        """Record that ``officer_id`` reads the access record (committed before any row is
        shown); the read's own row, ``seq`` and digest, which the read goes up to."""
        return await self._blocking.run(self._begin_read_now, officer_id, session_id, peer, wanted)

    def _begin_read_now(
        self, officer_id: str, session_id: str, peer: str, wanted: AccessFilter
    ) -> tuple[int, bytes]:
        with self._db.write() as conn:
            return reader.record_the_read(
                conn,
                self._identity,
                at_ms=self._wall_ms(),
                officer_id=officer_id,
                peer=peer,
                session_id=session_id,
                wanted=wanted,
            )

    async def read_page(
        self, wanted: AccessFilter, cursor: int, up_to: int, size: int = reader.PAGE_ROWS
    ) -> list[StoredRow]:
        """One page of the record's matching rows (on the blocking pool)."""
        return await self._blocking.run(
            reader.read_page, self._db, wanted, cursor=cursor, up_to=up_to, size=size
        )

    # -- helpers -----------------------------------------------------------------------------

    def _on_roster(self, officer_id: str) -> Officer | None:
        """The officer, reading the roster again on a miss (another process may have added
        them); None when not on it."""
        if not officer_id or len(officer_id) > 32:
            return None
        for attempt in range(2):
            try:
                return self._roster.officer(officer_id)
            except UnknownOfficer:
                if attempt == 0:
                    self._roster.reload()
        return None

    def _record(
        self,
        now: int,
        officer_id: str,
        action: AccessAction,
        reason: str,
        peer: str,
        *,
        session_id: str = "",
        detail: str = "",
    ) -> None:
        """Append one row in a transaction of its own."""
        with self._db.write() as conn:
            self._append(
                conn, now, officer_id, action, reason, peer, session_id=session_id, detail=detail
            )

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
    ) -> None:
        """Append one row in ``conn``'s transaction: refused when ``reason`` is given."""
        record.append(
            conn,
            self._identity,
            at_ms=now,
            officer_id=officer_id,
            action=action,
            outcome=AccessOutcome.REFUSED if reason else AccessOutcome.DONE,
            reason=reason,
            peer=peer,
            session_id=session_id,
            detail=detail,
        )
