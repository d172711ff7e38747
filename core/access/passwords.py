"""What makes a password acceptable for an officer's account (口令复杂度).

GB/T 22239-2019 (8.1.4.1 a) asks that passwords be complex and changed; the bureau's rule is
the usual one: at least ten characters of at least three kinds (lower case, upper case, digits,
anything else, Chinese characters counting as "anything else"). At most 256 characters, so a
caller cannot make the node hash a megabyte. The hashing itself (Argon2id) is not pure and
lives with the node (``node.access.passwords``).
"""

from __future__ import annotations

from core.errors import InvalidInput

MIN_LENGTH = 10
"""Fewest characters of an acceptable password."""
MAX_LENGTH = 256
"""Most characters the node will hash."""
MIN_KINDS = 3
"""Fewest kinds of characters (lower, upper, digit, other) it must mix."""


def kinds_of(password: str) -> int:
    """How many of the four kinds of characters ``password`` uses."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not (c.isascii() and c.isalnum()) for c in password),
        )
    )


def check_password(password: str, *, field: str = "password") -> None:
    """Refuse (``InvalidInput`` naming ``field``) a password the bureau's rule does not allow."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(field, f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise InvalidInput(field, "must not begin or end with spaces")
    if kinds_of(password) < MIN_KINDS:
        raise InvalidInput(
            field, "must mix at least three of: lower case, upper case, digits, other characters"
        )
