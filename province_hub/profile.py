"""The national and provincial hubs' profiles: what a command centre's node serves and runs.

A hub registers calls at scale and dispatches them by jurisdiction (the national hub relays
other provinces' tickets), serves its children's replication, and watches the supervision
queue. The province also issues its rule book (``province_hub.rule_book_issuer``), routes a running
campaign's tickets at registration (``province_hub.campaigns``) and looks for professional
claimants across its cities (``province_hub.claimants``). Both hubs erase the personal data of
the tickets they hold once its retention ended; the province also, a grace later, that of its
units' tickets whose holder's node did not (``node.jobs.erasure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grpc import aio

from core.units import UnitLevel
from node.app.profile import LevelProfile, ServiceMount
from node.edge.mounts import EVERY_NODE, ODR_ROSTER_SYNC, SUPERVISION, SYNC
from node.edge.rules import SERVICE_NAME as RULES_SERVICE
from node.edge.rules import RulesServicer
from node.jobs.deadlines import deadline_sweep
from node.jobs.detection import DetectionJob
from node.jobs.erasure import personal_data_erasure
from node.jobs.lookup_rekey import lookup_rekey
from node.jobs.rewrap import data_key_rewrap
from proto.hotline.v1 import rules_pb2_grpc
from province_hub.campaigns import CampaignRouting
from province_hub.claimants import ClaimantFinding, Claimants
from province_hub.rule_book_issuer import RuleBookIssuer

if TYPE_CHECKING:
    from node.app.runtime import Node


def _add_rules(node: Node, server: aio.Server) -> None:
    issuer = RuleBookIssuer(
        node.rules, node.identity, node.roster, node.writer, lookup_keys=node.lookup_keys
    )
    servicer = RulesServicer(node.rules, node.clock.wall_ms, issuer=issuer)
    rules_pb2_grpc.add_RulesServiceServicer_to_server(servicer, server)


ISSUING_RULES = ServiceMount(RULES_SERVICE, _add_rules)
"""RulesService with amending: the province node issues its province's rule book."""


def claimant_detection(node: Node) -> DetectionJob[ClaimantFinding]:
    """Professional-claimant detection over the province's tickets."""
    detector = Claimants(node.own_unit, node.settings.incidents.claimants)
    return DetectionJob(
        detector, node.own_unit, node.db.read, node.writer, node.clock.wall_ms, node.blocking
    )


def campaign_routing(node: Node) -> CampaignRouting:
    """Routing a running campaign's tickets at registration."""
    return CampaignRouting(node.own_unit, node.rules.campaign_of)


NATIONAL = LevelProfile(
    level=UnitLevel.NATIONAL,
    services=(*EVERY_NODE, SUPERVISION, SYNC, ODR_ROSTER_SYNC),
    jobs=(
        ("deadlines", deadline_sweep),
        ("lookup-rekey", lookup_rekey),
        ("erasure", personal_data_erasure),
        ("rewrap", data_key_rewrap),
    ),
)
"""The national hub (总局): relays tickets between provinces; no province rule book."""

PROVINCE = LevelProfile(
    level=UnitLevel.PROVINCE,
    services=(*EVERY_NODE, SUPERVISION, ISSUING_RULES, SYNC, ODR_ROSTER_SYNC),
    jobs=(
        ("deadlines", deadline_sweep),
        ("lookup-rekey", lookup_rekey),
        ("claimants", claimant_detection),
        ("erasure", personal_data_erasure),
        ("rewrap", data_key_rewrap),
    ),
    intake_hooks=(campaign_routing,),
)
"""A provincial hub (省局 command centre)."""
