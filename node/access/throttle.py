"""The node's memory of recent sign-in tries: token buckets per caller address and per account.

The rules are ``core.access.throttle``'s; this keeps the buckets, in memory, for the sign-in
desk, which asks ``admit`` before it looks at a password or a code and records the bursts this
hands back. In memory on purpose: a refused try must cost the node nothing but a dictionary
look-up (no database row, no hashing), and the buckets need not outlive the process (a node
restarted has forgotten them; so has a guesser's quota, for one burst). Several processes of one
hub each keep their own, so a caller reaching several gets the limit of each.

Bounded: at most ``max_entries`` keys of each kind; the least recently seen is forgotten first
(its burst handed back to be recorded), and keys whose bucket is full again are forgotten as
they are met, so a flood from many addresses or on many ids cannot grow the node's memory.
Used from the event loop's thread only (no lock).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from itertools import islice

from core.access.throttle import (
    Bucket,
    BucketRule,
    Burst,
    SignInLimits,
    ended_burst,
    full_bucket,
    give_back,
    take,
)

KEY_LENGTH = 80
"""Most characters of a key kept (an account label is at most 72: ``enterprise:`` + 18 + 1 +
32; an officer id 32): 10,000 keys of each kind stay within a few megabytes."""

SWEEP_AT_ONCE = 32
"""Oldest keys looked at per try to be forgotten when full."""


@dataclass(frozen=True)
class Key:
    """What a bucket counts: ``address`` (a caller's host) or ``account`` (an account's label)."""

    kind: str
    value: str


@dataclass(frozen=True)
class EndedBurst:
    """A burst of refused tries of one key, to be recorded as one row."""

    key: Key
    burst: Burst


@dataclass(frozen=True)
class Admission:
    """The answer to a try: admitted or not (and when to retry), and bursts to record now."""

    admitted: bool
    retry_after_ms: int = 0
    refused_by: Key | None = None
    ended: tuple[EndedBurst, ...] = ()


@dataclass
class _Buckets:
    rule: BucketRule
    entries: OrderedDict[str, Bucket] = field(default_factory=OrderedDict)


def address_of(peer: str) -> str:
    """The caller's host from a gRPC peer (``ipv4:10.0.0.7:51234`` -> ``ipv4:10.0.0.7``): each
    connection has a port of its own, the limit is per machine."""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return f"{kind}:{rest.rpartition(':')[0] or rest}"
    return peer


class SignInThrottle:
    """Token buckets of recent sign-in tries, per caller address and per account."""

    def __init__(self, limits: SignInLimits) -> None:
        self.limits = limits
        self._kinds = {
            "address": _Buckets(limits.per_address),
            "account": _Buckets(limits.per_account),
        }

    def keys(self, peer: str, account: str) -> tuple[Key, Key]:
        """The two keys of a try from ``peer`` on ``account`` (its access-record label)."""
        # Cut: a key is kept in memory, and a caller chooses what it names (an id nobody has).
        return Key("address", address_of(peer)[:KEY_LENGTH]), Key("account", account[:KEY_LENGTH])

    def _bucket(self, key: Key, now_ms: int) -> Bucket:
        kind = self._kinds[key.kind]
        return kind.entries.get(key.value) or full_bucket(kind.rule, now_ms)

    def _keep(self, key: Key, bucket: Bucket, ended: list[EndedBurst], now_ms: int) -> None:
        kind = self._kinds[key.kind]
        kind.entries[key.value] = bucket
        kind.entries.move_to_end(key.value)
        while len(kind.entries) > self.limits.max_entries:
            value, old = kind.entries.popitem(last=False)
            if old.burst is not None:
                ended.append(EndedBurst(Key(key.kind, value), old.burst))

    def admit(self, keys: tuple[Key, ...], now_ms: int) -> Admission:
        """Take a token from each key's bucket; refused when any is empty (then nothing is taken
        from the others: only the empty buckets count the refusal)."""
        ended = self._sweep(now_ms)
        takes = [
            (key, take(self._bucket(key, now_ms), self._kinds[key.kind].rule, now_ms))
            for key in keys
        ]
        refused = [(key, t) for key, t in takes if not t.admitted]
        for key, t in refused or takes:
            self._keep(key, t.bucket, ended, now_ms)
            if t.ended is not None:
                ended.append(EndedBurst(key, t.ended))
        if not refused:
            return Admission(True, ended=tuple(ended))
        key, worst = max(refused, key=lambda kt: kt[1].retry_after_ms)
        return Admission(False, worst.retry_after_ms, key, tuple(ended))

    def succeeded(self, keys: tuple[Key, ...], now_ms: int) -> None:
        """A try that was admitted succeeded: its tokens go back."""
        for key in keys:
            kind = self._kinds[key.kind]
            bucket = kind.entries.get(key.value)
            if bucket is not None:
                kind.entries[key.value] = give_back(bucket, kind.rule, now_ms)

    def _sweep(self, now_ms: int) -> list[EndedBurst]:
        """Forget the oldest keys whose buckets are full again; their bursts have ended."""
        ended: list[EndedBurst] = []
        for name, kind in self._kinds.items():
            for value in list(islice(kind.entries, SWEEP_AT_ONCE)):
                bucket = kind.entries[value]
                if not bucket.full(kind.rule, now_ms):
                    break
                burst = ended_burst(bucket, kind.rule, now_ms)
                if burst is not None:
                    ended.append(EndedBurst(Key(name, value), burst))
                del kind.entries[value]
        return ended

    def drain(self) -> list[EndedBurst]:
        """Every burst not yet recorded, handed over to be recorded now (at the node's stop);
        the buckets keep their tokens and count anew."""
        drained: list[EndedBurst] = []
        for name, kind in self._kinds.items():
            for value, bucket in kind.entries.items():
                if bucket.burst is not None:
                    drained.append(EndedBurst(Key(name, value), bucket.burst))
                    kind.entries[value] = replace(bucket, burst=None)
        return drained

    def remembered(self) -> int:
        """Keys held now, of both kinds."""
        return sum(len(k.entries) for k in self._kinds.values())
