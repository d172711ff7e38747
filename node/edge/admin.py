"""AdminService: the roster, units, node status, replication and trust. Translates and delegates.

Errors propagate to ``node.edge.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grpc import aio

from core.identifiers import check_code_prefix, check_reference
from core.limits import check_text
from core.officers import Role
from core.units import UnitLevel
from node.app.profile import ServiceMount
from node.desks.officer_accounts import HeldAccount, OfficerAccounts
from node.desks.replication import ReplicationDesk
from node.desks.roster import Roster
from node.edge.caller import acting_officer, peer_of
from proto.hotline.v1 import admin_pb2, admin_pb2_grpc, sync_pb2
from sync.codec import enum_member, enum_number
from sync.officer_account_signing import status_number

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]

MAX_ALERTS = 1000
"""Most alerts one ListAlerts answers with, whatever the caller asks for."""


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    """AdminService: roster, units, node status, a sync round, and the bare no-op."""

    def __init__(
        self, roster: Roster, replication: ReplicationDesk, accounts: OfficerAccounts
    ) -> None:
        self._roster = roster
        self._replication = replication
        self._accounts = accounts

    async def GetSyncStatus(
        self, request: admin_pb2.GetSyncStatusRequest, context: Context
    ) -> admin_pb2.SyncStatus:
        """Replication with each peer: lag in events and time, last error, quarantine."""
        return await self._replication.status()

    async def ListAlerts(
        self, request: admin_pb2.ListAlertsRequest, context: Context
    ) -> admin_pb2.ListAlertsResponse:
        """Alerts raised on this node, newest first (at most ``MAX_ALERTS``)."""
        return await self._replication.alerts(min(request.limit, MAX_ALERTS))

    async def ReleaseQuarantine(
        self, request: admin_pb2.ReleaseQuarantineRequest, context: Context
    ) -> admin_pb2.ReleaseQuarantineResponse:
        """Let a quarantined origin's events in again."""
        origin = check_reference(request.origin_node, "origin_node")
        note = check_text(request.note, "note", required=False, kind="release.note")
        released = await self._replication.release(origin, note)
        return admin_pb2.ReleaseQuarantineResponse(released=released)

    async def PublishTrust(
        self, request: sync_pb2.TrustBundle, context: Context
    ) -> admin_pb2.PublishTrustResponse:
        """Hold new authority certificates or revocation lists (checked against the root)."""
        return await self._replication.publish(request)

    async def Ping(
        self, request: admin_pb2.PingRequest, context: Context
    ) -> admin_pb2.PingResponse:
        """Does nothing; measures the cost of a call on this server."""
        return admin_pb2.PingResponse(payload=request.payload)

    async def GetNodeInfo(
        self, request: admin_pb2.GetNodeInfoRequest, context: Context
    ) -> admin_pb2.NodeInfo:
        """Who this node is and how its replication stands."""
        return await self._replication.info()

    async def RegisterOfficer(
        self, request: admin_pb2.OfficerRecord, context: Context
    ) -> admin_pb2.OfficerRecord:
        """Put an officer on this node's roster (or update them)."""
        roles = frozenset(enum_member(Role, r, "roles") for r in request.roles)
        await self._roster.run(self._accounts.check_local_registration, request.officer_id)
        officer = await self._roster.register_officer(
            request.officer_id, request.name, request.unit_code, roles
        )
        return _officer_record(officer.officer_id, officer.name, officer.unit_code, officer.roles)

    async def ListOfficers(
        self, request: admin_pb2.ListOfficersRequest, context: Context
    ) -> admin_pb2.ListOfficersResponse:
        """The officers on this node's roster."""
        return admin_pb2.ListOfficersResponse(
            officers=[
                _officer_record(o.officer_id, o.name, o.unit_code, o.roles)
                for o in self._roster.officers()
            ]
        )

    async def RegisterUnit(
        self, request: admin_pb2.UnitRecord, context: Context
    ) -> admin_pb2.UnitRecord:
        """Add a unit this node must know: a station of a county, or a division not in the table."""
        level = enum_member(UnitLevel, request.level, "level")
        unit = await self._roster.register_unit(
            request.code, request.name, level, request.parent_code
        )
        return admin_pb2.UnitRecord(
            code=unit.code,
            name=unit.name,
            level=enum_number(unit.level),
            parent_code=unit.parent_code,
        )

    async def ListUnits(
        self, request: admin_pb2.ListUnitsRequest, context: Context
    ) -> admin_pb2.ListUnitsResponse:
        """Units known here under a prefix."""
        check_code_prefix(request.prefix, "prefix")
        return admin_pb2.ListUnitsResponse(
            units=[
                admin_pb2.UnitRecord(
                    code=u.code, name=u.name, level=enum_number(u.level), parent_code=u.parent_code
                )
                for u in sorted(self._roster.units, key=lambda u: u.code)
                if u.code.startswith(request.prefix)
            ]
        )

    async def PushOfficer(
        self, request: admin_pb2.PushOfficerRequest, context: Context
    ) -> admin_pb2.OfficerAccountView:
        """Make or change an officer's account for a unit inside this node's jurisdiction."""
        roles = frozenset(enum_member(Role, r, "roles") for r in request.roles)
        held = await self._accounts.push(
            acting_officer(context),
            request.officer_id,
            request.name,
            request.unit_code,
            roles,
            request.note,
            peer_of(context),
        )
        return account_view(held)

    async def RevokeOfficer(
        self, request: admin_pb2.RevokeOfficerRequest, context: Context
    ) -> admin_pb2.OfficerAccountView:
        """Revoke an officer's account; it reaches the node that signs them in at its sync."""
        held = await self._accounts.revoke(
            acting_officer(context),
            request.officer_id,
            request.reason,
            request.unit_code,
            peer_of(context),
        )
        return account_view(held)

    async def ListOfficerAccounts(
        self, request: admin_pb2.ListOfficerAccountsRequest, context: Context
    ) -> admin_pb2.ListOfficerAccountsResponse:
        """The officer accounts held here under a unit prefix, with their source."""
        prefix = check_code_prefix(request.prefix, "prefix")
        held = await self._roster.run(self._accounts.accounts, prefix)
        return admin_pb2.ListOfficerAccountsResponse(accounts=[account_view(h) for h in held])

    async def SyncNow(
        self, request: admin_pb2.SyncNowRequest, context: Context
    ) -> admin_pb2.SyncReport:
        """Run one replication round with the parent now, and report it."""
        return await self._replication.sync_now()


def account_view(held: HeldAccount) -> admin_pb2.OfficerAccountView:
    """An officer's standing account as shown."""
    a = held.account
    return admin_pb2.OfficerAccountView(
        officer_id=a.officer_id,
        name=a.name,
        unit_code=a.unit_code,
        roles=sorted(enum_number(r) for r in a.roles),
        status=status_number(a.status),
        version=a.version,
        issuer_unit=a.issuer_unit,
        issuer_node=a.issuer_node,
        issued_by=a.issued_by,
        issued_ms=a.issued_ms,
        reason=a.reason,
        source=held.source,
        on_roster=held.on_roster,
    )


def _officer_record(
    officer_id: str, name: str, unit_code: str, roles: frozenset[Role]
) -> admin_pb2.OfficerRecord:
    return admin_pb2.OfficerRecord(
        officer_id=officer_id,
        name=name,
        unit_code=unit_code,
        roles=sorted(enum_number(r) for r in roles),
    )


def _add(node: Node, server: aio.Server) -> None:
    servicer = AdminServicer(node.roster, node.replication, node.officer_accounts)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, server)


ADMIN = ServiceMount(admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name, _add)
"""AdminService, on every node's client port."""
