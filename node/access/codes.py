"""Consumers' verification codes: issued at registration, kept as a keyed hash, checked at
sign-in (issue 11, item 5; docs/security.md, "Consumer access").

**Why a keyed hash (HMAC-SHA-256 under a key of the node) and not Argon2id.** A code has 40
bits (``core.access.consumer_codes``): a plain or salted hash of it is undone by trying every
code, about a million million hashes, minutes on one graphics card. Two ways out: a slow hash
(Argon2id, as for passwords), or a key the database does not hold. Argon2id at the passwords'
parameters costs about 30 ms of a core per registration, and registering is the node's hot path
(``loadtest/intake_bench.py``); at cheap parameters (5 ms) a copied database still gives up a
code to a card in days. A key kept in the node's data folder (``consumer-code.key``, 32 random
bytes, mode 0600, beside the node's private key and never in the database) makes a copy of the
database worth nothing for codes, whatever the hardware, and costs a microsecond. Whoever holds
the data folder as well holds the node's key and its database, so the tickets themselves: the
code protects nothing more from them. Online, guessing is what the rate limits and the
per-ticket lock stop (``node.access.throttle``, ``core.access.lockout``).

The hash covers the ticket's id with the code, so a code is good for its own ticket only, and a
hash copied onto another ticket's row matches nothing. Compared with ``hmac.compare_digest``;
a ticket without a code is compared against a dummy hash, so the time of a refusal does not
say whether the ticket has a code here.

The key is made at the node's first start and kept; rotating the node's keys
(``hotline pki rotate``) does not touch it, so codes outlive a rotation. Losing it loses every
code: a consumer then asks the registering unit, which issues none anew yet (docs, "Not yet").
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select, update

from core.access import consumer_codes
from core.access.lockout import AccountGuard
from node.storage.tables import consumer_codes as consumer_codes_table

KEY_FILE = "consumer-code.key"
"""The key's file in the node's data folder."""
KEY_BYTES = 32
CONTEXT = b"hotline.v1.consumer-code\x00"
"""Prefix of what the HMAC covers: the key serves this and nothing else."""


def load_or_create_key(data_dir: Path, file_name: str = KEY_FILE, what: str = "") -> bytes:
    """A key of the node's data folder (the consumer-code key unless ``file_name`` names
    another), made (mode 0600, written once) when the folder has none."""
    path = data_dir / file_name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"{path}: not a {what or 'consumer-code key'} ({len(key)} bytes)"
            ) from None
        return key
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "wb") as file:
        file.write(key)
        file.flush()
        os.fsync(file.fileno())
    return key


@dataclass(frozen=True)
class CodeKey:
    """The node's consumer-code key: hashes and checks codes."""

    key: bytes

    @property
    def key_id(self) -> str:
        """A short digest of the key, kept beside each hash (a replaced key is then noticed)."""
        return hashlib.sha256(b"key-id\x00" + self.key).hexdigest()[:16]

    def new_code(self) -> str:
        """A fresh code, from the operating system's random source."""
        return consumer_codes.code_from(secrets.token_bytes(consumer_codes.RANDOM_BYTES))

    def hash(self, ticket_id: str, code: str) -> str:
        """The stored form of ``code`` for ``ticket_id``: HMAC-SHA-256, hex."""
        message = CONTEXT + ticket_id.encode("utf-8") + b"\x00" + code.encode("ascii")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def matches(self, stored_hash: str | None, ticket_id: str, code: str) -> bool:
        """True when ``code`` is the one ``stored_hash`` was made of, for ``ticket_id``; a
        missing hash is compared too (against one no code has), in the same time."""
        expected = stored_hash if stored_hash is not None else "0" * 64
        found = hmac.compare_digest(self.hash(ticket_id, code), expected)
        return found and stored_hash is not None


@dataclass(frozen=True)
class StoredCode:
    """A ticket's code as kept: its hash, the key that made it, and its guard."""

    ticket_id: str
    code_hash: str
    key_id: str
    guard: AccountGuard


def code_row(conn: Connection, ticket_id: str, *, for_update: bool = False) -> StoredCode | None:
    """The ticket's consumer code row, or None when the ticket has none here."""
    query = select(consumer_codes_table).where(consumer_codes_table.c.ticket_id == ticket_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    return StoredCode(
        row.ticket_id, row.code_hash, row.key_id, AccountGuard(row.failures, row.locked_until_ms)
    )


def save_guard(conn: Connection, ticket_id: str, guard: AccountGuard) -> None:
    """Write the ticket's wrong-code count and lock after a try."""
    conn.execute(
        update(consumer_codes_table)
        .where(consumer_codes_table.c.ticket_id == ticket_id)
        .values(failures=guard.failures, locked_until_ms=guard.locked_until_ms)
    )
