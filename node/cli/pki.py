"""``hotline pki``: the trust hierarchy's commands (docs/protocol.md, "Trust").

The national administration creates the root once (``init-root``) and certifies each province's
CA (``init-ca``); both folders hold private keys and stay offline. A node makes its keys and a
request (``request``), its province's CA certifies it (``issue``) and the node installs the
bundle (``install``); ``revoke`` and ``publish`` withdraw a certificate, ``rotate`` replaces a
node's keys, ``show`` prints a node's identity. The steps that write a node's data folder hold
its lock (``node.app.data_folder``): they cannot run beside a node serving that folder.

``init-root --drill --valid-from DATE`` makes instead the root of a drill hierarchy, valid from
a chosen date whatever the day (``sync.drill_hierarchy``, docs/drills.md); the CAs and node
certificates it leads to are drill ones too, from the same date unless ``--valid-from`` says
a later one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from core.deadlines.china_time import CHINA_TZ
from core.errors import InvalidInput
from core.units import level_of
from node.app.data_folder import hold_data_folder
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time
from node.cli.session_file import node_client
from proto.hotline.v1 import sync_pb2
from sync.drill_hierarchy import DRILL_DAYS, drill_from_ms
from sync.enrolment import CRL_FILE, bundle_pem, install_bundle, request_for, revoke
from sync.identity import IDENTITY_FILE, NodeIdentity
from sync.pki import Authority, NodeCertificate, PkiError, certify_province, create_root, issue


def _now_ms() -> int:
    return int(time.time() * 1000)


def _valid_from(text: str | None) -> int | None:
    """``--valid-from``: a date (its 00:00 China time) or an ISO-8601 time with its zone."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "--valid-from", f"{text!r} is not a date (2026-09-01) nor a time with its zone"
        ) from None
    if len(text) == 10:  # a date: from its first moment in China
        moment = moment.replace(tzinfo=CHINA_TZ)
    if moment.tzinfo is None:
        raise InvalidInput("--valid-from", f"{text!r} needs its zone, e.g. 2026-09-01T00:00+08:00")
    if moment.year < 2000:
        raise InvalidInput("--valid-from", f"{text!r} is before any drill could be")
    return int(moment.timestamp() * 1000)


def _drill_note(cert: x509.Certificate) -> str:
    """For a drill hierarchy's certificate, its validity and what it is for; else ''."""
    start = drill_from_ms(cert)
    if start is None:
        return ""
    return (
        f"; a drill hierarchy's, for drills from {china_time(start)}: valid "
        f"{china_time(int(cert.not_valid_before_utc.timestamp() * 1000))} to "
        f"{china_time(int(cert.not_valid_after_utc.timestamp() * 1000))}"
    )


