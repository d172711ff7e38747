"""A node's identity: its id, unit and Ed25519 signing key, kept on disk beside its data.

Every event a node records is signed with this key, so the key must survive restarts and stay
private: it is generated on first start and written with file mode 0600, and a key file that
others can read is refused. The node id is the unit code plus a random suffix, so a reinstalled
station laptop starts a new chain instead of silently forking the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.units import UnitLevel

KEY_FILE = "node.key"
IDENTITY_FILE = "node.json"


class IdentityError(Exception):
    """The identity on disk is unusable (wrong unit, readable by others, corrupt)."""


def key_id_of(public_key: bytes) -> str:
    """The id of a raw Ed25519 public key: hex SHA-256 of its 32 bytes."""
    return hashlib.sha256(public_key).hexdigest()


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class PublicIdentity:
    """What peers know of a node: enough to verify its events and place it in the tree."""

    node_id: str
    unit_code: str
    level: UnitLevel
    public_key: bytes

    @property
    def key_id(self) -> str:
        """The id of the public key (see ``key_id_of``)."""
        return key_id_of(self.public_key)


class NodeIdentity:
    """A node's private identity; signs the node's events."""

    def __init__(
        self, node_id: str, unit_code: str, level: UnitLevel, private_key: Ed25519PrivateKey
    ) -> None:
        self.node_id = node_id
        self.unit_code = unit_code
        self.level = level
        self._key = private_key
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = PublicIdentity(node_id, unit_code, level, raw)

    @property
    def key_id(self) -> str:
        """The id of this node's current public key."""
        return self.public.key_id

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return self._key.sign(message)

    @classmethod
    def generate(cls, unit_code: str, level: UnitLevel) -> NodeIdentity:
        """A fresh identity held only in memory (tests, benchmarks)."""
        node_id = f"{unit_code}-{secrets.token_hex(3)}"
        return cls(node_id, unit_code, level, Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, data_dir: Path, unit_code: str, level: UnitLevel) -> NodeIdentity:
        """The identity stored in ``data_dir``, created there (mode 0600) on first start."""
        data_dir.mkdir(parents=True, exist_ok=True)
        key_path, id_path = data_dir / KEY_FILE, data_dir / IDENTITY_FILE
        if not key_path.exists():
            identity = cls.generate(unit_code, level)
            pem = identity._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            id_path.write_text(
                json.dumps(
                    {"node_id": identity.node_id, "unit_code": unit_code, "level": level.value}
                ),
                encoding="utf-8",
            )
            return identity
        mode = stat.S_IMODE(key_path.stat().st_mode)
        if mode & 0o077:
            raise IdentityError(f"{key_path} is readable by others (mode {mode:o}); chmod 600 it")
        try:
            stored = json.loads(id_path.read_text(encoding="utf-8"))
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise IdentityError(f"cannot read the node identity in {data_dir}: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise IdentityError(f"{key_path} does not hold an Ed25519 key")
        if stored.get("unit_code") != unit_code:
            raise IdentityError(
                f"{data_dir} belongs to unit {stored.get('unit_code')}, not {unit_code}"
            )
        return cls(stored["node_id"], unit_code, UnitLevel(stored["level"]), key)
