"""Visitors' sessions on the web front: the node's session token stays on the server.

A visitor's browser holds only a random session id in a cookie (HttpOnly, SameSite=Strict,
Secure when the front is served over TLS); the node's bearer token, whom it stands for and the
CSRF token every POST form must echo live here, in memory. A visitor gets a session on their
first page (so even the sign-in and filing forms carry a CSRF token); signing in replaces it
with a new one (no fixation), signing out drops it after ending the node's session.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "hotline_web"
"""The name of the cookie holding the visitor's session id."""

MAX_SESSIONS = 10_000
"""Sessions kept at most; the oldest are forgotten first (the node's own session ends anyway)."""

IDLE_SECONDS = 4 * 3600.0
"""A visitor unseen this long is forgotten (the node ends an idle session sooner anyway)."""


@dataclass
class Visitor:
    """One browser's session: who signed in (if anyone) and the node token that proves it.

    ``principal`` is the node's: "enterprise", "consumer", "officer", or "" before sign-in.
    """

    session_id: str
    csrf: str
    node_token: str = ""
    principal: str = ""
    display_name: str = ""
    credit_code: str = ""
    ticket_id: str = ""
    unit_code: str = ""
    flash: list[str] = field(default_factory=list)
    seen: float = 0.0
    """When the visitor was last seen (the book's clock, seconds)."""

    @property
    def signed_in(self) -> bool:
        """True once a sign-in gave this visitor a node session."""
        return bool(self.node_token)


class VisitorBook:
    """The sessions of the web front's visitors, by session id."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._visitors: dict[str, Visitor] = {}
        self._clock = clock

    def new(self) -> Visitor:
        """A fresh anonymous visitor with its own CSRF token."""
        while len(self._visitors) >= MAX_SESSIONS:
            self._visitors.pop(next(iter(self._visitors)))
        visitor = Visitor(secrets.token_urlsafe(32), secrets.token_urlsafe(32), seen=self._clock())
        self._visitors[visitor.session_id] = visitor
        return visitor

    def find(self, session_id: str | None) -> Visitor | None:
        """The visitor of ``session_id``, or None when unknown, forgotten or idle too long."""
        visitor = self._visitors.get(session_id or "")
        now = self._clock()
        if visitor is None or now - visitor.seen > IDLE_SECONDS:
            if visitor is not None:
                self.drop(visitor)
            return None
        # Kept in order of last use, so that the oldest are the first forgotten.
        self._visitors.pop(visitor.session_id)
        self._visitors[visitor.session_id] = visitor
        visitor.seen = now
        return visitor

    def drop(self, visitor: Visitor) -> None:
        """Forget ``visitor`` (sign-out, or a sign-in replacing it)."""
        self._visitors.pop(visitor.session_id, None)

    def __len__(self) -> int:
        return len(self._visitors)
