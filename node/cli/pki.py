"""``hotline pki``: the trust hierarchy's commands (docs/protocol.md, "Trust").

hotline pki init-root --dir ROOT                      the national root (keep ROOT offline)
hotline pki init-ca   --root ROOT --province 620000 --dir CA
hotline pki request   --data-dir D --unit U --out req.pem     node: keys + request
hotline pki issue     --ca CA --request req.pem --out bundle.pem
hotline pki install   --data-dir D --unit U --bundle bundle.pem
hotline pki revoke    --ca CA (--cert node.crt | --serial N) [--at ISO-TIME]
hotline pki publish   --ca CA --node HOST:PORT        hand the CA and its CRL to a node
hotline pki rotate    --data-dir D --unit U --out req.pem     new keys, same node and chain
hotline pki show      --data-dir D --unit U
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from core.units import level_of
from node.edge.client import NodeClient
from proto.hotline.v1 import sync_pb2
from sync.enrolment import CRL_FILE, bundle_pem, install_bundle, request_for, revoke
from sync.identity import IDENTITY_FILE, NodeIdentity
from sync.pki import Authority, NodeCertificate, PkiError, certify_province, create_root, issue


def _now_ms() -> int:
    return int(time.time() * 1000)


def _init_root(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if (folder / "ca.key").exists():
        raise PkiError(f"{folder} already holds an authority; refusing to replace it")
    root = create_root(_now_ms())
    root.save(folder)
    print(f"national root created in {folder} (serial {root.certificate.serial_number:x})")
    return 0


def _init_ca(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if (folder / "ca.key").exists():
        raise PkiError(f"{folder} already holds an authority; refusing to replace it")
    authority = certify_province(Authority.load(Path(args.root)), args.province, _now_ms())
    authority.save(folder)
    print(f"CA of {args.province} created in {folder}, certified by the national root")
    return 0


def _identity(args: argparse.Namespace, *, create: bool = False) -> NodeIdentity:
    """The node in ``--data-dir``; only ``request`` may create one (a typo must not)."""
    folder = Path(args.data_dir)
    if not create and not (folder / IDENTITY_FILE).exists():
        raise PkiError(f"no node in {folder}: create its keys with `hotline pki request` first")
    return NodeIdentity.load_or_create(folder, args.unit, level_of(args.unit))


def _request(args: argparse.Namespace) -> int:
    identity = _identity(args, create=True)
    request = request_for(identity)
    Path(args.out).write_bytes(request.public_bytes(serialization.Encoding.PEM))
    print(f"request for node {identity.node_id} ({identity.unit_code}) written to {args.out}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    authority = Authority.load(Path(args.ca))
    try:
        request = x509.load_pem_x509_csr(Path(args.request).read_bytes())
    except ValueError as exc:
        raise PkiError(f"{args.request} is not a certificate request: {exc}") from None
    node = issue(authority, request, _now_ms(), days=args.days)
    Path(args.out).write_bytes(bundle_pem(authority, node))
    print(
        f"certificate {node.serial:x} for {node.node_id} ({node.unit_code}, {node.level.value}) "
        f"valid until {dt.datetime.fromtimestamp(node.not_after_ms / 1000, dt.UTC):%Y-%m-%d}, "
        f"written to {args.out}"
    )
    return 0


def _install(args: argparse.Namespace) -> int:
    identity = _identity(args)
    install_bundle(identity, Path(args.data_dir), Path(args.bundle).read_bytes())
    print(f"node {identity.node_id} enrolled; it may now serve and replicate")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    folder = Path(args.ca)
    authority = Authority.load(folder)
    if args.cert:
        serial = NodeCertificate.read(
            x509.load_pem_x509_certificate(Path(args.cert).read_bytes())
        ).serial
    elif args.serial:
        serial = int(args.serial, 16)
    else:
        raise PkiError("name the certificate to revoke: --cert FILE or --serial HEX")
    at = _now_ms()
    if args.at:
        moment = dt.datetime.fromisoformat(args.at)
        if moment.tzinfo is None:
            raise PkiError("--at needs a time zone, e.g. 2026-11-23T09:00:00+08:00")
        at = int(moment.timestamp() * 1000)
    revoke(folder, authority, {serial: at}, _now_ms())
    print(
        f"certificate {serial:x} revoked from {at} ms; publish {folder / CRL_FILE} "
        "with `hotline pki publish`"
    )
    return 0


def _publish(args: argparse.Namespace) -> int:
    folder = Path(args.ca)
    authority = Authority.load(folder)
    bundle = sync_pb2.TrustBundle()
    if authority.chain:
        bundle.authorities.append(authority.certificate.public_bytes(serialization.Encoding.DER))
    crl_path = folder / CRL_FILE
    if crl_path.exists():
        crl = x509.load_pem_x509_crl(crl_path.read_bytes())
        bundle.revocation_lists.append(crl.public_bytes(serialization.Encoding.DER))
    with NodeClient(args.node) as client:
        result = client.publish_trust(bundle)
    print(
        f"{args.node}: {result.authorities_added} new authorities, "
        f"{result.revocation_lists_added} newer revocation lists"
    )
    return 0


def _rotate(args: argparse.Namespace) -> int:
    old = _identity(args)
    fresh = NodeIdentity.rotate(Path(args.data_dir))
    Path(args.out).write_bytes(request_for(fresh).public_bytes(serialization.Encoding.PEM))
    print(
        f"node {fresh.node_id}: key {old.key_id[:12]} set aside, new key {fresh.key_id[:12]}; "
        f"request written to {args.out} (issue and install it before serving)"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    identity = _identity(args)
    print(
        f"node {identity.node_id} ({identity.unit_code}, {identity.level.value}), "
        f"event key {identity.key_id[:16]}"
    )
    if identity.credentials is None:
        print("  not enrolled")
        return 1
    cert = identity.credentials.certificate
    until = dt.datetime.fromtimestamp(cert.not_after_ms / 1000, dt.UTC)
    print(
        f"  certificate {cert.serial:x}, issued by "
        f"{cert.certificate.issuer.rfc4514_string()}, valid until {until:%Y-%m-%d %H:%M}Z"
    )
    return 0


def add_pki_commands(sub: Any) -> None:
    """Add ``hotline pki ...`` to the top-level sub-parsers."""
    pki = sub.add_parser("pki", help="the trust hierarchy: root, CAs, enrolment, revocation")
    cmds = pki.add_subparsers(dest="pki", required=True)

    def node_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", dest="data_dir", required=True, help="the node's folder")
        p.add_argument("--unit", required=True, help="the node's unit code")

    p = cmds.add_parser("init-root", help="create the national root")
    p.add_argument("--dir", required=True)
    p.set_defaults(run=_init_root)
    p = cmds.add_parser("init-ca", help="certify a province's CA with the root")
    p.add_argument("--root", required=True, help="the root's folder")
    p.add_argument("--province", required=True, help="province code, e.g. 620000")
    p.add_argument("--dir", required=True, help="folder for the new CA")
    p.set_defaults(run=_init_ca)
    p = cmds.add_parser("request", help="a node's keys and enrolment request")
    node_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(run=_request)
    p = cmds.add_parser("issue", help="certify a node's request")
    p.add_argument("--ca", required=True, help="the issuing authority's folder")
    p.add_argument("--request", required=True)
    p.add_argument("--out", required=True, help="certificate bundle to hand back")
    p.add_argument("--days", type=int, default=365)
    p.set_defaults(run=_issue)
    p = cmds.add_parser("install", help="install an issued certificate bundle")
    node_args(p)
    p.add_argument("--bundle", required=True)
    p.set_defaults(run=_install)
    p = cmds.add_parser("revoke", help="revoke a node certificate")
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", help="the node's certificate (node.crt)")
    p.add_argument("--serial", help="or its serial number (hex)")
    p.add_argument("--at", help="revoked from this moment (ISO time with zone; default now)")
    p.set_defaults(run=_revoke)
    p = cmds.add_parser("publish", help="hand a CA certificate and CRL to a node")
    p.add_argument("--ca", required=True)
    p.add_argument("--node", required=True, help="HOST:PORT (client port)")
    p.set_defaults(run=_publish)
    p = cmds.add_parser("rotate", help="new keys for a node, same id and history")
    node_args(p)
    p.add_argument("--out", required=True, help="where to write the new request")
    p.set_defaults(run=_rotate)
    p = cmds.add_parser("show", help="a node's identity and certificate")
    node_args(p)
    p.set_defaults(run=_show)
