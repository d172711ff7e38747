"""The node's ring of key-encryption keys (密钥加密密钥环), kept in ``<data-dir>/keys/``.

Each ticket's data key is stored wrapped under one of these keys, so they are the node's most
sensitive secret after its signing key, and handled like it: one file per key,
``kek-<id>.key``, mode 0600 in a folder of mode 0700, written whole or not at all (a temporary
file made with ``O_CREAT|O_EXCL``, synced, then renamed into place). A key file that group or
others may read, or that does not parse, is refused by name rather than used.

Exactly one key is *active*: new data keys are wrapped under it. Rotation makes a new active
key and *retires* the old one, which stays so that what it wrapped still opens; re-wrapping
under the new key happens later, in batches, elsewhere, and only then may the old key be
forgotten. A rotation interrupted between its two writes leaves two files marked active: the
newest one is taken as active and the others read as retired, which is what the rotation was
doing.

Errors: an unusable ring is an ``IdentityError`` (the node's own keys are unusable), an
unknown id ``NotFound``, a request the ring cannot honour (forget the active key, a bad suite
label) ``InvalidInput``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import InvalidInput, NotFound
from sync.identity import IdentityError

KEYS_FOLDER = "keys"
"""The ring's folder inside the data folder."""
ACTIVE = "active"
RETIRED = "retired"
RECORD_FORMAT = "hotline.v1.kek"
"""What a key file says it is, so that another JSON file dropped there is not taken as a key."""
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 64
_ID = re.compile(r"k[0-9a-f]{12}")
_SUITE = re.compile(r"[a-z0-9][a-z0-9./_-]{0,63}")
_FILE = re.compile(r"kek-(.+)\.key")


@dataclass(frozen=True)
class Kek:
    """One key-encryption key; its ``repr`` never shows the key bytes (logs and tracebacks)."""

    kek_id: str
    suite: str
    key: bytes = field(repr=False)
    created_ms: int
    retired: bool


def file_name(kek_id: str) -> str:
    """The file a key is kept in: ``kek-<id>.key``."""
    return f"kek-{kek_id}.key"


def check_suite(suite: str) -> str:
    """``suite`` if it is a usable label (``aes-256-gcm/sha-256``); ``InvalidInput`` else."""
    if not _SUITE.fullmatch(suite):
        raise InvalidInput("suite", f"{suite!r} is not a suite label like 'sm4-gcm/sm3'")
    return suite


def check_key_bytes(key_bytes: int) -> int:
    """``key_bytes`` if a key that long makes sense here; ``InvalidInput`` else."""
    if not MIN_KEY_BYTES <= key_bytes <= MAX_KEY_BYTES:
        raise InvalidInput(
            "key_bytes", f"{key_bytes} is not between {MIN_KEY_BYTES} and {MAX_KEY_BYTES}"
        )
    return key_bytes


def _record(kek: Kek) -> bytes:
    """The text of a key's file."""
    return (
        json.dumps(
            {
                "format": RECORD_FORMAT,
                "id": kek.kek_id,
                "suite": kek.suite,
                "created_ms": kek.created_ms,
                "state": RETIRED if kek.retired else ACTIVE,
                "key": kek.key.hex(),
            },
            indent=1,
        )
        + "\n"
    ).encode("ascii")


