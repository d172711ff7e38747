"""The network a surge runs against: province, city, two counties and a station, with people.

Why this exists: ``hotline loadtest surge`` must be runnable by ops with nothing set up, so it
starts the Gansu line province (620000) - Lanzhou (620100) - Chengguan (620102) and Qilihe
(620103), and Chengguan's Zhangye Road station (620102001), as real ``python -m node serve``
processes on SQLite (``node.devnet.processes``) each with its metrics port, and puts on their
rosters the people the Locust users sign in as: a pool of call-takers, dispatchers, readers
and callback officers at the province, a unit head at the city, handlers and unit heads at
each county, officers at the station, users of an enterprise at Chengguan, and one auditor
per node for the loss check. Everything is described in one JSON file (``network.json``),
which is also how ops point a run at a network they started themselves (``--network FILE``;
the format is in docs/loadtest.md).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.officers import Role
from node.devnet.officers import DEVNET_PASSWORD, DevnetOfficer
from node.devnet.processes import LocalNetwork, NodeProcess
from node.devnet.samples import GANSU_WORLD, GYM
from proto.hotline.v1 import enrolment_pb2

NODES = ("province", "city", "chengguan", "qilihe", "station")
NODE_ARGS = ("--metrics-port", "0", "--sweep-interval", "5")
"""Every node of the run serves its Prometheus metrics on a free loopback port (the report
reads them: ``loadtest.node_metrics``), and sweeps its deadlines every 5 s instead of 30, so
that even a short run times a few sweeps under the load."""
ENTERPRISE_PASSWORD = "Gym-owner-2027-ok"

ROLES_OF_POOL: dict[str, tuple[tuple[str, ...], int, tuple[Role, ...]]] = {
    "call_taker": (("province",), 10, (Role.OPERATOR,)),
    "dispatcher": (("province",), 20, (Role.DISPATCHER,)),
    "reader": (("province",), 30, (Role.SUPERVISOR, Role.OPERATOR)),
    "callback": (("province",), 40, (Role.OPERATOR,)),
    "county_officer": (("chengguan", "qilihe"), 10, (Role.HANDLER,)),
    "unit_head": (("chengguan", "qilihe"), 20, (Role.UNIT_HEAD,)),
    "station_officer": (("station",), 10, (Role.STATION_OFFICER,)),
    "city_head": (("city",), 20, (Role.UNIT_HEAD,)),
}
"""Locust role: (the nodes it works at, first officer number, roles on the roster). The
callback (回访) is made by the unit that took the call: the province's centre."""

AUDITOR_ROLES: dict[str, tuple[Role, ...]] = {
    "province": (Role.SUPERVISOR, Role.DISPATCHER),
    "city": (Role.DISPATCHER, Role.HANDLER),
    "chengguan": (Role.HANDLER,),
    "qilihe": (Role.HANDLER,),
    "station": (Role.STATION_OFFICER,),
}


def _officer(node: NodeProcess, number: int, name: str, roles: tuple[Role, ...]) -> dict[str, Any]:
    """Put officer ``UNIT-NN`` on ``node``'s roster; what a user needs to sign in as them."""
    assert node.signins is not None
    officer_id = f"{node.unit}-{number:02d}"
    node.signins.add([DevnetOfficer(officer_id, name, roles)])
    return {
        "node": node.name,
        "officer_id": officer_id,
        "password": DEVNET_PASSWORD,
        "totp_secret": node.signins.secrets[officer_id],
    }


def metrics_address(node: NodeProcess) -> str:
    """``127.0.0.1:PORT`` of the node's metrics endpoint, from the port file it wrote ("" when
    it serves none)."""
    ports = json.loads((node.data_dir / "port").read_text(encoding="utf-8"))
    port = int(ports.get("metrics_port", 0) or 0)
    return f"127.0.0.1:{port}" if port > 0 else ""


