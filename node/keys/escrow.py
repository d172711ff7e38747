"""Escrow of a node's key-encryption keys (密钥托管) with the province's security administrator.

A county laptop gets lost, a disk dies: without its key-encryption keys, the personal data the
node kept (and the copies its parent holds under those keys) could never be read again. So
after ``hotline keys init`` and after every rotation the node's keys are sealed for an escrow
key pair that the province's security administrator keeps offline, and the sealed file is
handed to them. Recovery opens it with the escrow private key and installs the keys in a
replacement node's data folder.

The sealing is ECIES: an ephemeral X25519 key agreed with the escrow public key, HKDF-SHA-256
(info ``hotline.v1.escrow``, salt the two public keys) giving an AES-256-GCM key, which seals
the key records. The file is::

    HOTLINE-KEK-ESCROW v1\\n
    {header: format, node label, time, escrow key fingerprint, KEK ids, ephemeral key, nonce}\\n
    AES-256-GCM ciphertext and tag

The header names the keys (never their bytes) so the administrator can tell which file is
which without opening it, and it is the AEAD's associated data: a changed header fails like a
changed ciphertext. Failures are ``IdentityError`` with a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from node.keys.ring import ACTIVE, RECORD_FORMAT, RETIRED, Kek, KeyRing, parse_record
from sync.identity import IdentityError

MAGIC = b"HOTLINE-KEK-ESCROW v1\n"
FORMAT = "hotline.v1.escrow"
INFO = b"hotline.v1.escrow"
"""HKDF's info label: the derived key serves this and nothing else."""
NONCE_BYTES = 12


@dataclass(frozen=True)
class EscrowHeader:
    """What an escrow file says about itself in the clear."""

    node: str
    created_ms: int
    escrow_key: str
    """Fingerprint of the escrow public key it was sealed for (``fingerprint``)."""
    kek_ids: tuple[str, ...]
    active: str


def fingerprint(escrow_public: bytes) -> str:
    """A short name of an escrow public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(b"hotline.v1.escrow-key\x00" + escrow_public).hexdigest()[:16]


def _aead_key(shared: bytes, ephemeral_public: bytes, escrow_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + escrow_public,
        info=INFO,
    ).derive(shared)


def _public_key(escrow_public: bytes) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(escrow_public)
    except ValueError:
        raise IdentityError("the escrow public key is not 32 bytes of X25519") from None


def _private_key(escrow_private: bytes) -> X25519PrivateKey:
    try:
        return X25519PrivateKey.from_private_bytes(escrow_private)
    except ValueError:
        raise IdentityError("the escrow private key is not 32 bytes of X25519") from None


def _raw_public(key: X25519PrivateKey | X25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def export_escrow(ring: KeyRing, escrow_public: bytes, now_ms: int, *, node: str = "") -> bytes:
    """Every key of ``ring`` sealed for the escrow key pair whose public key is given.

    ``node`` labels the file (the node's id or folder) for whoever keeps it.
    """
    recipient = _public_key(escrow_public)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = _raw_public(ephemeral)
    key = _aead_key(ephemeral.exchange(recipient), ephemeral_public, escrow_public)
    nonce = secrets.token_bytes(NONCE_BYTES)
    header = {
        "format": FORMAT,
        "node": node,
        "created_ms": now_ms,
        "escrow_key": fingerprint(escrow_public),
        "kek_ids": [k.kek_id for k in ring.all()],
        "active": ring.active.kek_id,
        "ephemeral_public": ephemeral_public.hex(),
        "nonce": nonce.hex(),
    }
    head = MAGIC + json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n"
    records = [
        {
            "id": k.kek_id,
            "suite": k.suite,
            "created_ms": k.created_ms,
            "state": RETIRED if k.retired else ACTIVE,
            "key": k.key.hex(),
        }
        for k in ring.all()
    ]
    plaintext = json.dumps({"keks": records}).encode("ascii")
    return head + AESGCM(key).encrypt(nonce, plaintext, head)


def _split(blob: bytes) -> tuple[bytes, dict[str, object], bytes]:
    """The header's bytes (magic included), the header, and the ciphertext."""
    if not blob.startswith(MAGIC):
        raise IdentityError("not a key escrow file (it does not start with HOTLINE-KEK-ESCROW v1)")
    end = blob.find(b"\n", len(MAGIC))
    try:
        header = json.loads(blob[len(MAGIC) : end].decode("utf-8")) if end > 0 else None
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise IdentityError("the key escrow file's header is damaged")
    return blob[: end + 1], header, blob[end + 1 :]


def read_header(blob: bytes) -> EscrowHeader:
    """What an escrow file says about itself, read without any key (not yet authenticated:
    only ``recover_escrow`` proves it)."""
    _, header, _ = _split(blob)
    ids = header.get("kek_ids")
    try:
        return EscrowHeader(
            node=str(header["node"]),
            created_ms=int(str(header["created_ms"])),
            escrow_key=str(header["escrow_key"]),
            kek_ids=tuple(str(i) for i in ids) if isinstance(ids, list) else (),
            active=str(header["active"]),
        )
    except (KeyError, ValueError):
        raise IdentityError("the key escrow file's header is damaged") from None


def recover_escrow(blob: bytes, escrow_private: bytes) -> list[Kek]:
    """The keys sealed in ``blob``, opened with the escrow private key; ``IdentityError`` for
    another escrow key's file, or one changed since it was sealed."""
    head, header, ciphertext = _split(blob)
    summary = read_header(blob)
    private = _private_key(escrow_private)
    escrow_public = _raw_public(private)
    if summary.escrow_key != fingerprint(escrow_public):
        raise IdentityError(
            f"this escrow file was sealed for escrow key {summary.escrow_key}, "
            f"not for this one ({fingerprint(escrow_public)})"
        )
    try:
        ephemeral_public = bytes.fromhex(str(header["ephemeral_public"]))
        nonce = bytes.fromhex(str(header["nonce"]))
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = _aead_key(shared, ephemeral_public, escrow_public)
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, head)
    except (KeyError, ValueError, InvalidTag):
        raise IdentityError(
            "the key escrow file does not open: it was changed or damaged since it was sealed"
        ) from None
    records = json.loads(plaintext.decode("ascii")).get("keks")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise IdentityError("the key escrow file's sealed keys are not in the expected form")
    keks = [
        parse_record(
            json.dumps({**record, "format": RECORD_FORMAT}).encode("ascii"), f"escrowed key {n}"
        )
        for n, record in enumerate(records)
    ]
    if tuple(k.kek_id for k in keks) != summary.kek_ids:
        raise IdentityError("the key escrow file's header does not match the keys it holds")
    return keks


