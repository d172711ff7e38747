"""The node's sign-in rules: how many wrong tries lock an account, for how long, and how long a
session lasts. Numbers only; the node reads them from its settings (``node.app.settings``).

Defaults follow what an assessor of 等保 2.0 level 3 (GB/T 22239-2019, 8.1.4.1 身份鉴别) asks for
and what the bureau's offices live with: five wrong tries lock the account for fifteen minutes;
a session ends after thirty minutes without a call (an officer who walks away from the desk)
and in any case eight hours after sign-in (a shift).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput

MINUTE_MS = 60_000


@dataclass(frozen=True)
class SignInPolicy:
    """Lockout and session lifetimes of one node, in milliseconds of real time."""

    max_failures: int = 5
    """Wrong tries in a row (password or code) that lock the account."""
    lockout_ms: int = 15 * MINUTE_MS
    """How long a locked account stays locked."""
    idle_ms: int = 30 * MINUTE_MS
    """A session with no call for this long has ended."""
    lifetime_ms: int = 8 * 60 * MINUTE_MS
    """A session ends this long after sign-in, however busy."""

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise InvalidInput("max_failures", "must be at least 1")
        for name in ("lockout_ms", "idle_ms", "lifetime_ms"):
            if getattr(self, name) <= 0:
                raise InvalidInput(name, "must be positive")
        if self.idle_ms > self.lifetime_ms:
            raise InvalidInput("idle_ms", "is longer than the session's whole lifetime")

    @property
    def touch_ms(self) -> int:
        """How stale a session's last-seen time may get before a call writes it again.

        Writing it on every call would put a database write on every read; a session seen
        less than a minute (or a quarter of the idle time, if shorter) ago is not rewritten,
        so the idle timeout holds to within that much.
        """
        return min(MINUTE_MS, self.idle_ms // 4)
