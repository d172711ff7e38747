"""The province's look-up keys (关联键密钥) as a node keeps them: files of its key folder.

Personal fields are sealed with a key per ticket, so they cannot be searched; "the tickets of
this phone number" are found through a keyed digest of the number (HMAC under the suite's
hash) made with the province's look-up key. Every node of a province must make the same
digests, so the province node makes the key (``create``: at its first rule book, and each
time ``hotline rules rotate-lookup-key`` publishes a new one), names it in its rule book, and
each parent hands its children the keys they lack in a replication round's Hello
(``sync.lookup_key_exchange``), over the nodes' mutual TLS only. Old keys are kept: digests
made under them stay findable until every node has re-keyed its look-ups.

Where: ``<data-dir>/keys/lookup-<key id>.key``, one file per key, mode 0600 in a 0700 folder,
never in the database (a copy of the database then finds nobody). The folder is shared with the
node's key-encryption keys (``kek-`` files, ``node.keys``): this store reads and writes only
its own ``lookup-`` files. A file is written once, atomically (created exclusively under a
temporary name, synced, then renamed), so a crash leaves either the whole key or none.
Reading happens once, at ``open``; afterwards the store answers from memory, so a parent's
Hello never waits on the disk.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from core.deadlines.china_time import china_date
from core.deadlines.rulebook import check_lookup_key_id, check_personal_suite
from core.errors import InvalidInput
from sync.identity import IdentityError

KEYS_FOLDER = "keys"
"""The key folder, inside the node's data folder."""
KEY_BYTES = 32
"""Random bytes of a look-up key (HMAC-SHA-256 and HMAC-SM3 both take 32)."""
PREFIX = "lookup-"
SUFFIX = ".key"
RECORD_FORMAT = "hotline.v1.lookup-key"
"""What a key file says it is, so that another JSON file dropped there is not taken as a key."""
TEMPORARY = ".lookup-"
"""Prefix of a file being written (``.lookup-<id>.<random>.tmp``); a left-over one is removed."""


@dataclass(frozen=True)
class StoredLookupKey:
    """One look-up key as kept here; its ``repr`` never shows the key material."""

    key_id: str
    suite: str
    key: bytes = field(repr=False)
    created_ms: int
    """When this node made or received it (wall clock, Unix ms)."""
    order: int = 0
    """Its place in this store: keys are kept, and handed down, in the order they came."""


