"""``hotline keys``: a node's key-encryption keys (密钥加密密钥) and their escrow (密钥托管).

The node administrator makes the ring (``init``), lists it (``list``, never the key bytes) and
rotates it (``rotate``); the province's security administrator makes the escrow key pair once
(``escrow-keypair``) and keeps its private half offline; after ``init`` and after every
rotation the node's keys are sealed for it (``escrow-export``); a replacement machine gets
them back (``escrow-recover``). Every step that reads or writes a data folder holds its lock
(``node.app.data_folder``), so none runs beside a node serving that folder. docs/operations.md,
"Key-encryption keys and escrow".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from core.errors import InvalidInput
from node.app.data_folder import hold_data_folder
from node.cli.catalogue import Audience, Catalogue, required_flags
from node.cli.display import china_time, table
from node.keys.escrow import (
    export_escrow,
    install_recovered,
    load_escrow_private,
    load_escrow_public,
    new_escrow_keypair,
    read_header,
    recover_escrow,
    write_escrow_file,
)
from node.keys.ring import Kek, KeyRing
from sync.schema import personal_seals

INTERNATIONAL = "aes-256-gcm/sha-256"
COMMERCIAL = "sm4-gcm/sm3"
KEY_BYTES = {INTERNATIONAL: 32, COMMERCIAL: 16}
"""Each suite's key length in bytes (AES-256: 32; SM4: 16)."""
SUITE_NAMES = {"international": INTERNATIONAL, "commercial": COMMERCIAL}
SUITE_TERMS = {INTERNATIONAL: "国际算法", COMMERCIAL: "商用密码"}
STATE_TERMS = {False: "active (在用)", True: "retired (停用)"}


def suite_of(text: str) -> str:
    """``--suite``: ``international``, ``commercial``, or their labels, as the label."""
    label = SUITE_NAMES.get(text.strip().lower(), text.strip().lower())
    if label not in KEY_BYTES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a suite: international ({INTERNATIONAL}) or commercial ({COMMERCIAL})"
        )
    return label


def suite_text(suite: str) -> str:
    """A suite label with its Chinese term: ``sm4-gcm/sm3 (商用密码)``."""
    term = SUITE_TERMS.get(suite)
    return f"{suite} ({term})" if term else suite


def _now_ms() -> int:
    return int(time.time() * 1000)


def _existing(data_dir: str) -> Path:
    """``--data-dir`` when it exists (a typo must not make a new folder)."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise InvalidInput("--data-dir", f"no data folder {folder}")
    return folder


def _kek_line(kek: Kek) -> str:
    return f"{kek.kek_id} ({suite_text(kek.suite)}, {STATE_TERMS[kek.retired]})"


def _list(args: argparse.Namespace) -> int:
    folder = _existing(args.data_dir)
    with hold_data_folder(folder, create=False):
        ring = KeyRing.open(folder)
    rows = [
        [k.kek_id, suite_text(k.suite), china_time(k.created_ms), STATE_TERMS[k.retired]]
        for k in ring.all()
    ]
    for line in table(["id", "suite", "created (China time)", "state"], rows):
        print(line)
    return 0


def _init(args: argparse.Namespace) -> int:
    folder = Path(args.data_dir)
    with hold_data_folder(folder):
        ring = KeyRing.create(folder, args.suite, KEY_BYTES[args.suite], _now_ms())
    print(
        f"key-encryption key {_kek_line(ring.active)} made in {ring.folder}; seal it for "
        "escrow now: hotline keys escrow-export"
    )
    return 0


def _rotate(args: argparse.Namespace) -> int:
    folder = _existing(args.data_dir)
    with hold_data_folder(folder, create=False):
        ring = KeyRing.open(folder)
        old = ring.active
        suite = args.suite or old.suite
        if suite not in KEY_BYTES:
            raise InvalidInput("--suite", f"the active key's suite {old.suite!r} is unknown here")
        fresh = ring.rotate(suite, KEY_BYTES[suite], _now_ms())
    print(
        f"new key {_kek_line(fresh)}; {old.kek_id} retired (停用), kept until nothing is "
        "wrapped under it; seal the ring for escrow again: hotline keys escrow-export"
    )
    return 0


def still_wrapped(database_url: str, kek_id: str) -> int:
    """How many tickets' data keys are still wrapped under ``kek_id`` in a node's database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(personal_seals)
                .where(personal_seals.c.kek_id == kek_id)
            )
            return int(count.scalar_one())
    except SQLAlchemyError as exc:
        raise InvalidInput("--db", f"cannot read the node's database: {exc}") from None
    finally:
        engine.dispose()


def _forget(args: argparse.Namespace) -> int:
    folder = _existing(args.data_dir)
    url = args.db or f"sqlite:///{(folder / 'node.db').resolve()}"
    with hold_data_folder(folder, create=False):
        ring = KeyRing.open(folder)
        kek = ring.get(args.key)
        if not kek.retired:
            raise InvalidInput("--key", f"{kek.kek_id} is the active key (在用); rotate first")
        left = still_wrapped(url, kek.kek_id)
        if left:
            raise InvalidInput(
                "--key",
                f"{left} data keys are still wrapped under {kek.kek_id}; start the node and "
                "let its re-wrapping job move them (a batch per round), then try again",
            )
        ring.forget(kek.kek_id)
    print(f"key {kek.kek_id} forgotten: its file is deleted, nothing was wrapped under it")
    return 0


def _escrow_keypair(args: argparse.Namespace) -> int:
    name = new_escrow_keypair(Path(args.private), Path(args.public))
    print(
        f"escrow key pair {name}: private key {args.private} (mode 0600: keep it offline), "
        f"public key {args.public} (hand it to the province's nodes)"
    )
    return 0