def parse_record(data: bytes, where: str) -> Kek:
    """A key from its record; ``IdentityError`` naming ``where`` and what is wrong."""
    try:
        record = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise IdentityError(f"{where}: not a key-encryption key record (not JSON)") from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise IdentityError(f"{where}: not a key-encryption key record (format)")
    kek_id, suite, created, state, key = (
        record.get(name) for name in ("id", "suite", "created_ms", "state", "key")
    )
    if not isinstance(kek_id, str) or not _ID.fullmatch(kek_id):
        raise IdentityError(f"{where}: its id {kek_id!r} is not k + 12 hex digits")
    if not isinstance(suite, str) or not _SUITE.fullmatch(suite):
        raise IdentityError(f"{where}: its suite {suite!r} is not a suite label")
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        raise IdentityError(f"{where}: its created_ms {created!r} is not a time")
    if state not in (ACTIVE, RETIRED):
        raise IdentityError(f"{where}: its state {state!r} is neither active nor retired")
    try:
        raw = bytes.fromhex(key) if isinstance(key, str) else b""
    except ValueError:
        raw = b""
    if not MIN_KEY_BYTES <= len(raw) <= MAX_KEY_BYTES:
        raise IdentityError(f"{where}: its key is not {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes hex")
    return Kek(kek_id, suite, raw, created, state == RETIRED)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the file's own fsync does not cover its name)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_kek(folder: Path, kek: Kek, *, replace_existing: bool) -> None:
    """Write ``kek``'s file in ``folder`` atomically, mode 0600.

    A new key is linked into place, which fails if a file of that name exists (a key is
    never silently replaced); a change of state (``replace_existing``) renames over the old
    file, so a crash leaves the old record or the new one, never half of either.
    """
    target = folder / file_name(kek.kek_id)
    temporary = folder / f".{file_name(kek.kek_id)}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as out:
            out.write(_record(kek))
            out.flush()
            os.fsync(out.fileno())
        if replace_existing:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise IdentityError(f"{target} exists already; refusing to replace a key") from None
            finally:
                temporary.unlink(missing_ok=True)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def _make_folder(folder: Path) -> None:
    """The ring's folder, mode 0700, made with the data folder if need be."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask; an existing folder kept its own


def _check_private(path: Path, what: str, mode_wanted: int) -> os.stat_result:
    """``path``'s status if only its owner may use it; ``IdentityError`` naming it else."""
    try:
        status = path.lstat()
    except FileNotFoundError:
        raise IdentityError(f"{path} is missing") from None
    if stat.S_ISLNK(status.st_mode):
        raise IdentityError(f"{path} is a symbolic link; a {what} must be the real thing")
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise IdentityError(
            f"{path} is open to group or others (mode {mode:o}); chmod {mode_wanted:o} it"
        )
    return status


def read_folder(folder: Path) -> list[Kek]:
    """Every key filed in ``folder``, each checked (owner-only, a regular file, parses)."""
    _check_private(folder, "key folder", 0o700)
    keks = []
    for path in sorted(folder.iterdir()):
        match = _FILE.fullmatch(path.name)
        if match is None:
            continue  # a temporary file a crash left, or something that is not ours
        status = _check_private(path, "key file", 0o600)
        if not stat.S_ISREG(status.st_mode):
            raise IdentityError(f"{path} is not a regular file")
        kek = parse_record(path.read_bytes(), str(path))
        if kek.kek_id != match.group(1):
            raise IdentityError(f"{path}: holds key {kek.kek_id}, not the one its name says")
        keks.append(kek)
    return keks


def _newest_first(keks: Iterable[Kek]) -> list[Kek]:
    return sorted(keks, key=lambda k: (k.created_ms, k.kek_id), reverse=True)


def new_kek_id(taken: Iterable[str]) -> str:
    """A fresh id, ``k`` and 12 random hex digits, none of ``taken``."""
    used = set(taken)
    while True:
        kek_id = "k" + secrets.token_hex(6)
        if kek_id not in used:
            return kek_id


def new_kek(suite: str, key_bytes: int, now_ms: int, taken: Iterable[str]) -> Kek:
    """A new active key of ``key_bytes`` random bytes from the operating system."""
    return Kek(
        new_kek_id(taken),
        check_suite(suite),
        secrets.token_bytes(check_key_bytes(key_bytes)),
        now_ms,
        retired=False,
    )


