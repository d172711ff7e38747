"""Officers' passwords, stored as Argon2id hashes (RFC 9106), never in clear.

Parameters: Argon2id, 19 MiB of memory, 2 passes, 1 lane, 16-byte random salt, 32-byte hash:
the first configuration of the OWASP Password Storage Cheat Sheet. About 50 ms a hash on the
two-core machine the suite runs on, so a county laptop signs its officers in without a wait,
while a guesser holding a copy of the database pays 19 MiB and 50 ms for every guess. The
parameters travel inside each stored hash (PHC string format), so raising them later needs no
migration: a hash made with weaker ones is re-made at the officer's next sign-in
(``needs_rehash``).

Hashing is CPU- and memory-heavy by design: callers run it on the node's blocking pool, and the
sign-in desk lets only a few run at once (``node.access.desk``).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MEMORY_KIB = 19 * 1024
"""Memory per hash, KiB (19 MiB)."""
TIME_COST = 2
"""Passes over the memory."""
PARALLELISM = 1
"""Lanes (threads) per hash."""

_HASHER = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)


@cache
def _dummy_hash() -> str:
    """A hash checked against when the officer named has none, so that "no such officer" takes
    as long as "wrong password" and the time of a refusal does not tell which (made once, on
    first need)."""
    return _HASHER.hash("a password no officer has; checked when the officer does not exist")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (PHC string, salt and parameters included)."""
    return _HASHER.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """True when ``password`` is the one ``stored_hash`` was made from."""
    try:
        return bool(_HASHER.verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def spend_time_as_if_checking(password: str) -> None:
    """Check ``password`` against a hash no password matches, only to take the same time."""
    password_matches(_dummy_hash(), password)


def needs_rehash(stored_hash: str) -> bool:
    """True when ``stored_hash`` was made with other parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
