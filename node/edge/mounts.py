"""The services of the shared runtime, ready for the level profiles to pick from."""

from __future__ import annotations

from node.app.profile import ServiceMount
from node.edge.access import ACCESS
from node.edge.admin import ADMIN
from node.edge.casework import CASEWORK
from node.edge.consumer import CONSUMER
from node.edge.enrolment import ENROLMENT, ODR_ROSTER_SYNC
from node.edge.intake import INTAKE
from node.edge.odr import ODR
from node.edge.rules import RULES_READ_ONLY
from node.edge.supervision import SUPERVISION
from node.edge.sync import SYNC

EVERY_NODE: tuple[ServiceMount, ...] = (INTAKE, CASEWORK, ADMIN, ACCESS, CONSUMER, ENROLMENT)
"""What every node serves on its client port: registration, handling, administration,
officers' sign-in (a county signs its own officers in while its link is down), the
consumer's page (a consumer follows their ticket on the node that registered it), and the ODR
roster (a county enrols; every node reads)."""

__all__ = [
    "ACCESS",
    "ADMIN",
    "CASEWORK",
    "CONSUMER",
    "ENROLMENT",
    "EVERY_NODE",
    "INTAKE",
    "ODR",
    "ODR_ROSTER_SYNC",
    "RULES_READ_ONLY",
    "SUPERVISION",
    "SYNC",
]