def install_recovered(data_dir: Path, keks: list[Kek]) -> KeyRing:
    """Put recovered keys in ``data_dir``'s ring. A folder without a ring gets them as they
    were (the active one active again); a folder with one keeps its own active key and files
    the recovered keys as retired, so that what they wrapped opens again."""
    if not keks:
        raise IdentityError("the key escrow file holds no keys")
    if not KeyRing.exists(data_dir):
        return KeyRing.install(data_dir, keks)
    ring = KeyRing.open(data_dir)
    for kek in keks:
        ring.add_recovered(kek)
    return ring


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a new file whole (temporary file, then linked into place); never replaces one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise IdentityError(f"{path} exists already; refusing to replace it") from None
    finally:
        temporary.unlink(missing_ok=True)


def write_escrow_file(path: Path, blob: bytes) -> None:
    """Write a sealed escrow file, mode 0600 (sealed, but nobody else's business either)."""
    _write_new(path, blob, 0o600)


def new_escrow_keypair(private_path: Path, public_path: Path) -> str:
    """Make an escrow key pair: the private key as PKCS#8 PEM (mode 0600, to keep offline),
    the public key as PEM (handed to every node of the province). Returns its fingerprint."""
    private = X25519PrivateKey.generate()
    if private_path.exists() or public_path.exists():
        raise IdentityError(f"{private_path} or {public_path} exists already; refusing to replace")
    _write_new(
        private_path,
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    public = private.public_key()
    _write_new(
        public_path,
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        0o644,
    )
    return fingerprint(_raw_public(public))


def load_escrow_public(path: Path) -> bytes:
    """The raw 32 bytes of the escrow public key in ``path`` (PEM)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except ValueError:
        raise IdentityError(f"{path} is not a PEM public key") from None
    if not isinstance(key, X25519PublicKey):
        raise IdentityError(f"{path} is not an X25519 escrow public key")
    return _raw_public(key)


def load_escrow_private(path: Path) -> bytes:
    """The raw 32 bytes of the escrow private key in ``path``; refused if others may read it."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise IdentityError(f"{path} is open to group or others (mode {mode:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise IdentityError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, X25519PrivateKey):
        raise IdentityError(f"{path} is not an X25519 escrow private key")
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