class LookupKeyStore:
    """The look-up keys of a node's key folder, oldest first."""

    def __init__(self, folder: Path, keys: list[StoredLookupKey]) -> None:
        self._folder = folder
        self._keys = sorted(keys, key=lambda k: (k.order, k.key_id))
        self._by_id = {k.key_id: k for k in self._keys}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: Path) -> LookupKeyStore:
        """The keys kept in ``folder`` (made, mode 0700, when missing); an unreadable key file
        stops the node (``IdentityError``) rather than letting it make digests nobody else makes."""
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        keys = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(TEMPORARY) and path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)  # a write a crash interrupted: never renamed
            elif path.name.startswith(PREFIX) and path.name.endswith(SUFFIX):
                keys.append(_read(path))
        return cls(folder, keys)

    @property
    def folder(self) -> Path:
        """Where the key files are."""
        return self._folder

    def create(self, suite: str, now_ms: int) -> StoredLookupKey:
        """A new random key for ``suite``, kept; its id is ``L``, the China date and 6 hex."""
        check_personal_suite(suite, "suite")
        day = china_date(now_ms).strftime("%Y%m%d")
        while True:
            key_id = f"L{day}{secrets.token_hex(3)}"
            if key_id not in self._by_id:
                break
        return self._keep(key_id, suite, secrets.token_bytes(KEY_BYTES), now_ms)

    def add(self, key_id: str, suite: str, key: bytes, now_ms: int) -> StoredLookupKey:
        """Keep a key handed down by the parent; a key already held is kept as it was.

        A different key, or suite, under an id already held is refused (``InvalidInput``):
        two nodes would make different digests under one name.
        """
        check_lookup_key_id(key_id, "lookup_key.key_id")
        check_personal_suite(suite, "lookup_key.suite")
        if len(key) != KEY_BYTES:
            raise InvalidInput("lookup_key.key", f"must be {KEY_BYTES} bytes, not {len(key)}")
        return self._keep(key_id, suite, key, now_ms)

    def get(self, key_id: str) -> StoredLookupKey | None:
        """The key ``key_id``, if kept here."""
        return self._by_id.get(key_id)

    def all(self) -> list[StoredLookupKey]:
        """Every key kept here, oldest first."""
        return list(self._keys)

    def newest_id(self) -> str:
        """The id of the newest key kept here ("" when none)."""
        keys = self._keys
        return keys[-1].key_id if keys else ""

    def missing_after(self, key_id: str) -> list[StoredLookupKey]:
        """What a child holding ``key_id`` as its newest key lacks: the keys that came after it
        here, or every key when ``key_id`` is empty or unknown here."""
        keys = self._keys
        for i, key in enumerate(keys):
            if key.key_id == key_id:
                return keys[i + 1 :]
        return list(keys)

    def _keep(self, key_id: str, suite: str, key: bytes, now_ms: int) -> StoredLookupKey:
        with self._lock:
            held = self._by_id.get(key_id)
            if held is not None:
                if held.key != key or held.suite != suite:
                    raise InvalidInput(
                        "lookup_key.key", f"a different key is already kept under {key_id}"
                    )
                return held
            order = self._keys[-1].order + 1 if self._keys else 1
            stored = StoredLookupKey(key_id, suite, key, now_ms, order)
            _write(self._folder, stored)
            # Replace, not append: readers on other threads see the old list or the new one.
            self._keys = [*self._keys, stored]
            self._by_id = {**self._by_id, key_id: stored}
            return stored


def _path(folder: Path, key_id: str) -> Path:
    return folder / f"{PREFIX}{key_id}{SUFFIX}"


def _write(folder: Path, stored: StoredLookupKey) -> None:
    """The key's file, written whole or not at all (0600; exclusive temporary, then rename)."""
    text = json.dumps(
        {
            "format": RECORD_FORMAT,
            "key_id": stored.key_id,
            "suite": stored.suite,
            "created_ms": stored.created_ms,
            "order": stored.order,
            "key": base64.b64encode(stored.key).decode("ascii"),
        }
    )
    temporary = folder / f"{TEMPORARY}{stored.key_id}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # exactly, whatever the umask
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.rename(temporary, _path(folder, stored.key_id))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def _read(path: Path) -> StoredLookupKey:
    """One key file; ``IdentityError`` naming the file when it is not one of ours or others
    may read it."""
    try:
        status = path.lstat()
        if not stat.S_ISREG(status.st_mode):
            raise IdentityError(f"{path}: not a regular file (a link?); a key must be itself")
        if status.st_mode & 0o077:
            raise IdentityError(f"{path}: readable by others; make it mode 0600 (chmod 600)")
        data = json.loads(path.read_text(encoding="ascii"))
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            raise ValueError(f"format is not {RECORD_FORMAT}")
        stored = StoredLookupKey(
            key_id=check_lookup_key_id(str(data["key_id"]), "key_id"),
            suite=check_personal_suite(str(data["suite"]), "suite"),
            key=base64.b64decode(data["key"], validate=True),
            created_ms=int(data["created_ms"]),
            order=int(data["order"]),
        )
    except (OSError, ValueError, KeyError, TypeError, InvalidInput) as exc:
        raise IdentityError(f"{path}: not a readable look-up key ({exc})") from None
    if path.name != f"{PREFIX}{stored.key_id}{SUFFIX}" or len(stored.key) != KEY_BYTES:
        raise IdentityError(f"{path}: not a look-up key of this store (name or length)")
    return stored
