"""A node administrator's commands: officers, units, the node's identity, the projection.

``add-officer`` puts an officer on the node's roster (the node checks every step against it);
``add-unit`` makes a station known to its county before the county can assign tickets to it;
``info`` shows who the node is and how replication stands; ``projection check|rebuild`` compares
or rebuilds the ticket table from the signed log, offline, on the node's database.
"""

from __future__ import annotations

import argparse

from core.officers import Role
from core.units import UnitLevel
from node.cli.audit import database_url
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time
from node.cli.session_file import node_client
from node.cli.terms import choices_with_terms, term
from sync.codec import enum_member, enum_number


def _officer(args: argparse.Namespace) -> int:
    roles = [enum_number(Role(r)) for r in args.role]
    with node_client(args) as client:
        record = client.add_officer(args.id, args.name, args.unit, roles)
    roles_text = ", ".join(term(enum_member(Role, r, "roles")) for r in record.roles)
    print(f"officer {record.officer_id} {record.name} on unit {record.unit_code}: {roles_text}")
    return 0


def _unit(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        record = client.add_unit(
            args.code, args.name, enum_number(UnitLevel(args.level)), args.parent
        )
    level = term(enum_member(UnitLevel, record.level, "level"))
    print(f"unit {record.code} {record.name} ({level}) under {record.parent_code}")
    return 0


def _info(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        info = client.info()
    level = term(enum_member(UnitLevel, info.level, "level"))
    print(
        f"{info.node_id}: {info.unit_name} ({level}), key {info.key_id[:16]}, "
        f"{info.events} events, {info.tickets} tickets, {info.database}"
    )
    if info.parent:
        s = info.parent_status
        print(
            f"  parent {s.peer}: own chain {s.own_seq}, parent holds {s.pushed_seq}, "
            f"pull cursor {s.pull_cursor}, last success {china_time(s.last_success_ms)}, "
            f"last error: {s.last_error or 'none'}"
        )
    else:
        print("  no parent (the top of the tree)")
    return 0


def _projection(args: argparse.Namespace) -> int:
    from node.app.blocking import BlockingPool
    from node.desks.roster import Roster
    from node.storage.database import Database
    from node.views.obligations import default_rules
    from node.views.tickets import TicketProjection

    db = Database.open(database_url(args.db))
    blocking = BlockingPool(1)
    try:
        own = Roster(db, args.unit, blocking).own_unit()
        projection = TicketProjection(own, default_rules())
        if args.action == "rebuild":
            with db.write() as conn:
                count = projection.rebuild(conn)
            print(f"rebuilt {count} ticket(s) from the log")
            return 0
        with db.read() as conn:
            differing = projection.differences(conn)
        for ticket_id in differing:
            print(f"differs: {ticket_id}")
        print(
            "projection agrees with the log"
            if not differing
            else f"{len(differing)} ticket(s) differ"
        )
        return 1 if differing else 0
    finally:
        blocking.close()
        db.close()


def add_admin_commands(catalogue: Catalogue) -> None:
    """Register ``add-officer``, ``add-unit``, ``info`` and ``projection``."""
    officer = catalogue.command(
        Audience.ADMINISTRATORS,
        "add-officer",
        summary="put an officer on the node's roster, with their roles",
        examples=[
            "hotline add-officer --node 127.0.0.1:7300 --id 620102-07 --name 李强 "
            "--unit 620102 --role handler",
            "hotline add-officer --node 127.0.0.1:7100 --id 620000-01 --name 王芳 "
            "--unit 620000 --role operator --role dispatcher",
        ],
        run=_officer,
    )
    node_flags(officer, officer=None)
    need = required_flags(officer)
    need.add_argument(
        "--id", required=True, metavar="ID", help="roster id, unique on the node (e.g. 620102-07)"
    )
    need.add_argument("--name", required=True, help="the officer's full name")
    need.add_argument("--unit", required=True, metavar="CODE", help="the node's own unit code")
    need.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        metavar="ROLE",
        help=f"a role (repeat for several): {choices_with_terms(Role)}",
    )

    unit = catalogue.command(
        Audience.ADMINISTRATORS,
        "add-unit",
        summary="make a station known to its county (before the county assigns tickets to it)",
        description="A county assigns tickets only to stations it knows; each station is added "
        "once, on the county's node, with the station's 9-digit code.",
        examples=[
            "hotline add-unit --node 127.0.0.1:7300 --code 620102001 "
            "--name 兰州市城关区市场监督管理局张掖路市场监管所 --level station --parent 620102"
        ],
        run=_unit,
    )
    node_flags(unit, officer=None)
    need = required_flags(unit)
    need.add_argument(
        "--code", required=True, metavar="CODE", help="the unit's code: 9 digits for a station"
    )
    need.add_argument("--name", required=True, help="the unit's full name")
    need.add_argument(
        "--level",
        required=True,
        choices=[lv.value for lv in UnitLevel],
        metavar="LEVEL",
        help=f"its level (a station, normally): {choices_with_terms(UnitLevel)}",
    )
    need.add_argument(
        "--parent", required=True, metavar="CODE", help="the unit directly above (the county)"
    )

    info = catalogue.command(
        Audience.ADMINISTRATORS,
        "info",
        summary="who a node is (id, unit, key) and how replication with its parent stands",
        examples=["hotline info --node 127.0.0.1:7300"],
        run=_info,
    )
    node_flags(info, officer=None)

    projection = catalogue.command(
        Audience.AUDITORS,
        "projection",
        summary="check the ticket table against the signed log, or rebuild it (offline)",
        description="Run on the node's database; `rebuild` writes, so stop the node first.",
        examples=[
            "hotline projection check --db var/chengguan/node.db --unit 620102",
            "hotline projection rebuild --db var/chengguan/node.db --unit 620102",
        ],
        run=_projection,
    )
    projection.add_argument(
        "action",
        choices=["check", "rebuild"],
        help="check: list tickets whose row differs from the fold of the log (exit 1 if any); "
        "rebuild: rewrite every row from the log",
    )
    need = required_flags(projection)
    need.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="the node's database: a SQLite file or a postgresql:// URL",
    )
    need.add_argument("--unit", required=True, metavar="CODE", help="the node's unit code")