class KeyRing:
    """The node's key-encryption keys: exactly one active, the retired ones kept to unwrap.

    The caller holds the data folder's lock (``node.app.data_folder``) while it changes the
    ring, so that two processes never write it at once.
    """

    def __init__(self, folder: Path, keks: Iterable[Kek]) -> None:
        ordered = _newest_first(keks)
        active = [k for k in ordered if not k.retired]
        if not active:
            raise IdentityError(f"{folder} holds no active key-encryption key")
        # More than one: a rotation stopped between its two writes; the newest is the one
        # it was making active.
        self._keks = {k.kek_id: k for k in ordered}
        for stale in active[1:]:
            self._keks[stale.kek_id] = replace(stale, retired=True)
        self._active_id = active[0].kek_id
        self.folder = folder

    @staticmethod
    def folder_of(data_dir: Path) -> Path:
        """Where the ring of the node in ``data_dir`` lives."""
        return data_dir / KEYS_FOLDER

    @classmethod
    def exists(cls, data_dir: Path) -> bool:
        """Whether ``data_dir`` has a ring (at least one key file)."""
        folder = cls.folder_of(data_dir)
        return folder.is_dir() and any(_FILE.fullmatch(p.name) for p in folder.iterdir())

    @classmethod
    def open(cls, data_dir: Path) -> KeyRing:
        """The ring of the node in ``data_dir``; ``IdentityError`` when it has none, or when a
        file of it is open to others or does not parse (the message names the file)."""
        if not cls.exists(data_dir):
            raise IdentityError(
                f"no key-encryption keys in {cls.folder_of(data_dir)}: make them with "
                "`hotline keys init`"
            )
        folder = cls.folder_of(data_dir)
        return cls(folder, read_folder(folder))

    @classmethod
    def create(cls, data_dir: Path, suite: str, key_bytes: int, now_ms: int) -> KeyRing:
        """A new ring with its first, active key; refused where a ring exists already."""
        if cls.exists(data_dir):
            raise IdentityError(
                f"{cls.folder_of(data_dir)} holds key-encryption keys already; "
                "refusing to make another first key (rotate instead)"
            )
        kek = new_kek(suite, key_bytes, now_ms, ())
        folder = cls.folder_of(data_dir)
        _make_folder(folder)
        write_kek(folder, kek, replace_existing=False)
        return cls(folder, [kek])

    @classmethod
    def open_or_create(cls, data_dir: Path, suite: str, key_bytes: int, now_ms: int) -> KeyRing:
        """The ring in ``data_dir``, made with a first key if it has none (a node's first
        start); an existing ring keeps its keys whatever ``suite`` says."""
        if cls.exists(data_dir):
            return cls.open(data_dir)
        return cls.create(data_dir, suite, key_bytes, now_ms)

    @property
    def active(self) -> Kek:
        """The key new data keys are wrapped under."""
        return self._keks[self._active_id]

    def get(self, kek_id: str) -> Kek:
        """The key ``kek_id`` (active or retired); ``NotFound`` naming it when there is none."""
        try:
            return self._keks[kek_id]
        except KeyError:
            raise NotFound(f"no key-encryption key {kek_id!r} in {self.folder}") from None

    def all(self) -> tuple[Kek, ...]:
        """Every key, oldest first."""
        return tuple(reversed(_newest_first(self._keks.values())))

    def rotate(self, suite: str, key_bytes: int, now_ms: int) -> Kek:
        """Make a new active key and retire the current one (kept: what it wrapped still opens).

        The new key is written first: a crash between the two writes leaves two files marked
        active, and the newest of them is the active one when the ring is next opened.
        """
        fresh = new_kek(suite, key_bytes, now_ms, self._keks)
        if fresh.created_ms <= self.active.created_ms:
            # The newest must be the active one (what an interrupted rotation is resolved by):
            # a clock set back, or two rotations in one millisecond, must not undo one.
            fresh = replace(fresh, created_ms=self.active.created_ms + 1)
        old = replace(self.active, retired=True)
        write_kek(self.folder, fresh, replace_existing=False)
        write_kek(self.folder, old, replace_existing=True)
        self._keks[old.kek_id] = old
        self._keks[fresh.kek_id] = fresh
        self._active_id = fresh.kek_id
        return fresh

    def forget(self, kek_id: str) -> None:
        """Delete a retired key's file for good. The caller has checked that no data key is
        still wrapped under it; the active key is refused."""
        kek = self.get(kek_id)
        if not kek.retired:
            raise InvalidInput(
                "kek_id", f"{kek_id} is the active key: rotate first, re-wrap, then forget it"
            )
        (self.folder / file_name(kek_id)).unlink()
        _fsync_folder(self.folder)
        del self._keks[kek_id]

    def add_recovered(self, kek: Kek) -> Kek:
        """File a key recovered from escrow as retired; one already here (same id, same key)
        is left as it is. Another key under the same id is refused."""
        known = self._keks.get(kek.kek_id)
        if known is not None:
            if known.key != kek.key or known.suite != kek.suite:
                raise IdentityError(
                    f"{self.folder} holds another key under the id {kek.kek_id}; "
                    "refusing to replace it"
                )
            return known
        kept = replace(kek, retired=True)
        write_kek(self.folder, kept, replace_existing=False)
        self._keks[kept.kek_id] = kept
        return kept

    @classmethod
    def install(cls, data_dir: Path, keks: Iterable[Kek]) -> KeyRing:
        """A ring made from recovered keys in a folder that has none: they keep their states
        (the newest marked active is the active one)."""
        if cls.exists(data_dir):
            raise IdentityError(f"{cls.folder_of(data_dir)} holds key-encryption keys already")
        chosen = list(keks)
        ring = cls(cls.folder_of(data_dir), chosen)  # checks that one is active
        _make_folder(ring.folder)
        for kek in ring.all():
            write_kek(ring.folder, kek, replace_existing=False)
        return ring