def _init_root(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if (folder / "ca.key").exists():
        raise PkiError(f"{folder} already holds an authority; refusing to replace it")
    valid_from = _valid_from(args.valid_from)
    if valid_from is not None and not args.drill:
        raise PkiError("--valid-from is for drill hierarchies only: add --drill")
    if args.drill and valid_from is None:
        valid_from = _now_ms()
    root = create_root(_now_ms(), drill_from_ms=valid_from)
    root.save(folder)
    kind = "drill root" if args.drill else "national root"
    print(
        f"{kind} created in {folder} (serial {root.certificate.serial_number:x})"
        + _drill_note(root.certificate)
    )
    return 0


def _init_ca(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if (folder / "ca.key").exists():
        raise PkiError(f"{folder} already holds an authority; refusing to replace it")
    authority = certify_province(
        Authority.load(Path(args.root)),
        args.province,
        _now_ms(),
        drill_from_ms=_valid_from(args.valid_from),
    )
    authority.save(folder)
    print(
        f"CA of {args.province} created in {folder}, certified by the national root"
        + _drill_note(authority.certificate)
    )
    return 0


def _identity(args: argparse.Namespace, *, create: bool = False) -> NodeIdentity:
    """The node in ``--data-dir``; only ``request`` may create one (a typo must not)."""
    folder = Path(args.data_dir)
    if not create and not (folder / IDENTITY_FILE).exists():
        raise PkiError(f"no node in {folder}: create its keys with `hotline pki request` first")
    return NodeIdentity.load_or_create(folder, args.unit, level_of(args.unit))


def _write(out: str, data: bytes) -> None:
    """Write a request or bundle (public material), making its folder if need be."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _request(args: argparse.Namespace) -> int:
    with hold_data_folder(Path(args.data_dir)):
        identity = _identity(args, create=True)
        request = request_for(identity)
        _write(args.out, request.public_bytes(serialization.Encoding.PEM))
    print(f"request for node {identity.node_id} ({identity.unit_code}) written to {args.out}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    authority = Authority.load(Path(args.ca))
    try:
        request = x509.load_pem_x509_csr(Path(args.request).read_bytes())
    except ValueError as exc:
        raise PkiError(f"{args.request} is not a certificate request: {exc}") from None
    node = issue(
        authority, request, _now_ms(), days=args.days, drill_from_ms=_valid_from(args.valid_from)
    )
    _write(args.out, bundle_pem(authority, node))
    print(
        f"certificate {node.serial:x} for {node.node_id} ({node.unit_code}, {node.level.value}) "
        f"valid until {china_time(node.not_after_ms)}, written to {args.out}"
        + _drill_note(node.certificate)
    )
    return 0


def _install(args: argparse.Namespace) -> int:
    identity = _identity(args)
    with hold_data_folder(Path(args.data_dir), create=False):
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
        f"certificate {serial:x} revoked from {china_time(at)}; publish {folder / CRL_FILE} "
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
    with node_client(args) as client:
        result = client.publish_trust(bundle)
    print(
        f"{args.node}: {result.authorities_added} new authorities, "
        f"{result.revocation_lists_added} newer revocation lists"
    )
    return 0


def _rotate(args: argparse.Namespace) -> int:
    old = _identity(args)
    with hold_data_folder(Path(args.data_dir), create=False):
        fresh = NodeIdentity.rotate(Path(args.data_dir))
        _write(args.out, request_for(fresh).public_bytes(serialization.Encoding.PEM))
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
    print(
        f"  certificate {cert.serial:x}, issued by "
        f"{cert.certificate.issuer.rfc4514_string()}, valid until {china_time(cert.not_after_ms)}"
        + _drill_note(cert.certificate)
    )
    print(f"  national root (this node's copy): {Path(args.data_dir) / 'root.pem'}")
    return 0


NODE = "--data-dir var/chengguan --unit 620102"


def add_pki_commands(catalogue: Catalogue) -> None:
    """Register ``pki init-root|init-ca|request|issue|install|revoke|publish|rotate|show``."""
    pki = catalogue.family(
        "pki",
        summary="the trust hierarchy: root, province CAs, node enrolment, revocation",
        description="Authority folders (the root's, each CA's) hold private keys: keep them "
        "offline and out of version control (the README keeps them in secure/).",
    )

    def folder(p: argparse.ArgumentParser, flag: str, text: str) -> None:
        required_flags(p).add_argument(flag, required=True, metavar="DIR", help=text)

    def node_folder(p: argparse.ArgumentParser) -> None:
        folder(p, "--data-dir", "the node's data folder (where its keys are kept)")
        required_flags(p).add_argument(
            "--unit", required=True, metavar="CODE", help="the node's unit code"
        )

    def file(p: argparse.ArgumentParser, flag: str, text: str) -> None:
        required_flags(p).add_argument(flag, required=True, metavar="FILE", help=text)

    def valid_from(p: argparse.ArgumentParser, text: str) -> None:
        p.add_argument("--valid-from", dest="valid_from", metavar="DATE", help=text)

    p = pki.command(
        Audience.PKI,
        "init-root",
        summary="create the national root (once, national; keep its folder offline), "
        "or a drill hierarchy's root (--drill)",
        examples=[
            "hotline pki init-root --dir secure/root",
            "hotline pki init-root --dir drill/secure/root --drill --valid-from 2026-09-01",
        ],
        run=_init_root,
    )
    folder(p, "--dir", "a new folder for the root's key and certificate (ca.pem)")
    p.add_argument(
        "--drill",
        action="store_true",
        help="the root of a drill hierarchy (演练): it and all it leads to are marked as a "
        "drill's, serve only on a drill clock and never meet production nodes (docs/drills.md)",
    )
    valid_from(
        p,
        "with --drill: valid from this date (00:00 China time) or ISO-8601 time with its zone, "
        f"for {DRILL_DAYS} days after it or after today, whichever is later (default: now)",
    )
    p = pki.command(
        Audience.PKI,
        "init-ca",
        summary="create a province's CA, certified by the national root",
        examples=[
            "hotline pki init-ca --root secure/root --province 620000 --dir secure/ca-620000",
            "hotline pki init-ca --root drill/secure/root --province 620000 "
            "--dir drill/secure/ca-620000",
        ],
        run=_init_ca,
    )
    folder(p, "--root", "the national root's folder")
    required_flags(p).add_argument(
        "--province", required=True, metavar="CODE", help="the province's code, e.g. 620000"
    )
    folder(p, "--dir", "a new folder for the CA's key and certificate")
    valid_from(p, "under a drill root only: valid from this later date (default: the root's)")
    p = pki.command(
        Audience.PKI,
        "request",
        summary="make a node's keys (in its data folder) and its enrolment request",
        examples=[f"hotline pki request {NODE} --out var/enrol/chengguan.csr"],
        run=_request,
    )
    node_folder(p)
    file(p, "--out", "where to write the request (send it to the province's CA)")
    p = pki.command(
        Audience.PKI,
        "issue",
        summary="certify a node's request with a CA (the province's, or the root for national)",
        examples=[
            "hotline pki issue --ca secure/ca-620000 --request var/enrol/chengguan.csr "
            "--out var/enrol/chengguan.pem",
            "hotline pki issue --ca drill/secure/ca-620000 --request drill/enrol/chengguan.csr "
            "--out drill/enrol/chengguan.pem --valid-from 2026-09-28",
        ],
        run=_issue,
    )
    folder(p, "--ca", "the issuing authority's folder")
    file(p, "--request", "the node's request (from `hotline pki request`)")
    file(p, "--out", "where to write the certificate bundle to hand back")
    p.add_argument(
        "--days", type=int, default=365, metavar="N", help="days it is valid (default 365)"
    )
    valid_from(p, "drill CA only: valid from this later date (default: the drill's start)")
    p = pki.command(
        Audience.PKI,
        "install",
        summary="install an issued certificate bundle in the node's data folder",
        examples=[f"hotline pki install {NODE} --bundle var/enrol/chengguan.pem"],
        run=_install,
    )
    node_folder(p)
    file(p, "--bundle", "the bundle `hotline pki issue` wrote")
    p = pki.command(
        Audience.PKI,
        "revoke",
        summary="revoke a node certificate (then publish the list with `pki publish`)",
        examples=[
            "hotline pki revoke --ca secure/ca-620000 --cert var/chengguan/node.crt",
            "hotline pki revoke --ca secure/ca-620000 --serial 2b50b2c7 "
            "--at 2026-11-23T09:00:00+08:00",
        ],
        run=_revoke,
    )
    folder(p, "--ca", "the authority that issued the certificate")
    p.add_argument("--cert", metavar="FILE", help="the node's certificate (node.crt)")
    p.add_argument("--serial", metavar="HEX", help="or its serial number (hex)")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="revoked from this moment, ISO-8601 with its zone (default: now)",
    )
    p = pki.command(
        Audience.PKI,
        "publish",
        summary="hand a CA's certificate and revocation list to a node (it spreads from there)",
        examples=["hotline pki publish --ca secure/ca-620000 --node 127.0.0.1:7100"],
        run=_publish,
    )
    folder(p, "--ca", "the authority's folder")
    node_flags(p, officer=None)
    p = pki.command(
        Audience.PKI,
        "rotate",
        summary="new keys for a node: same id and history (issue and install before serving)",
        examples=[f"hotline pki rotate {NODE} --out var/enrol/chengguan-2027.csr"],
        run=_rotate,
    )
    node_folder(p)
    file(p, "--out", "where to write the new request")
    p = pki.command(
        Audience.PKI,
        "show",
        summary="a node's identity and certificate, and where its copy of the root is",
        examples=[f"hotline pki show {NODE}"],
        run=_show,
    )
    node_folder(p)
