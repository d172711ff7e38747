"""Escrow of a node's key-encryption keys (密钥托管): what is sealed comes back, and only then.

The province's security administrator holds the escrow private key; a node's sealed keys open
with it and no other, and a sealed file changed anywhere (header or body) does not open.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from node.keys.escrow import (
    export_escrow,
    install_recovered,
    load_escrow_private,
    load_escrow_public,
    new_escrow_keypair,
    read_header,
    recover_escrow,
)
from node.keys.ring import KeyRing
from sync.identity import IdentityError

SUITE = "aes-256-gcm/sha-256"
T0 = 1_764_720_000_000


def escrow_pair(folder: Path, name: str = "escrow") -> tuple[bytes, bytes]:
    """A new escrow key pair in ``folder``, as (public, private) raw bytes."""
    new_escrow_keypair(folder / f"{name}.key", folder / f"{name}.pub")
    return load_escrow_public(folder / f"{name}.pub"), load_escrow_private(folder / f"{name}.key")


def rotated_ring(data_dir: Path) -> KeyRing:
    ring = KeyRing.create(data_dir, SUITE, 32, T0)
    ring.rotate("sm4-gcm/sm3", 16, T0 + 1000)
    return ring


def test_export_then_recover_into_a_fresh_folder_gives_the_same_keys(tmp_path: Path) -> None:
    public, private = escrow_pair(tmp_path)
    ring = rotated_ring(tmp_path / "lost-laptop")
    blob = export_escrow(ring, public, T0 + 2000, node="620102-lost")
    keks = recover_escrow(blob, private)
    assert keks == list(ring.all())
    installed = install_recovered(tmp_path / "replacement", keks)
    reopened = KeyRing.open(tmp_path / "replacement")
    assert reopened.all() == installed.all() == ring.all()
    assert reopened.active == ring.active


def test_the_header_names_the_keys_but_the_file_never_holds_their_bytes(tmp_path: Path) -> None:
    public, _ = escrow_pair(tmp_path)
    ring = rotated_ring(tmp_path / "node")
    blob = export_escrow(ring, public, T0 + 2000, node="chengguan")
    header = read_header(blob)
    assert header.kek_ids == tuple(k.kek_id for k in ring.all())
    assert header.active == ring.active.kek_id and header.node == "chengguan"
    for kek in ring.all():
        assert kek.key not in blob and kek.key.hex().encode() not in blob


def test_a_wrong_escrow_private_key_fails_clearly(tmp_path: Path) -> None:
    public, _ = escrow_pair(tmp_path, "province")
    _, other_private = escrow_pair(tmp_path, "other")
    blob = export_escrow(rotated_ring(tmp_path / "node"), public, T0, node="n")
    with pytest.raises(
        IdentityError, match=r"sealed for escrow key [0-9a-f]{16}, not for this one"
    ):
        recover_escrow(blob, other_private)


@pytest.mark.parametrize("where", ["header", "ciphertext", "tag", "cut"])
def test_a_tampered_blob_does_not_open(tmp_path: Path, where: str) -> None:
    public, private = escrow_pair(tmp_path)
    blob = bytearray(export_escrow(rotated_ring(tmp_path / "node"), public, T0, node="n"))
    body = blob.index(b"\n", len(b"HOTLINE-KEK-ESCROW v1\n")) + 1
    if where == "header":
        at = blob.index(b'"created_ms": ') + len(b'"created_ms": ')
        blob[at] = ord("9") if blob[at] != ord("9") else ord("8")
    elif where == "ciphertext":
        blob[body + 5] ^= 0x01
    elif where == "tag":
        blob[-1] ^= 0x80
    else:
        del blob[-3:]
    with pytest.raises(IdentityError, match=r"does not open|damaged"):
        recover_escrow(bytes(blob), private)


def test_something_that_is_no_escrow_file_is_refused(tmp_path: Path) -> None:
    _, private = escrow_pair(tmp_path)
    with pytest.raises(IdentityError, match="not a key escrow file"):
        recover_escrow(b"-----BEGIN CERTIFICATE-----\n", private)


def test_recovered_keys_join_an_existing_ring_as_retired_beside_its_own_active_key(
    tmp_path: Path,
) -> None:
    public, private = escrow_pair(tmp_path)
    lost = rotated_ring(tmp_path / "lost")
    replacement = KeyRing.create(tmp_path / "new", SUITE, 32, T0 + 5000)
    own = replacement.active
    install_recovered(tmp_path / "new", recover_escrow(export_escrow(lost, public, T0), private))
    reopened = KeyRing.open(tmp_path / "new")
    assert reopened.active == own
    for kek in lost.all():
        kept = reopened.get(kek.kek_id)
        assert kept.retired and kept.key == kek.key


def test_recovering_the_same_file_twice_changes_nothing(tmp_path: Path) -> None:
    public, private = escrow_pair(tmp_path)
    blob = export_escrow(rotated_ring(tmp_path / "lost"), public, T0, node="n")
    first = install_recovered(tmp_path / "new", recover_escrow(blob, private)).all()
    assert install_recovered(tmp_path / "new", recover_escrow(blob, private)).all() == first


def test_the_escrow_private_key_file_is_owner_only_and_refused_otherwise(tmp_path: Path) -> None:
    escrow_pair(tmp_path)
    private = tmp_path / "escrow.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    private.chmod(0o644)
    with pytest.raises(IdentityError, match="chmod 600"):
        load_escrow_private(private)


def test_an_escrow_key_pair_is_never_made_over_an_existing_one(tmp_path: Path) -> None:
    public, _ = escrow_pair(tmp_path)
    with pytest.raises(IdentityError, match="exists already"):
        new_escrow_keypair(tmp_path / "escrow.key", tmp_path / "escrow.pub")
    assert load_escrow_public(tmp_path / "escrow.pub") == public
