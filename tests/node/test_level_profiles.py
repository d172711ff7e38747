"""Each level serves what its profile says and nothing else (the level packages hold their level).

A station has no children and owes no duty of its own: no peer port, no supervision queue, no
rule book service. The national hub judges by no province's rule book. Only the province
amends its rule book; a county reads it.
"""

from __future__ import annotations

import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from core.units import UnitLevel
from node.app.levels import PROFILES
from node.edge.channels import client_channel
from node.edge.client import CallError
from proto.hotline.v1 import rules_pb2
from tests.helpers.world import World, spec

EVERY_NODE = {
    "hotline.v1.IntakeService",
    "hotline.v1.CaseworkService",
    "hotline.v1.AdminService",
    "hotline.v1.AccessService",
    "hotline.v1.ConsumerService",
    "hotline.v1.EnrolmentService",
}
SUPERVISION = "hotline.v1.SupervisionService"
RULES = "hotline.v1.RulesService"
ODR = "hotline.v1.OdrService"
SYNC = "hotline.v1.SyncService"

EXPECTED = {
    "national": (EVERY_NODE | {SUPERVISION}, True),
    "province": (EVERY_NODE | {SUPERVISION, RULES}, True),
    "city": (EVERY_NODE | {SUPERVISION, RULES}, True),
    "chengguan": (EVERY_NODE | {SUPERVISION, RULES, ODR}, True),
    "station": (EVERY_NODE, False),
}
"""Per node of the sample world: the services of its client port, and whether it has a peer
port (SyncService, and OdrRosterSync for the ODR roster, for its children)."""


def client_services(target: str, root: bytes) -> set[str]:
    with client_channel(target, root) as channel:  # reflection needs no token
        replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = {s.name for reply in replies for s in reply.list_services_response.service}
    return {n for n in names if n.startswith("hotline.v1.")}


def test_there_is_one_profile_per_level() -> None:
    assert set(PROFILES) == set(UnitLevel)
    assert all(level is profile.level for level, profile in PROFILES.items())


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_node_serves_what_its_level_serves_and_nothing_else(world: World, name: str) -> None:
    node = world.start(spec(name), parent="")
    services, has_peer_port = EXPECTED[name]
    assert client_services(node.target, node.root) == services
    assert bool(node.peer_port) is has_peer_port
    peer = {m.name for m in node.node.profile.peer_services}
    assert (SYNC in peer) == has_peer_port
    assert ("hotline.v1.OdrRosterSync" in peer) == has_peer_port  # the roster beside the events


def test_only_the_province_amends_its_rule_book(world: World) -> None:
    world.start(spec("province"))
    county = world.start(spec("chengguan"), parent="")
    change = rules_pb2.RuleAmendment(stop_campaign="none")
    # The county's unit head holds a role that amends (core.access.permissions); the county
    # node still does not issue the rule book.
    with world.officer("chengguan", 1) as head, pytest.raises(CallError) as refused:
        head.amend_rules(change)
    assert refused.value.code == "PERMISSION_DENIED"
    assert "province" in refused.value.message
    with county.client() as reader:
        assert reader.rules().rule_book.issuer_unit == "620000"
