"""Whether an officer may try to sign in now, and what a right or a wrong try changes.

An account's guard counts wrong tries in a row; the ``max_failures``-th locks the account for
``lockout_ms`` and starts the count again. While locked, a try is refused without looking at
the password or code, so a locked account tells a guesser nothing, and a refused try does not
extend the lock (an attacker cannot keep an officer out for longer than one lockout per
``max_failures`` guesses; a security administrator can end a lock at once by setting new
credentials). A right try clears the count and spends the code's step (RFC 6238 §5.2): the
same code, or one of an earlier step, is refused afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.access.policy import SignInPolicy
from core.access.reasons import SignInRefusal


@dataclass(frozen=True)
class AccountGuard:
    """What the node keeps of an officer's recent tries."""

    failures: int = 0
    """Wrong tries since the last right one or the last lock."""
    locked_until_ms: int = 0
    """When the current lock ends (0: never locked)."""
    last_code_step: int = 0
    """The TOTP step of the last code accepted; codes of this step or earlier are spent."""

    def locked(self, now_ms: int) -> bool:
        """True while a lock holds."""
        return now_ms < self.locked_until_ms

    def code_spent(self, step: int) -> bool:
        """True when a code of ``step`` may no longer be used (it or a later one was)."""
        return step <= self.last_code_step


@dataclass(frozen=True)
class AfterFailure:
    """A wrong try's result: the new guard, and whether this try locked the account."""

    guard: AccountGuard
    locked_now: bool


def after_failure(guard: AccountGuard, now_ms: int, policy: SignInPolicy) -> AfterFailure:
    """Count a wrong try; the ``max_failures``-th locks the account until ``now + lockout``."""
    failures = guard.failures + 1
    if failures >= policy.max_failures:
        return AfterFailure(
            replace(guard, failures=0, locked_until_ms=now_ms + policy.lockout_ms), True
        )
    return AfterFailure(replace(guard, failures=failures), False)


def after_success(guard: AccountGuard, step: int) -> AccountGuard:
    """A right try: the count starts again and the code's step is spent."""
    return AccountGuard(
        failures=0, locked_until_ms=0, last_code_step=max(step, guard.last_code_step)
    )


def judge_try(
    guard: AccountGuard, now_ms: int, *, password_ok: bool, code_step: int | None
) -> SignInRefusal | None:
    """Why a try is refused, or None when it signs the officer in.

    ``code_step`` is the step whose code matched (None: no step within the window did). A
    locked account is refused before anything else is looked at; then the password, the code,
    and whether its step was spent.
    """
    if guard.locked(now_ms):
        return SignInRefusal.LOCKED
    if not password_ok:
        return SignInRefusal.WRONG_PASSWORD
    if code_step is None:
        return SignInRefusal.WRONG_CODE
    if guard.code_spent(code_step):
        return SignInRefusal.SPENT_CODE
    return None
