"""A county node with its three kinds of officer signed in for real: a security administrator
(made on the machine), an audit administrator and a handler (given credentials by the first).

For the tests of reading the access record (``hotline access-log``) and checking it
(``hotline audit``). Everyone signs in with a password and a TOTP code: nothing here names an
officer in call metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.officers import Role
from node.edge.client import NodeClient
from proto.hotline.v1 import access_pb2
from sync.codec import enum_number
from tests.helpers.signin import STRONG_PASSWORD, HandMovedTime, code_at, make_admin
from tests.helpers.world import InProcessNode, World, spec

SECURITY = "620102-90"
AUDITOR = "620102-93"
HANDLER = "620102-07"
AUDITOR_PASSWORD = "Lanzhou-auditor-2027"
HANDLER_PASSWORD = "Lanzhou-handler-2027"


@dataclass
class AuditedCounty:
    """Chengguan's node, its hand-moved real time, and the TOTP secrets of its officers."""

    node: InProcessNode
    time: HandMovedTime
    secrets: dict[str, str]
    passwords: dict[str, str]

    def sign_in(self, officer: str) -> NodeClient:
        """A client signed in as ``officer`` with the code of now (a fresh 30 s step each time,
        so that no code is spent twice)."""
        self.time.advance(seconds=31)
        client = self.node.client()
        client.sign_in(
            officer, self.passwords[officer], code_at(self.secrets[officer], self.time.ms)
        )
        return client

    def read(self, **wanted: object) -> tuple[list[access_pb2.AccessRecordRow], str]:
        """The rows the audit administrator reads with filter ``wanted``, and the read's
        anchor ``SEQ:DIGEST``."""
        with self.sign_in(AUDITOR) as auditor:
            pages = list(
                auditor.read_access_record(access_pb2.ReadAccessRecordRequest(**wanted))  # type: ignore[arg-type]
            )
        rows = [row for page in pages for row in page.rows]
        return rows, f"{pages[0].head_seq}:{pages[0].head_digest.hex()}"


def start_audited_county(world: World) -> AuditedCounty:
    """Chengguan with a security administrator, an audit administrator and a handler, each with
    credentials."""
    time = HandMovedTime()
    node = world.start(spec("chengguan"), real_ms=time)
    security = make_admin(node, SECURITY, at_ms=time.ms)
    county = AuditedCounty(
        node,
        time,
        {SECURITY: security.totp_secret},
        {SECURITY: STRONG_PASSWORD, AUDITOR: AUDITOR_PASSWORD, HANDLER: HANDLER_PASSWORD},
    )
    with county.sign_in(SECURITY) as admin:
        admin.add_officer(AUDITOR, "审计员", "620102", [enum_number(Role.AUDIT_ADMIN)])
        county.secrets[AUDITOR] = admin.set_credentials(AUDITOR, AUDITOR_PASSWORD).totp_secret
        county.secrets[HANDLER] = admin.set_credentials(HANDLER, HANDLER_PASSWORD).totp_secret
    return county
