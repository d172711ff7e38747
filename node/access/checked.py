"""Sessions already checked (已核验的会话): the door's memory of tokens that held a moment ago.

Why it exists: every call on the client port carries a session token, and checking one in full
costs an Ed25519 verification and a read of the session's row on the blocking pool, about a
millisecond of a core (docs/benchmarks.md, "Issue 14: the intake path"), more than the call it
lets in when that call is a Ping. So the sign-in desk keeps, per process, the tokens it checked
in full in the last ``RECHECK_MS``: the token's exact text (so its signature was verified once
for these very bytes), its claims, its session row as read, and when the row was read. A call
whose token is held here and whose row is younger than ``RECHECK_MS`` is judged on that row by
the same rule as before (``core.access.sessions.refusal``: signed out, expired, idle), without
leaving the event loop. Anything else, or any refusal, takes the full check, which records.

What ends a session is seen:

* in this process, at once: signing out, new credentials (an officer's, an enterprise user's)
  clear the memory (``forget_all``) after their transaction commits, and a check that read the
  row before that cannot put it back (``epoch``); an officer revoked or moved by a record from
  above leaves the roster, and the desk never answers from memory for an officer not on it;
* in another process serving the same database (several hub processes on one PostgreSQL,
  DESIGN rule 8), within ``RECHECK_MS``: then the row is read again (docs/security.md,
  "Session tokens").

The idle timeout and the lifetime hold as before: they are judged on every call against the
row, and a call that should note the session's last-seen time (``needs_touch``) takes the full
check, which writes it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from core.access.sessions import SessionClaims
from node.access.accounts import SignedIn

RECHECK_MS = 2_000
"""How old a remembered session row may be before it is read again: the bound within which a
sign-out or a revocation done by another process takes effect here."""

MAX_REMEMBERED = 20_000
"""Tokens remembered at most; past it the oldest is forgotten first (a full check brings it
back). Far more sessions than a hub has officers at work, so it only stops a flood of
distinct valid tokens from growing the memory without end."""


@dataclass(frozen=True)
class CheckedSession:
    """One token as its last full check found it."""

    claims: SessionClaims
    signed_in: SignedIn
    """The principal and the session row as read (its last-seen time as written)."""
    read_ms: int
    """Wall time when the row was read."""
    key: object
    """The node's public key the signature was verified under (a rotation forgets it)."""


class CheckedSessions:
    """Tokens checked in full lately, by their text; safe to use from any thread."""

    def __init__(self, recheck_ms: int = RECHECK_MS, max_remembered: int = MAX_REMEMBERED) -> None:
        self.recheck_ms = recheck_ms
        self._max = max_remembered
        self._by_token: dict[str, CheckedSession] = {}
        self._lock = threading.Lock()
        self.epoch = 0
        """Bumped by every ``forget_all``: a full check that began before it keeps nothing."""

    def __len__(self) -> int:
        return len(self._by_token)

    def recent(self, token: str, now_ms: int, key: object) -> CheckedSession | None:
        """What the last full check of ``token`` found, if it is recent enough to answer from
        and was verified under ``key``; None otherwise."""
        found = self._by_token.get(token)
        if found is None or found.key is not key or now_ms - found.read_ms >= self.recheck_ms:
            return None
        if now_ms < found.read_ms:
            return None  # the wall clock went back: read the row again rather than trust it
        return found

    def keep(self, token: str, checked: CheckedSession, epoch: int) -> None:
        """Remember a full check that began at ``epoch`` (unless a session ended since)."""
        with self._lock:
            if epoch != self.epoch:
                return
            self._by_token.pop(token, None)  # re-inserted last: the dict stays oldest first
            self._by_token[token] = checked
            while len(self._by_token) > self._max:
                del self._by_token[next(iter(self._by_token))]

    def drop(self, token: str) -> None:
        """Forget one token (its check just failed)."""
        with self._lock:
            self._by_token.pop(token, None)

    def forget_all(self) -> None:
        """Forget every token: a session ended in this process. Sessions end rarely (a
        sign-out a shift), so forgetting all costs each active officer one full check."""
        with self._lock:
            self.epoch += 1
            self._by_token.clear()
