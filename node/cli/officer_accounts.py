"""Officer accounts from above: ``officers push``, ``officers revoke`` and ``officers list``.

A city's or province's security administrator (安全管理员) makes, changes, moves and revokes
the accounts of officers of any unit inside the node's jurisdiction; the node signs each record
and replication carries it to the node that signs the officer in (docs/security.md, "Officer
accounts from above"). Credentials stay per node: ``officers set-credentials`` on that node.
"""

from __future__ import annotations

import argparse

from core.officers import Role
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time
from node.cli.session_file import node_client
from node.cli.terms import choices_with_terms, term
from proto.hotline.v1 import admin_pb2
from sync.codec import enum_member, enum_number
from sync.officer_account_signing import status_of

SOURCES = {"here": "here 本级", "above": "from above 上级下发", "below": "from below 下级上报"}
"""Where a standing record came from, as shown."""


def _line(view: admin_pb2.OfficerAccountView) -> str:
    """One account as ``officers list`` and the other commands show it."""
    roles = ", ".join(term(enum_member(Role, r, "roles")) for r in view.roles) or "no role"
    status = term(status_of(view.status))
    roster = "; signs in here" if view.on_roster else ""
    why = f"; {view.reason}" if view.reason else ""
    return (
        f"{view.officer_id} {view.name or '-'} at {view.unit_code}: {status}, {roles}; "
        f"v{view.version} by {view.issuer_unit} ({SOURCES.get(view.source, view.source)}, "
        f"{china_time(view.issued_ms)}){why}{roster}"
    )


def _push(args: argparse.Namespace) -> int:
    roles = [enum_number(Role(r)) for r in args.role]
    with node_client(args) as client:
        view = client.push_officer(args.id, args.name, args.unit, roles, note=args.note or "")
    print(_line(view))
    if not view.on_roster:
        print(f"  reaches unit {view.unit_code}'s node at its next sync")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        view = client.revoke_officer(args.id, args.reason, unit_code=args.unit or "")
    print(_line(view))
    print(
        f"  unit {view.unit_code}'s node refuses {view.officer_id} and ends their sessions at "
        "its next sync"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        views = client.officer_accounts(args.prefix or "")
    if not views:
        print(
            "no officer account records held here"
            + (f" under {args.prefix}" if args.prefix else "")
        )
        return 0
    for view in views:
        print(_line(view))
    return 0


def add_account_commands(officers: Catalogue) -> None:
    """Register ``officers push``, ``officers revoke`` and ``officers list``."""
    push = officers.command(
        Audience.SECURITY,
        "push",
        summary="make, change or move an officer's account for a unit inside this node's "
        "jurisdiction (signed here, handed down at sync)",
        description="The officer keeps their id for life: a move is a push with the new "
        "--unit. An account set from above is managed from above (上级管理): a node below "
        "can no longer change or re-activate it. Credentials are not pushed: the security "
        "administrator of the officer's node sets them (officers set-credentials).",
        examples=[
            "hotline officers push --node 127.0.0.1:7200 --id 620102-30 --name 王磊 "
            "--unit 620102 --role handler",
            "hotline officers push --node 127.0.0.1:7200 --id 620102-30 --name 王磊 "
            "--unit 620103 --role handler --note 调往七里河区局",
        ],
        run=_push,
    )
    node_flags(push, officer=None)
    need = required_flags(push)
    need.add_argument("--id", required=True, metavar="ID", help="the officer's id (for life)")
    need.add_argument("--name", required=True, help="the officer's full name")
    need.add_argument(
        "--unit",
        required=True,
        metavar="CODE",
        help="the unit they work at (its node signs them in)",
    )
    need.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        metavar="ROLE",
        help=f"a role (repeat for several): {choices_with_terms(Role)}",
    )
    push.add_argument("--note", help="why (a move, a change of duties)")

    revoke = officers.command(
        Audience.SECURITY,
        "revoke",
        summary="revoke an officer's account (已注销): their node refuses them at its next sync",
        description="Their node then refuses their sign-in, ends their open sessions and "
        "forgets their credentials there, and writes it in its access record. A revocation "
        "from above is final below: the county cannot re-activate the account.",
        examples=[
            "hotline officers revoke --node 127.0.0.1:7200 --id 620102-30 --reason 调离执法岗位"
        ],
        run=_revoke,
    )
    node_flags(revoke, officer=None)
    need = required_flags(revoke)
    need.add_argument("--id", required=True, metavar="ID", help="the officer")
    need.add_argument("--reason", required=True, help="why the account is revoked")
    revoke.add_argument(
        "--unit",
        metavar="CODE",
        help="the officer's unit, needed only when this node holds no record of them",
    )

    listing = officers.command(
        Audience.SECURITY,
        "list",
        summary="the officer accounts this node holds: status, roles, who manages each, source",
        examples=["hotline officers list --node 127.0.0.1:7200 --prefix 620102"],
        run=_list,
    )
    node_flags(listing, officer=None)
    listing.add_argument("--prefix", metavar="CODE", help="units starting with this (default all)")
