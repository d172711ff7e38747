"""The node's ring of key-encryption keys (密钥加密密钥环): owner-only files, one active key.

A key file others may read, or one that does not parse, is refused by name; rotation keeps
the old key (retired) so that what it wrapped still opens; the active key cannot be forgotten;
a key's bytes never show in its ``repr``.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput, NotFound
from node.keys.ring import KeyRing, file_name, write_kek
from sync.identity import IdentityError

SUITE = "aes-256-gcm/sha-256"
T0 = 1_764_720_000_000


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_each_key_file_is_owner_only_and_so_is_the_folder(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        ring = KeyRing.create(tmp_path / "node", SUITE, 32, T0)
        ring.rotate(SUITE, 32, T0 + 1)
    finally:
        os.umask(old_umask)
    folder = tmp_path / "node" / "keys"
    assert mode_of(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == sorted(file_name(k.kek_id) for k in ring.all())
    assert {mode_of(p) for p in files} == {0o600}


def test_a_key_file_made_group_readable_is_refused_with_its_name(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    path = ring.folder / file_name(ring.active.kek_id)
    path.chmod(0o640)
    with pytest.raises(IdentityError) as refused:
        KeyRing.open(tmp_path)
    assert str(path) in str(refused.value)
    assert "640" in str(refused.value)


def test_a_key_folder_open_to_others_is_refused(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    ring.folder.chmod(0o755)
    with pytest.raises(IdentityError, match="chmod 700"):
        KeyRing.open(tmp_path)


def test_a_key_file_that_does_not_parse_is_refused_with_its_name_and_why(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    path = ring.folder / file_name(ring.active.kek_id)
    record = json.loads(path.read_text())
    record["key"] = "not hex"
    path.write_text(json.dumps(record))
    with pytest.raises(IdentityError) as refused:
        KeyRing.open(tmp_path)
    assert str(path) in str(refused.value) and "key" in str(refused.value)


def test_a_key_file_named_for_another_id_is_refused(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    path = ring.folder / file_name(ring.active.kek_id)
    path.rename(ring.folder / file_name("k000000000000"))
    with pytest.raises(IdentityError, match="not the one its name says"):
        KeyRing.open(tmp_path)


def test_the_ring_opens_with_the_same_keys_it_was_made_with(tmp_path: Path) -> None:
    made = KeyRing.create(tmp_path, "sm4-gcm/sm3", 16, T0)
    opened = KeyRing.open(tmp_path)
    assert opened.all() == made.all()
    assert opened.active.suite == "sm4-gcm/sm3" and len(opened.active.key) == 16
    assert opened.active.created_ms == T0 and not opened.active.retired


def test_create_twice_is_refused_and_the_first_key_is_kept(tmp_path: Path) -> None:
    first = KeyRing.create(tmp_path, SUITE, 32, T0)
    with pytest.raises(IdentityError, match="already"):
        KeyRing.create(tmp_path, SUITE, 32, T0 + 1)
    assert KeyRing.open(tmp_path).all() == first.all()


def test_open_or_create_makes_a_ring_once_then_opens_it(tmp_path: Path) -> None:
    made = KeyRing.open_or_create(tmp_path, SUITE, 32, T0)
    again = KeyRing.open_or_create(tmp_path, "sm4-gcm/sm3", 16, T0 + 5)
    assert again.all() == made.all()


def test_opening_a_folder_without_keys_says_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="hotline keys init"):
        KeyRing.open(tmp_path)


def test_rotate_makes_a_new_active_key_and_keeps_the_old_one_readable(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    old = ring.active
    fresh = ring.rotate("sm4-gcm/sm3", 16, T0 + 1000)
    assert ring.active == fresh and fresh.kek_id != old.kek_id and fresh.key != old.key
    reopened = KeyRing.open(tmp_path)
    assert reopened.active == fresh
    kept = reopened.get(old.kek_id)
    assert kept.retired and kept.key == old.key and kept.suite == SUITE
    assert [k.kek_id for k in reopened.all()] == [old.kek_id, fresh.kek_id]


def test_a_rotation_with_the_clock_set_back_still_makes_the_new_key_the_newest(
    tmp_path: Path,
) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    fresh = ring.rotate(SUITE, 32, T0 - 60_000)
    assert KeyRing.open(tmp_path).active == fresh


def test_a_rotation_stopped_between_its_writes_opens_with_the_new_key_active(
    tmp_path: Path,
) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    old = ring.active
    fresh = ring.rotate(SUITE, 32, T0 + 1)
    write_kek(ring.folder, old, replace_existing=True)  # as if the old one was never retired
    reopened = KeyRing.open(tmp_path)
    assert reopened.active == fresh
    assert reopened.get(old.kek_id).retired


def test_forget_refuses_the_active_key(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    with pytest.raises(InvalidInput, match="active"):
        ring.forget(ring.active.kek_id)
    assert KeyRing.open(tmp_path).active == ring.active


def test_forget_deletes_a_retired_key_for_good(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    old = ring.active
    ring.rotate(SUITE, 32, T0 + 1)
    ring.forget(old.kek_id)
    assert not (ring.folder / file_name(old.kek_id)).exists()
    with pytest.raises(NotFound, match=old.kek_id):
        KeyRing.open(tmp_path).get(old.kek_id)


def test_an_unknown_id_is_not_found_and_named(tmp_path: Path) -> None:
    ring = KeyRing.create(tmp_path, SUITE, 32, T0)
    with pytest.raises(NotFound, match="k0123456789ab"):
        ring.get("k0123456789ab")


def test_the_repr_of_a_key_never_shows_its_bytes(tmp_path: Path) -> None:
    kek = KeyRing.create(tmp_path, SUITE, 32, T0).active
    shown = repr(kek) + str(kek) + repr(KeyRing.open(tmp_path).all())
    assert kek.key.hex() not in shown and repr(kek.key) not in shown
    assert kek.kek_id in shown


@pytest.mark.parametrize(("suite", "size"), [("", 32), ("AES GCM", 32), (SUITE, 8), (SUITE, 65)])
def test_a_bad_suite_label_or_key_length_is_refused(tmp_path: Path, suite: str, size: int) -> None:
    with pytest.raises(InvalidInput):
        KeyRing.create(tmp_path, suite, size, T0)
    assert not KeyRing.exists(tmp_path)


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(st.sampled_from(["rotate", "forget-oldest"]), max_size=8))
def test_whatever_is_done_exactly_one_key_is_active_and_it_is_the_newest(
    tmp_path_factory: pytest.TempPathFactory, steps: list[str]
) -> None:
    data_dir = tmp_path_factory.mktemp("ring")
    ring = KeyRing.create(data_dir, SUITE, 32, T0)
    for n, step in enumerate(steps, start=1):
        if step == "rotate":
            ring.rotate(SUITE, 32, T0 + n)
        elif len(ring.all()) > 1:
            ring.forget(ring.all()[0].kek_id)
    reopened = KeyRing.open(data_dir)
    keys = reopened.all()
    assert [k for k in keys if not k.retired] == [reopened.active] == [keys[-1]]
    assert len({k.kek_id for k in keys}) == len(keys)
    assert all(len(k.kek_id) <= 32 for k in keys)
    assert reopened.all() == ring.all()