def _enterprise_user(node: NodeProcess, number: int) -> dict[str, Any]:
    """A user of the Chengguan gym at ``node`` (added by its security administrator)."""
    assert node.signins is not None
    user_id = f"gym-{number:02d}"
    with node.client(node.signins.security_admin) as admin:
        added = admin.add_enterprise_user(
            GYM.credit_code, user_id, "张经理", ENTERPRISE_PASSWORD, enterprise_name=GYM.name
        )
    return {
        "node": node.name,
        "credit_code": GYM.credit_code,
        "user_id": user_id,
        "password": ENTERPRISE_PASSWORD,
        "totp_secret": added.totp_secret,
    }


def _enrol_gym(network: LocalNetwork) -> bool:
    """Enrol the Chengguan gym in the ODR green channel (在线纠纷解决) as a county does it:
    its handler registers the application, its unit head approves; the roster is carried up
    to the province. True once the province's roster lists the gym."""
    county = network["chengguan"]
    letter = hashlib.sha256(f"{GYM.name} 承诺书".encode()).hexdigest()
    with county.client("620102-07") as handler:
        submitted = handler.call(
            "EnrolmentService",
            "SubmitApplication",
            enrolment_pb2.SubmitApplicationRequest(
                request_id=f"odr-{GYM.credit_code}",
                credit_code=GYM.credit_code,
                name=GYM.name,
                kind=enrolment_pb2.APPLICANT_KIND_ENTERPRISE,
                licence_number="620102600" + GYM.credit_code[-6:],
                commitment_letter_sha256=letter,
                address=GYM.address,
                region="620102",
                contact_name="王经理",
                contact_phone="0931-8000000",
                fixed_premises=True,
                staff_count=2,
                online_computer=True,
                dedicated_phone=True,
                handling_rules=True,
            ),
        )
    with county.client("620102-01") as head:
        head.call(
            "EnrolmentService",
            "ReviewApplication",
            enrolment_pb2.ReviewApplicationRequest(
                application_id=submitted.application_id,
                approve=True,
                first_user_id="gym-owner",
                first_user_name="王经理",
                first_user_password=ENTERPRISE_PASSWORD,
            ),
        )
    network.settle()
    with network["province"].client("620000-01") as centre:
        roster = centre.call("EnrolmentService", "GetRoster", enrolment_pb2.GetRosterRequest())
    return any(entry.credit_code == GYM.credit_code for entry in roster.entries)


def start_surge_network(network: LocalNetwork, pool: int) -> dict[str, Any]:
    """Start the five nodes under ``network`` (started with ``NODE_ARGS``) and provision
    ``pool`` people per role and node (one per Locust worker); returns the network
    description."""
    network.start_world(GANSU_WORLD, only=set(NODES))
    nodes = {name: network[name] for name in NODES}
    green_channel = _enrol_gym(network)
    people: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES_OF_POOL}
    people["enterprise"] = []
    for i in range(pool):
        for role, (names, first, roles) in ROLES_OF_POOL.items():
            for name in names:
                people[role].append(_officer(nodes[name], first + i, f"压测{role}{i}", roles))
        people["enterprise"].append(_enterprise_user(nodes["chengguan"], i))
    auditors = {
        name: _officer(node, 80, "压测核对员", AUDITOR_ROLES[name]) for name, node in nodes.items()
    }
    root = nodes["province"].signins.root if nodes["province"].signins else b""
    return {
        "root_pem": root.decode("ascii"),
        "nodes": {
            n: {"target": node.target, "unit": node.unit, "metrics": metrics_address(node)}
            for n, node in nodes.items()
        },
        "province": "province",
        "odr_green_channel": green_channel,
        "people": people,
        "auditors": auditors,
    }


def write_network(description: dict[str, Any], path: Path) -> None:
    """Write the description for the Locust processes (mode 0600: it holds credentials)."""
    path.write_text(json.dumps(description, ensure_ascii=False, indent=1), encoding="utf-8")
    path.chmod(0o600)
