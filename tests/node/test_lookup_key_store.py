"""The look-up key store: the province's look-up keys as files of a node's key folder.

Each key is one file ``lookup-<id>.key``, mode 0600, in the 0700 key folder it shares with the
node's key-encryption keys; keys come in an order (made at the province, handed down oldest
first) and a child is handed exactly the ones after the newest it holds.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core.deadlines.rulebook import COMMERCIAL_SUITE, INTERNATIONAL_SUITE
from core.errors import InvalidInput
from node.personal.lookup_keys import KEY_BYTES, LookupKeyStore
from sync.identity import IdentityError

NOW_MS = 1_773_624_600_000  # 2026-03-16 09:30 China time


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_created_key_is_a_private_file_of_32_random_bytes_named_by_its_id(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "keys"
    store = LookupKeyStore.open(folder)
    first = store.create(INTERNATIONAL_SUITE, NOW_MS)
    second = store.create(INTERNATIONAL_SUITE, NOW_MS)
    assert first.key_id.startswith("L20260316") and len(first.key_id) <= 32
    assert len(first.key) == KEY_BYTES and first.key != second.key
    assert first.key_id != second.key_id
    path = folder / f"lookup-{first.key_id}.key"
    assert mode(folder) == 0o700 and mode(path) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"lookup-{k.key_id}.key" for k in (first, second)
    )  # no temporary file left behind


def test_the_repr_of_a_key_never_shows_its_material(tmp_path: Path) -> None:
    key = LookupKeyStore.open(tmp_path).create(COMMERCIAL_SUITE, NOW_MS)
    shown = repr(key)
    assert key.key_id in shown and COMMERCIAL_SUITE in shown
    assert key.key.hex() not in shown and repr(key.key) not in shown


def test_keys_read_back_after_a_restart_in_the_order_they_came(tmp_path: Path) -> None:
    store = LookupKeyStore.open(tmp_path)
    made = [store.create(INTERNATIONAL_SUITE, NOW_MS + i) for i in range(3)]
    store.add("Lfrom-parent", COMMERCIAL_SUITE, b"\x07" * KEY_BYTES, NOW_MS)  # older clock
    again = LookupKeyStore.open(tmp_path)
    assert [k.key_id for k in again.all()] == [*(k.key_id for k in made), "Lfrom-parent"]
    assert again.get(made[1].key_id) == made[1]
    assert again.newest_id() == "Lfrom-parent"
    assert again.get("Lnothing") is None


def test_a_child_is_handed_the_keys_after_the_newest_it_holds(tmp_path: Path) -> None:
    store = LookupKeyStore.open(tmp_path)
    a, b, c = (store.create(INTERNATIONAL_SUITE, NOW_MS + i) for i in range(3))
    assert store.missing_after(a.key_id) == [b, c]
    assert store.missing_after(c.key_id) == []
    assert store.missing_after("") == [a, b, c]  # holds none
    assert store.missing_after("Lunknown") == [a, b, c]  # holds one this node does not know
    assert LookupKeyStore.open(tmp_path / "empty").missing_after("") == []
    assert LookupKeyStore.open(tmp_path / "empty").newest_id() == ""


def test_adding_a_held_key_again_changes_nothing_but_a_different_key_is_refused(
    tmp_path: Path,
) -> None:
    store = LookupKeyStore.open(tmp_path)
    key = b"\x01" * KEY_BYTES
    kept = store.add("L20260316aaaaaa", INTERNATIONAL_SUITE, key, NOW_MS)
    assert store.add("L20260316aaaaaa", INTERNATIONAL_SUITE, key, NOW_MS + 5) == kept
    with pytest.raises(InvalidInput) as refused:
        store.add("L20260316aaaaaa", INTERNATIONAL_SUITE, b"\x02" * KEY_BYTES, NOW_MS)
    assert refused.value.field == "lookup_key.key"
    with pytest.raises(InvalidInput):
        store.add("L20260316aaaaaa", COMMERCIAL_SUITE, key, NOW_MS)
    assert store.all() == [kept]
    assert LookupKeyStore.open(tmp_path).get("L20260316aaaaaa") == kept


@pytest.mark.parametrize(
    ("key_id", "suite", "key", "field"),
    [
        ("../node", INTERNATIONAL_SUITE, b"\x01" * 32, "lookup_key.key_id"),
        ("L/x", INTERNATIONAL_SUITE, b"\x01" * 32, "lookup_key.key_id"),
        ("", INTERNATIONAL_SUITE, b"\x01" * 32, "lookup_key.key_id"),
        ("L1", "des/md5", b"\x01" * 32, "lookup_key.suite"),
        ("L1", INTERNATIONAL_SUITE, b"\x01" * 16, "lookup_key.key"),
    ],
)
def test_a_key_handed_down_with_a_bad_id_suite_or_length_is_refused_and_nothing_written(
    tmp_path: Path, key_id: str, suite: str, key: bytes, field: str
) -> None:
    store = LookupKeyStore.open(tmp_path / "keys")
    with pytest.raises(InvalidInput) as refused:
        store.add(key_id, suite, key, NOW_MS)
    assert refused.value.field == field
    assert list(tmp_path.rglob("*")) == [tmp_path / "keys"]


def test_the_store_leaves_the_key_rings_files_alone_and_clears_its_own_broken_writes(
    tmp_path: Path,
) -> None:
    (tmp_path / "kek-k0123456789ab.key").write_text("not ours", encoding="utf-8")
    (tmp_path / ".lookup-Lx.1234abcd.tmp").write_text("{", encoding="utf-8")
    store = LookupKeyStore.open(tmp_path)
    assert store.all() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kek-k0123456789ab.key"]


def test_a_key_file_others_may_read_or_that_is_not_a_key_stops_the_node(tmp_path: Path) -> None:
    key = LookupKeyStore.open(tmp_path).create(INTERNATIONAL_SUITE, NOW_MS)
    path = tmp_path / f"lookup-{key.key_id}.key"
    os.chmod(path, 0o644)
    with pytest.raises(IdentityError, match="readable by others"):
        LookupKeyStore.open(tmp_path)
    os.chmod(path, 0o600)
    path.write_text('{"format": "something else"}', encoding="ascii")
    with pytest.raises(IdentityError, match="not a readable look-up key"):
        LookupKeyStore.open(tmp_path)


def test_a_key_file_replaced_by_a_link_stops_the_node(tmp_path: Path) -> None:
    store = LookupKeyStore.open(tmp_path / "keys")
    key = store.create(INTERNATIONAL_SUITE, NOW_MS)
    path = tmp_path / "keys" / f"lookup-{key.key_id}.key"
    elsewhere = tmp_path / "elsewhere.key"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    with pytest.raises(IdentityError, match="not a regular file"):
        LookupKeyStore.open(tmp_path / "keys")
