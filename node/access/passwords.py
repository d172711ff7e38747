"""Officers' passwords, stored as Argon2id hashes (RFC 9106), never in clear.

Parameters: Argon2id, 19 MiB of memory, 2 passes, 1 lane, 16-byte random salt, 32-byte hash:
the first configuration of the OWASP Password Storage Cheat Sheet. About 50 ms a hash on the
two-core machine the suite runs on, so a county laptop signs its officers in without a wait,
while a guesser holding a copy of the database pays 19 MiB and 50 ms for every guess. The
parameters travel inside each stored hash (PHC string format), so raising them later needs no
migration: a hash made with weaker ones is re-made at the officer's next sign-in
(``needs_rehash``).

Hashing is CPU- and memory-heavy by design: callers run it on the node's blocking pool, and the
sign-in desk lets only a few run at once (``node.access.desk``). The memory is a node setting
(``PasswordHashing``), lowered only where the tests and the demo ask for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MEMORY_KIB = 19 * 1024
"""Memory per hash, KiB (19 MiB): the OWASP configuration, every node's default."""
LEAST_MEMORY_KIB = 8
"""The least memory Argon2 takes with one lane (8 KiB a lane)."""
TIME_COST = 2
"""Passes over the memory."""
PARALLELISM = 1
"""Lanes (threads) per hash."""


@dataclass(frozen=True)
class PasswordHashing:
    """How a node hashes and checks officers' passwords: Argon2id with ``memory_kib`` of memory.

    Every node runs with ``MEMORY_KIB`` (the OWASP configuration) unless its settings say
    otherwise (``password_hash_memory_kib``): only the tests and the demo ask for less, to
    provision dozens of officers in a few milliseconds instead of seconds; a node running with
    less warns at its start (docs/security.md, "Passwords: Argon2id").
    """

    memory_kib: int = MEMORY_KIB

    @cached_property
    def _hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=TIME_COST,
            memory_cost=self.memory_kib,
            parallelism=PARALLELISM,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash checked against when the officer named has none, so that "no such officer"
        takes as long as "wrong password" and the time of a refusal does not tell which (made
        once, on first need)."""
        return self._hasher.hash(
            "a password no officer has; checked when the officer does not exist"
        )

    @property
    def below_default(self) -> bool:
        """True when this costs a guesser less than the OWASP configuration."""
        return self.memory_kib < MEMORY_KIB

    def hash_password(self, password: str) -> str:
        """The Argon2id hash of ``password`` (PHC string, salt and parameters included)."""
        return self._hasher.hash(password)

    def password_matches(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` is the one ``stored_hash`` was made from (by the parameters
        inside the hash, whatever this node's are today)."""
        try:
            return bool(self._hasher.verify(stored_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def spend_time_as_if_checking(self, password: str) -> None:
        """Check ``password`` against a hash no password matches, only to take the same time."""
        self.password_matches(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when ``stored_hash`` was made with other parameters than this node's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


DEFAULT_HASHING = PasswordHashing()
"""The OWASP configuration: what ``hotline officers init-admin`` and every node use by default."""
