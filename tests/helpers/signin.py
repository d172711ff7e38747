"""Officers signing in, for tests: a hand-moved real time, codes of now, a first administrator.

Sign-in goes by real wall time (never a drill clock); a test that needs a session to expire
or a lock to end passes a ``HandMovedTime`` to the node (``World.start(..., real_ms=...)``)
and moves it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from core.access import totp
from core.access.record import AccessEntry
from core.ticket.vocabulary import Channel
from node.access import record
from node.access.desk import NewCredentials
from node.access.provisioning import create_first_admin
from node.devnet.officers import DEVNET_PASSWORD
from node.devnet.samples import demo_tickets
from node.edge.client import NodeClient
from node.storage.tables import tickets
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message
from tests.helpers.world import InProcessNode

STRONG_PASSWORD = DEVNET_PASSWORD
"""A password the bureau's rule accepts."""

MINUTE_MS = 60_000


@dataclass
class HandMovedTime:
    """Real time as a node's sign-in desk reads it, moved by the test."""

    ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    def __call__(self) -> int:
        return self.ms

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        """Move time forward."""
        self.ms += round(minutes * MINUTE_MS + seconds * 1000)


def code_at(secret: str, at_ms: int) -> str:
    """The code an authenticator app holding ``secret`` shows at ``at_ms``."""
    return totp.totp(totp.secret_bytes(secret), at_ms)


def make_admin(
    node: InProcessNode,
    officer_id: str,
    *,
    at_ms: int,
    password: str = STRONG_PASSWORD,
    name: str = "张安",
    reset: bool = False,
    renew_provisioned: bool = True,
) -> NewCredentials:
    """The node's first security administrator, made as ``hotline officers init-admin`` does
    (straight on the node's database).

    The world provisions every node with its security administrator (``<unit>-90``); making
    that same officer here renews their credentials (``--reset``), and the world's kept
    sign-ins follow the new secret, so both the test and the world go on signing them in
    (``renew_provisioned=False``: as ``init-admin`` without ``--reset``, refused).
    """
    parts = node.node
    provisioned = (
        renew_provisioned
        and officer_id == node.security_admin
        and officer_id in node.signins.secrets
    )
    made = create_first_admin(
        parts.db,
        parts.identity,
        parts.roster,
        officer_id=officer_id,
        name=name,
        password=password,
        reset=reset or provisioned,
        now_ms=at_ms,
        peer="local:test",
        hashing=parts.access.passwords,
    )
    node.signins.forget(officer_id)
    if password == DEVNET_PASSWORD:
        node.signins.secrets[officer_id] = made.totp_secret
    else:
        node.signins.secrets.pop(officer_id, None)
    return made


def access_rows(node: InProcessNode) -> list[AccessEntry]:
    """The node's access record, first row first."""
    with node.node.db.read() as conn:
        return [row.entry for row in record.read(conn)]


def reasons(node: InProcessNode, after: int = 0) -> list[str]:
    """``action/outcome/reason`` of each row after seq ``after``, for assertions."""
    return [
        f"{e.action.value}/{e.outcome.value}/{e.reason}" for e in access_rows(node) if e.seq > after
    ]


def gym_walk_in() -> intake_pb2.NewTicket:
    """The demo's gym complaint (a Chengguan business) as a visit to the Chengguan bureau."""
    command = replace(dict(demo_tickets())["gym"], channel=Channel.VISIT)
    return to_message(command, intake_pb2.NewTicket)


def register(client: NodeClient) -> str:
    """Register the gym walk-in at the client's node; the new ticket's id."""
    return client.register(uuid.uuid4().hex, gym_walk_in()).ticket_id


def registered_by(client: NodeClient, ticket_id: str) -> str:
    """The officer the ticket's registration event names."""
    return client.history(ticket_id).entries[0].officer.officer_id


def ticket_count(node: InProcessNode) -> int:
    """Tickets the node holds."""
    with node.node.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())
