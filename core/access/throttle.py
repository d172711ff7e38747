"""Limits on how fast one caller may try to sign in (尝试频率限制): token buckets and bursts.

Issue 11, item 7. A lockout (``core.access.lockout``) protects one account; it does not stop a
guesser who tries one password on many officer ids (each account locks, every refusal writes a
row), nor one who tries a ticket's code from many addresses. So each sign-in, of an officer, an
enterprise user or a consumer, first takes a token from two buckets: its caller's address's and
its account's (the officer, the enterprise user, the ticket). An empty bucket refuses the try
before anything is checked, with the time until it holds a token again.

A bucket holds up to ``burst`` tokens and gains ``per_minute`` a minute. A sign-in that succeeds
gives its tokens back: an officer who types their password right is never held back, however
often they sign in; only wrong tries use a bucket up.

Refused tries are counted, not recorded one by one: the refusals of one key in a row form a
**burst**, and the burst is one row of the access record, with its count, written when it ends
(the key's next admitted try, or when its bucket is full again) or when it has lasted
``BURST_ROW_MS`` (a flood that goes on writes one row a minute). Pure: the time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.errors import InvalidInput

MINUTE_MS = 60_000
BURST_ROW_MS = MINUTE_MS
"""A burst lasting this long is recorded and counted again from zero."""


@dataclass(frozen=True)
class BucketRule:
    """How many tries a key may make at once, and how fast it may make more."""

    burst: int
    """Tokens a full bucket holds: tries allowed in a row."""
    per_minute: float
    """Tokens gained a minute."""

    def __post_init__(self) -> None:
        if self.burst < 1:
            raise InvalidInput("burst", "must be at least 1")
        if not self.per_minute > 0:
            raise InvalidInput("per_minute", "must be positive")

    @property
    def ms_per_token(self) -> float:
        """Milliseconds to gain one token."""
        return MINUTE_MS / self.per_minute


@dataclass(frozen=True)
class Burst:
    """Refused tries of one key in a row, not yet recorded."""

    refused: int
    first_ms: int
    last_ms: int


@dataclass(frozen=True)
class Bucket:
    """What the node keeps of one key: its tokens at an instant, and its burst if any."""

    tokens: float
    at_ms: int
    burst: Burst | None = None

    def level(self, rule: BucketRule, now_ms: int) -> float:
        """Tokens at ``now_ms`` (never more than ``burst``)."""
        gained = max(0, now_ms - self.at_ms) / rule.ms_per_token
        return min(float(rule.burst), self.tokens + gained)

    def full(self, rule: BucketRule, now_ms: int) -> bool:
        """True when the bucket is full again (the key may be forgotten, once its burst is
        recorded)."""
        return self.level(rule, now_ms) >= rule.burst


def full_bucket(rule: BucketRule, now_ms: int) -> Bucket:
    """A key never seen: a full bucket."""
    return Bucket(float(rule.burst), now_ms)


@dataclass(frozen=True)
class Take:
    """What one try did to a bucket."""

    bucket: Bucket
    admitted: bool
    retry_after_ms: int
    """When refused: milliseconds until the bucket holds a token."""
    ended: Burst | None
    """A burst that this try ended, or that lasted ``BURST_ROW_MS``: to be recorded now."""


def take(bucket: Bucket, rule: BucketRule, now_ms: int) -> Take:
    """Take a token for a try at ``now_ms``: admitted when there was one, else refused."""
    tokens = bucket.level(rule, now_ms)
    if tokens >= 1:
        return Take(Bucket(tokens - 1, now_ms), True, 0, bucket.burst)
    retry = max(1, round((1 - tokens) * rule.ms_per_token))
    burst = bucket.burst
    if burst is not None and now_ms - burst.first_ms >= BURST_ROW_MS:
        return Take(Bucket(tokens, now_ms, Burst(1, now_ms, now_ms)), False, retry, burst)
    counted = (
        Burst(1, now_ms, now_ms)
        if burst is None
        else replace(burst, refused=burst.refused + 1, last_ms=now_ms)
    )
    return Take(Bucket(tokens, now_ms, counted), False, retry, None)


def give_back(bucket: Bucket, rule: BucketRule, now_ms: int) -> Bucket:
    """Return the token of a try that succeeded (a right password costs nothing)."""
    return replace(
        bucket, tokens=min(float(rule.burst), bucket.level(rule, now_ms) + 1), at_ms=now_ms
    )


def ended_burst(bucket: Bucket, rule: BucketRule, now_ms: int) -> Burst | None:
    """The bucket's burst when it has ended by itself (the bucket is full again), else None."""
    if bucket.burst is not None and bucket.full(rule, now_ms):
        return bucket.burst
    return None


@dataclass(frozen=True)
class SignInLimits:
    """A node's limits on sign-in tries (docs/security.md, "Rate limits")."""

    per_address: BucketRule = BucketRule(burst=20, per_minute=10)
    """Tries from one caller address (its host, whatever its port)."""
    per_account: BucketRule = BucketRule(burst=10, per_minute=2)
    """Tries on one account: an officer, an enterprise user, a ticket's consumer code."""
    max_entries: int = 10_000
    """Keys the node remembers per kind; beyond it, the least recently seen is forgotten (its
    burst recorded first), so a flood from many addresses cannot grow the node's memory."""

    def __post_init__(self) -> None:
        if self.max_entries < 1:
            raise InvalidInput("max_entries", "must be at least 1")