def _escrow_export(args: argparse.Namespace) -> int:
    folder = _existing(args.data_dir)
    public = load_escrow_public(Path(args.to))
    with hold_data_folder(folder, create=False):
        ring = KeyRing.open(folder)
        blob = export_escrow(ring, public, _now_ms(), node=args.label or folder.resolve().name)
    write_escrow_file(Path(args.out), blob)
    header = read_header(blob)
    print(
        f"{len(header.kek_ids)} key(s) of {header.node} ({', '.join(header.kek_ids)}) sealed "
        f"for escrow key {header.escrow_key} in {args.out}; hand it to the holder of that key"
    )
    return 0


def _escrow_recover(args: argparse.Namespace) -> int:
    private = load_escrow_private(Path(args.key))
    blob = Path(args.input).read_bytes()
    keks = recover_escrow(blob, private)
    folder = Path(args.data_dir)
    with hold_data_folder(folder):
        ring = install_recovered(folder, keks)
    header = read_header(blob)
    print(
        f"{len(keks)} key(s) of {header.node}, sealed {china_time(header.created_ms)}, "
        f"installed in {ring.folder}; active: {_kek_line(ring.active)}"
    )
    return 0


DATA = "--data-dir var/chengguan"


def add_keys_commands(catalogue: Catalogue) -> None:
    """Register ``keys list|init|rotate|forget|escrow-keypair|escrow-export|escrow-recover``."""
    keys = catalogue.family(
        "keys",
        summary="a node's key-encryption keys (密钥加密密钥) and their escrow (密钥托管)",
        description="The keys live in the data folder's keys/ (one file each, mode 0600); the "
        "escrow private key stays offline with the province's security administrator.",
    )

    def data_dir(p: argparse.ArgumentParser, text: str) -> None:
        required_flags(p).add_argument("--data-dir", required=True, metavar="DIR", help=text)

    def file(p: argparse.ArgumentParser, flag: str, text: str, dest: str | None = None) -> None:
        required_flags(p).add_argument(flag, required=True, metavar="FILE", help=text, dest=dest)

    def suite(p: argparse.ArgumentParser, default: str | None, text: str) -> None:
        p.add_argument("--suite", type=suite_of, default=default, metavar="SUITE", help=text)

    p = keys.command(
        Audience.PKI,
        "list",
        summary="a node's key-encryption keys: id, suite, created, active (在用) or retired "
        "(停用); never the keys",
        examples=[f"hotline keys list {DATA}"],
        run=_list,
    )
    data_dir(p, "the node's data folder")
    p = keys.command(
        Audience.PKI,
        "init",
        summary="make a node's first key-encryption key (then seal it for escrow)",
        examples=[f"hotline keys init {DATA}", f"hotline keys init {DATA} --suite commercial"],
        run=_init,
    )
    data_dir(p, "the node's data folder (made if need be)")
    suite(
        p,
        INTERNATIONAL,
        f"international ({INTERNATIONAL}, 32-byte keys; the default) or commercial "
        f"({COMMERCIAL}, 16-byte keys: 商用密码)",
    )
    p = keys.command(
        Audience.PKI,
        "rotate",
        summary="a new active key; the old one is retired (停用) and kept until its data is "
        "re-wrapped",
        examples=[f"hotline keys rotate {DATA}", f"hotline keys rotate {DATA} --suite commercial"],
        run=_rotate,
    )
    data_dir(p, "the node's data folder")
    suite(p, None, "international or commercial (default: the active key's suite)")
    p = keys.command(
        Audience.PKI,
        "forget",
        summary="delete a retired (停用) key once no data key is wrapped under it",
        examples=[f"hotline keys forget {DATA} --key k0123456789ab"],
        run=_forget,
    )
    data_dir(p, "the node's data folder (the node stopped)")
    required_flags(p).add_argument("--key", required=True, metavar="ID", help="the retired key")
    p.add_argument(
        "--db", metavar="URL", help="the node's database (default: SQLite in the data folder)"
    )
    p = keys.command(
        Audience.PKI,
        "escrow-keypair",
        summary="make the province's escrow key pair (once; keep the private key offline)",
        examples=[
            "hotline keys escrow-keypair --private secure/escrow-620000.key "
            "--public escrow-620000.pub"
        ],
        run=_escrow_keypair,
    )
    file(p, "--private", "a new file for the private key (mode 0600)")
    file(p, "--public", "a new file for the public key (handed to the nodes)")
    p = keys.command(
        Audience.PKI,
        "escrow-export",
        summary="seal a node's keys for the escrow key (after init and after every rotation)",
        examples=[
            f"hotline keys escrow-export {DATA} --to escrow-620000.pub "
            "--out var/escrow/chengguan-2026-12-03.escrow"
        ],
        run=_escrow_export,
    )
    data_dir(p, "the node's data folder")
    file(p, "--to", "the escrow public key (from `hotline keys escrow-keypair`)")
    file(p, "--out", "a new file for the sealed keys (hand it to the escrow key's holder)")
    p.add_argument(
        "--label", metavar="NAME", help="names the node in the file (default: the folder's name)"
    )
    p = keys.command(
        Audience.PKI,
        "escrow-recover",
        summary="open a sealed file with the escrow private key and install its keys in a "
        "(replacement) node's data folder",
        examples=[
            "hotline keys escrow-recover --key secure/escrow-620000.key "
            "--in var/escrow/chengguan-2026-12-03.escrow --data-dir var/chengguan-new"
        ],
        run=_escrow_recover,
    )
    file(p, "--key", "the escrow private key")
    file(p, "--in", "the sealed file (from `hotline keys escrow-export`)", dest="input")
    data_dir(
        p,
        "the data folder to install them in: without keys, they keep their states; with "
        "keys, they are added as retired (停用)",
    )
