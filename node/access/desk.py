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
each) from the reads that answer other officers.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from core.access import totp
from core.access.lockout import AccountGuard, after_failure, after_success, judge_try
from core.access.passwords import check_password
from core.access.policy import SignInPolicy
from core.access.reasons import CallRefusal, SignInRefusal, TokenRefusal
from core.access.record import AccessAction, AccessOutcome
from core.access.sessions import SessionEnd, SessionRecord, needs_touch, new_session, refusal
from core.errors import AccountLocked, NotFound, NotPermitted, NotSignedIn, UnknownOfficer
from core.officers import Officer, Role
from node.access import passwords, record, store
from node.access.tokens import TokenRefused, open_token, sign_token
from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.storage.database import Database
from sync.drill_hierarchy import china_text
from sync.identity import NodeIdentity

HASHING_AT_ONCE = 2
"""Password checks and hashes running at once, at most."""

REFUSED = (
    "sign-in refused: wrong officer id, password or code (or no credentials set for the "
    "officer on this node)"
)
"""What every refused sign-in says, whatever the reason: the record keeps which it was."""


@dataclass(frozen=True)
class SignedIn:
    """An officer proven by a valid session token on the call under way."""

    officer_id: str
    session: SessionRecord


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


class SignInDesk:
    """Sign-in, sign-out, token checks and credentials of one node's officers."""

    def __init__(
        self,
        db: Database,
        identity: NodeIdentity,
        roster: Roster,
        blocking: BlockingPool,
        policy: SignInPolicy,
        wall_ms: Callable[[], int],
        hashing: passwords.PasswordHashing = passwords.DEFAULT_HASHING,
    ) -> None:
        self._db = db
        self._identity = identity
        self._roster = roster
        self._blocking = blocking
        self.policy = policy
        self._wall_ms = wall_ms
        self.passwords = hashing
        """How this node hashes passwords (Argon2id; its memory is a setting)."""
        self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)

    # -- signing in and out ------------------------------------------------------------------

    async def sign_in(self, officer_id: str, password: str, code: str, peer: str) -> SignInResult:
        """Check the password and the code; open a session (on the blocking pool)."""
        async with self._hashing:
            return await self._blocking.run(self.sign_in_now, officer_id, password, code, peer)

    def sign_in_now(self, officer_id: str, password: str, code: str, peer: str) -> SignInResult:
        """``sign_in``, blocking."""
        now = self._wall_ms()
        officer_id = officer_id.strip()
        officer = self._on_roster(officer_id)
        with self._db.read() as conn:
            stored = store.credentials(conn, officer_id) if officer else None
        if officer is None or stored is None:
            self.passwords.spend_time_as_if_checking(password)
            why = SignInRefusal.UNKNOWN_OFFICER if officer is None else SignInRefusal.NO_CREDENTIALS
            self._record(now, officer_id, AccessAction.SIGN_IN, why.value, peer)
            raise NotSignedIn(REFUSED)
        if stored.guard.locked(now):
            self._record(now, officer_id, AccessAction.SIGN_IN, SignInRefusal.LOCKED.value, peer)
            raise self._locked(stored.guard.locked_until_ms)
        password_ok = self.passwords.password_matches(stored.password_hash, password)
        step = totp.matching_step(totp.secret_bytes(stored.totp_secret), code, now)
        rehashed = (
            self.passwords.hash_password(password)
            if password_ok and self.passwords.needs_rehash(stored.password_hash)
            else None
        )
        with self._db.write() as conn:
            current = store.credentials(conn, officer_id, for_update=True)
            if current is None or current.password_hash != stored.password_hash:
                # Set anew while this try was being checked: the try was against the old ones.
                gone = current is None
                why = SignInRefusal.NO_CREDENTIALS if gone else SignInRefusal.WRONG_PASSWORD
                self._append(conn, now, officer_id, AccessAction.SIGN_IN, why.value, peer)
                failure: Exception = NotSignedIn(REFUSED)
            else:
                refused = judge_try(current.guard, now, password_ok=password_ok, code_step=step)
                if refused is SignInRefusal.LOCKED:
                    self._append(conn, now, officer_id, AccessAction.SIGN_IN, refused.value, peer)
                    failure = self._locked(current.guard.locked_until_ms)
                elif refused is not None:
                    failure = self._count_failure(
                        conn, now, officer_id, current.guard, refused, peer
                    )
                else:
                    assert step is not None
                    return self._open(conn, now, officer_id, current.guard, step, rehashed, peer)
        raise failure

    def _open(
        self,
        conn: Connection,
        now: int,
        officer_id: str,
        guard: AccountGuard,
        step: int,
        rehashed: str | None,
        peer: str,
    ) -> SignInResult:
        """A right try: spend its code, open the session, record it; the signed token."""
        store.save_guard(conn, officer_id, after_success(guard, step))
        if rehashed is not None:
            store.save_password_hash(conn, officer_id, rehashed)
        claims, session = new_session(
            secrets.token_hex(16), self._identity.node_id, officer_id, now, self.policy
        )
        store.open_session(conn, session, record.fit(peer, 200))
        self._append(
            conn,
            now,
            officer_id,
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
        officer_id: str,
        guard: AccountGuard,
        why: SignInRefusal,
        peer: str,
    ) -> Exception:
        """Record a wrong try and count it; the try that reaches the limit locks the account."""
        result = after_failure(guard, now, self.policy)
        store.save_guard(conn, officer_id, result.guard)
        self._append(conn, now, officer_id, AccessAction.SIGN_IN, why.value, peer)
        if not result.locked_now:
            return NotSignedIn(REFUSED)
        until = result.guard.locked_until_ms
        self._append(
            conn,
            now,
            officer_id,
            AccessAction.LOCKOUT,
            "",
            peer,
            detail=f"{self.policy.max_failures} wrong tries; locked until {china_text(until)}",
        )
        return self._locked(until, just_now=True)

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
                who.officer_id,
                AccessAction.SIGN_OUT,
                "",
                peer,
                session_id=who.session.session_id,
            )

    # -- tokens at the door ------------------------------------------------------------------

    async def authenticate(self, token: str, peer: str, method: str) -> SignedIn:
        """The officer a call's token proves, or ``NotSignedIn`` (recorded)."""
        return await self._blocking.run(self.authenticate_now, token, peer, method)

    def authenticate_now(self, token: str, peer: str, method: str) -> SignedIn:
        """``authenticate``, blocking."""
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
        with self._db.read() as conn:
            session = store.session(conn, claims.session_id)
        why = refusal(claims, session, self._identity.node_id, now, self.policy)
        if why is not None:
            with self._db.write() as conn:
                if why is TokenRefusal.IDLE:
                    store.end_session(conn, claims.session_id, now, SessionEnd.IDLE)
                self._append(
                    conn,
                    now,
                    claims.officer_id,
                    AccessAction.CALL,
                    why.value,
                    peer,
                    session_id=claims.session_id,
                    detail=method,
                )
            raise NotSignedIn(why.advice)
        assert session is not None
        if needs_touch(session, now, self.policy):
            with self._db.write() as conn:
                store.touch_session(conn, session.session_id, now)
        return SignedIn(claims.officer_id, session)

    async def refuse_call(
        self, officer_id: str, why: CallRefusal, peer: str, method: str, error: Exception
    ) -> Exception:
        """Record a call refused at the door for ``why``; returns ``error`` to raise."""
        now = self._wall_ms()
        await self._blocking.run(
            self._record, now, officer_id, AccessAction.CALL, why.value, peer, detail=method
        )
        return error

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
        if actor is None:
            self._record(now, "", action, CallRefusal.NO_TOKEN.value, peer, detail=officer_id)
            raise NotSignedIn(
                "setting credentials needs a signed-in security administrator (hotline login)"
            )
        admin = self._on_roster(actor.officer_id)
        if admin is None or not admin.has(Role.SECURITY_ADMIN):
            why = CallRefusal.NOT_SECURITY_ADMIN.value
            self._record(now, actor.officer_id, action, why, peer, detail=f"for {officer_id}")
            raise NotPermitted(
                f"officer {actor.officer_id} is not a security administrator (安全管理员)"
            )
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
        return shown

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
