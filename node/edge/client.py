"""A small typed client for one node: what the CLI, the demo and the tests call.

It talks to the node's client port over TLS, checking the node's certificate against the
national root it is given (``node.edge.channels``), and sends the session token of a sign-in
(``authorization: Bearer ...``) with every call: without one, nothing but ``sign_in`` and the
health check is served. Every call takes keyword-only ``timeout``. A failed call raises
``CallError`` carrying the gRPC status code name and the server's one-line message, raised from
the original ``grpc.RpcError``. When the node cannot be reached the client looks at what
listens at the address (``sync.ports``) and says so in words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from core.errors import HotlineError
from node.edge.caller import AUTHORIZATION_METADATA, BEARER
from node.edge.channels import client_channel, server_name
from proto.hotline.v1 import (
    access_pb2,
    access_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    casework_pb2,
    casework_pb2_grpc,
    consumer_pb2_grpc,
    enrolment_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    odr_pb2_grpc,
    rules_pb2,
    rules_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
    sync_pb2,
    ticket_pb2,
)
from sync.codec import ProtoEnumValue
from sync.errors import pushback_ms
from sync.ports import ListenerKind, listener_kind

DEFAULT_TIMEOUT = 15.0


def token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """The metadata of a call with session ``token`` (none for an empty token).

    For callers that make their own channel, such as the intake benchmark's raw-bytes calls.
    """
    return ((AUTHORIZATION_METADATA, BEARER + token),) if token else ()


class CallError(HotlineError):
    """A call to a node failed; ``code`` is the status code name, e.g. INVALID_ARGUMENT."""

    def __init__(self, code: str, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms
        """The node's hint of when to try again (``grpc-retry-pushback-ms``), if it gave one."""


class NodeClient:
    """Calls one node's services over TLS, as the officer whose session ``token`` it sends.

    ``root`` is the national root certificate (PEM) the node's certificate must chain to;
    ``unit``, when known, the unit whose node must answer (else any node of the hierarchy).
    """

    def __init__(self, target: str, *, root: bytes, token: str = "", unit: str = "") -> None:
        self.target = target
        self.root = root
        self.unit = unit
        self.token = token
        """The session token sent with every call ('' for none); ``sign_in`` sets it."""
        self.officer_id = ""
        """The officer signed in by ``sign_in`` ('' until then, or when made with a token)."""
        self._channel = client_channel(target, root, unit=unit)
        self.access = access_pb2_grpc.AccessServiceStub(self._channel)
        self.intake = intake_pb2_grpc.IntakeServiceStub(self._channel)
        self.casework = casework_pb2_grpc.CaseworkServiceStub(self._channel)
        self.consumer = consumer_pb2_grpc.ConsumerServiceStub(self._channel)
        self.admin = admin_pb2_grpc.AdminServiceStub(self._channel)
        self.supervision = supervision_pb2_grpc.SupervisionServiceStub(self._channel)
        self.rules_service = rules_pb2_grpc.RulesServiceStub(self._channel)
        self.odr = odr_pb2_grpc.OdrServiceStub(self._channel)
        self.enrolment = enrolment_pb2_grpc.EnrolmentServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_token(self, token: str) -> NodeClient:
        """A client for the same node sending another session token ('' for none)."""
        return NodeClient(self.target, root=self.root, token=token, unit=self.unit)

    def _call(self, method: Any, request: Message, *, timeout: float) -> Any:
        try:
            return method(request, timeout=timeout, metadata=token_metadata(self.token))
        except grpc.RpcError as exc:
            raise self._call_error(exc) from exc

    def _call_error(self, exc: grpc.RpcError) -> CallError:
        """A failed call as a ``CallError``: its code's name, the server's message and any
        retry pushback it sent."""
        code = exc.code().name if callable(getattr(exc, "code", None)) else "UNKNOWN"
        details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
        if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            details = self.unreachable(details or "")
        return CallError(code, details or "", pushback_ms(exc))

    def unreachable(self, details: str) -> str:
        """Why the node did not answer, in words where the address tells more than gRPC."""
        kind = listener_kind(self.target)
        if kind is ListenerKind.TLS:
            return (
                f"{self.target} answers in TLS but the call failed ({details}): if the "
                "handshake failed, its certificate does not chain to the national root given "
                f"(--root / HOTLINE_ROOT) or does not carry the name {server_name(self.unit)}, "
                "or it is a node's peer port (mutual TLS, for its child nodes): officers and "
                "tools call its client port (--port: the address after 'serving on' in the "
                "node's start line)"
            )
        if kind is ListenerKind.PLAIN:
            return (
                f"{self.target} answers without TLS: it is not a node's client port (a node "
                "serves officers over TLS only)"
            )
        if kind is ListenerKind.NOTHING:
            return (
                f"nothing listens on {self.target} (connection refused): is the node running, "
                "and is this its client port?"
            )
        return details

    # -- access ------------------------------------------------------------------------------

    def sign_in(
        self, officer_id: str, password: str, totp_code: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> access_pb2.SignInResponse:
        """Sign in; the client sends the new token from then on."""
        response: access_pb2.SignInResponse = self._call(
            self.access.SignIn,
            access_pb2.SignInRequest(officer_id=officer_id, password=password, totp_code=totp_code),
            timeout=timeout,
        )
        self.token, self.officer_id = response.token, response.session.officer_id
        return response

    def sign_out(self, *, timeout: float = DEFAULT_TIMEOUT) -> access_pb2.SignOutResponse:
        """End the session of the client's token; the client forgets it."""
        response: access_pb2.SignOutResponse = self._call(
            self.access.SignOut, access_pb2.SignOutRequest(), timeout=timeout
        )
        self.token = ""
        return response

    def who_am_i(self, *, timeout: float = DEFAULT_TIMEOUT) -> access_pb2.Session:
        """The session of the client's token."""
        result: access_pb2.Session = self._call(
            self.access.WhoAmI, access_pb2.WhoAmIRequest(), timeout=timeout
        )
        return result

    def set_credentials(
        self, officer_id: str, password: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> access_pb2.SetCredentialsResponse:
        """Set an officer's password and a new TOTP secret (a signed-in security administrator)."""
        result: access_pb2.SetCredentialsResponse = self._call(
            self.access.SetCredentials,
            access_pb2.SetCredentialsRequest(officer_id=officer_id, password=password),
            timeout=timeout,
        )
        return result

    def read_access_record(
        self, request: access_pb2.ReadAccessRecordRequest, *, timeout: float = 300.0
    ) -> Iterator[access_pb2.AccessRecordPage]:
        """The access record's matching rows, page by page as the node streams them (an audit
        administrator); ``timeout`` bounds the whole read."""
        pages = self._call(self.access.ReadAccessRecord, request, timeout=timeout)
        try:
            yield from pages
        except grpc.RpcError as exc:
            raise self._call_error(exc) from exc
        finally:
            pages.cancel()

    def call(
        self, service: str, method: str, request: Message, *, timeout: float = DEFAULT_TIMEOUT
    ) -> Any:
        """Call any method of the client port by its service's and its own name (``Intake``
        ... ``Access``: ``IntakeService``, ``GetTicket``), as this client. A method that streams
        its answer is read to the end: the answer is the list of its messages."""
        stubs = {
            "IntakeService": self.intake,
            "CaseworkService": self.casework,
            "ConsumerService": self.consumer,
            "SupervisionService": self.supervision,
            "RulesService": self.rules_service,
            "AdminService": self.admin,
            "AccessService": self.access,
            "OdrService": self.odr,
            "EnrolmentService": self.enrolment,
        }
        answer: Any = self._call(getattr(stubs[service], method), request, timeout=timeout)
        if not isinstance(answer, grpc.Call):
            return answer
        try:
            streamed = cast("Iterator[Any]", answer)  # a server stream: a Call and an iterator
            return list(streamed)
        except grpc.RpcError as exc:
            raise self._call_error(exc) from exc

    def enterprise_sign_in(
        self,
        credit_code: str,
        user_id: str,
        password: str,
        totp_code: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> access_pb2.SignInResponse:
        """Sign in as an enterprise user; the client sends the new token from then on."""
        response: access_pb2.SignInResponse = self._call(
            self.access.EnterpriseSignIn,
            access_pb2.EnterpriseSignInRequest(
                credit_code=credit_code, user_id=user_id, password=password, totp_code=totp_code
            ),
            timeout=timeout,
        )
        self.token, self.officer_id = response.token, ""
        return response

    def consumer_sign_in(
        self, ticket_id: str, code: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> access_pb2.SignInResponse:
        """Sign in as the consumer of a ticket (its verification code); the client sends the
        new token from then on."""
        response: access_pb2.SignInResponse = self._call(
            self.access.ConsumerSignIn,
            access_pb2.ConsumerSignInRequest(ticket_id=ticket_id, code=code),
            timeout=timeout,
        )
        self.token, self.officer_id = response.token, ""
        return response

    def add_enterprise_user(
        self,
        credit_code: str,
        user_id: str,
        name: str,
        password: str,
        *,
        enterprise_name: str = "",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> access_pb2.AddEnterpriseUserResponse:
        """Add an enterprise user (a signed-in security administrator of the county)."""
        result: access_pb2.AddEnterpriseUserResponse = self._call(
            self.access.AddEnterpriseUser,
            access_pb2.AddEnterpriseUserRequest(
                credit_code=credit_code,
                enterprise_name=enterprise_name,
                user_id=user_id,
                name=name,
                password=password,
            ),
            timeout=timeout,
        )
        return result

    # -- intake ------------------------------------------------------------------------------

    def register(
        self, request_id: str, ticket: intake_pb2.NewTicket, *, timeout: float = DEFAULT_TIMEOUT
    ) -> intake_pb2.RegisterTicketResponse:
        """Register a ticket (idempotent on ``request_id``)."""
        request = intake_pb2.RegisterTicketRequest(request_id=request_id, ticket=ticket)
        result: intake_pb2.RegisterTicketResponse = self._call(
            self.intake.RegisterTicket, request, timeout=timeout
        )
        return result

    def get(self, ticket_id: str, *, timeout: float = DEFAULT_TIMEOUT) -> ticket_pb2.Ticket:
        """A ticket's current state on this node."""
        result: ticket_pb2.Ticket = self._call(
            self.intake.GetTicket, intake_pb2.GetTicketRequest(ticket_id=ticket_id), timeout=timeout
        )
        return result

    def list_tickets(
        self,
        *,
        holder_prefix: str = "",
        status: ProtoEnumValue = 0,
        page_size: int = 500,
        in_conflict_only: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[intake_pb2.TicketSummary]:
        """Every ticket summary matching the filters (all pages)."""
        found: list[intake_pb2.TicketSummary] = []
        token = ""
        while True:
            page: intake_pb2.ListTicketsResponse = self._call(
                self.intake.ListTickets,
                intake_pb2.ListTicketsRequest(
                    holder_prefix=holder_prefix,
                    status=status,
                    page_size=page_size,
                    page_token=token,
                    in_conflict_only=in_conflict_only,
                ),
                timeout=timeout,
            )
            found.extend(page.tickets)
            token = page.next_page_token
            if not token:
                return found

    def history(
        self, ticket_id: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> intake_pb2.TicketHistory:
        """Every event of a ticket held on this node, with signers."""
        result: intake_pb2.TicketHistory = self._call(
            self.intake.GetTicketHistory,
            intake_pb2.GetTicketHistoryRequest(ticket_id=ticket_id),
            timeout=timeout,
        )
        return result

    def deadlines(
        self, ticket_id: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> intake_pb2.TicketDeadlines:
        """A ticket's open duties on this node and when each is due, provisional ones marked."""
        result: intake_pb2.TicketDeadlines = self._call(
            self.intake.GetTicketDeadlines,
            intake_pb2.GetTicketDeadlinesRequest(ticket_id=ticket_id),
            timeout=timeout,
        )
        return result

    def reveal(
        self,
        ticket_id: str,
        field: ProtoEnumValue,
        purpose: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> intake_pb2.RevealedPersonalData:
        """One personal field of a ticket's filer in full, for ``purpose`` (查看个人信息); the
        node records the look (a signed event, and a row of its access record) before it
        answers."""
        result: intake_pb2.RevealedPersonalData = self._call(
            self.intake.RevealPersonalData,
            intake_pb2.RevealPersonalDataRequest(ticket_id=ticket_id, field=field, purpose=purpose),
            timeout=timeout,
        )
        return result

    # -- casework ----------------------------------------------------------------------------

    def step(
        self, method: str, request: Message, *, timeout: float = DEFAULT_TIMEOUT
    ) -> casework_pb2.StepResponse:
        """Call a CaseworkService method by name, e.g. ``step("AcceptComplaint", request)``."""
        result: casework_pb2.StepResponse = self._call(
            getattr(self.casework, method), request, timeout=timeout
        )
        return result

    # -- admin -------------------------------------------------------------------------------

    def ping(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """The bare no-op call."""
        self._call(self.admin.Ping, admin_pb2.PingRequest(), timeout=timeout)

    def info(self, *, timeout: float = DEFAULT_TIMEOUT) -> admin_pb2.NodeInfo:
        """Who the node is and how its replication stands."""
        result: admin_pb2.NodeInfo = self._call(
            self.admin.GetNodeInfo, admin_pb2.GetNodeInfoRequest(), timeout=timeout
        )
        return result

    def add_officer(
        self,
        officer_id: str,
        name: str,
        unit_code: str,
        roles: list[ProtoEnumValue],
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> admin_pb2.OfficerRecord:
        """Put an officer on the node's roster."""
        result: admin_pb2.OfficerRecord = self._call(
            self.admin.RegisterOfficer,
            admin_pb2.OfficerRecord(
                officer_id=officer_id, name=name, unit_code=unit_code, roles=roles
            ),
            timeout=timeout,
        )
        return result

    def push_officer(
        self,
        officer_id: str,
        name: str,
        unit_code: str,
        roles: list[ProtoEnumValue],
        *,
        note: str = "",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> admin_pb2.OfficerAccountView:
        """Make or change an officer's account for a unit inside the node's jurisdiction."""
        result: admin_pb2.OfficerAccountView = self._call(
            self.admin.PushOfficer,
            admin_pb2.PushOfficerRequest(
                officer_id=officer_id, name=name, unit_code=unit_code, roles=roles, note=note
            ),
            timeout=timeout,
        )
        return result

    def revoke_officer(
        self,
        officer_id: str,
        reason: str,
        *,
        unit_code: str = "",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> admin_pb2.OfficerAccountView:
        """Revoke an officer's account (it reaches their node at its next sync)."""
        result: admin_pb2.OfficerAccountView = self._call(
            self.admin.RevokeOfficer,
            admin_pb2.RevokeOfficerRequest(
                officer_id=officer_id, reason=reason, unit_code=unit_code
            ),
            timeout=timeout,
        )
        return result

    def officer_accounts(
        self, prefix: str = "", *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[admin_pb2.OfficerAccountView]:
        """The officer accounts the node holds under a unit prefix, by officer id."""
        result: admin_pb2.ListOfficerAccountsResponse = self._call(
            self.admin.ListOfficerAccounts,
            admin_pb2.ListOfficerAccountsRequest(prefix=prefix),
            timeout=timeout,
        )
        return list(result.accounts)

    def add_unit(
        self,
        code: str,
        name: str,
        level: ProtoEnumValue,
        parent_code: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> admin_pb2.UnitRecord:
        """Make a unit (a station) known to the node."""
        result: admin_pb2.UnitRecord = self._call(
            self.admin.RegisterUnit,
            admin_pb2.UnitRecord(code=code, name=name, level=level, parent_code=parent_code),
            timeout=timeout,
        )
        return result

    def sync_now(self, *, timeout: float = 60.0) -> admin_pb2.SyncReport:
        """Run one replication round with the parent now."""
        result: admin_pb2.SyncReport = self._call(
            self.admin.SyncNow, admin_pb2.SyncNowRequest(), timeout=timeout
        )
        return result

    def queue(
        self, unit_code: str = "", due_within_days: int = 3, *, timeout: float = DEFAULT_TIMEOUT
    ) -> supervision_pb2.Queue:
        """A unit's queue: due soon, overdue, escalated to it."""
        result: supervision_pb2.Queue = self._call(
            self.supervision.GetQueue,
            supervision_pb2.GetQueueRequest(unit_code=unit_code, due_within_days=due_within_days),
            timeout=timeout,
        )
        return result

    def sync_status(self, *, timeout: float = DEFAULT_TIMEOUT) -> admin_pb2.SyncStatus:
        """Replication with each peer, quarantined origins and alert counts."""
        result: admin_pb2.SyncStatus = self._call(
            self.admin.GetSyncStatus, admin_pb2.GetSyncStatusRequest(), timeout=timeout
        )
        return result

    def alerts(
        self, limit: int = 100, *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[admin_pb2.Alert]:
        """Open alerts, newest first."""
        result = self._call(
            self.admin.ListAlerts, admin_pb2.ListAlertsRequest(limit=limit), timeout=timeout
        )
        return list(result.alerts)

    def release_quarantine(
        self, origin_node: str, note: str = "", *, timeout: float = DEFAULT_TIMEOUT
    ) -> bool:
        """Let a quarantined origin in again."""
        result = self._call(
            self.admin.ReleaseQuarantine,
            admin_pb2.ReleaseQuarantineRequest(origin_node=origin_node, note=note),
            timeout=timeout,
        )
        return bool(result.released)

    def publish_trust(
        self, bundle: sync_pb2.TrustBundle, *, timeout: float = DEFAULT_TIMEOUT
    ) -> admin_pb2.PublishTrustResponse:
        """Hand authorities or revocation lists to the node (they spread from there)."""
        result: admin_pb2.PublishTrustResponse = self._call(
            self.admin.PublishTrust, bundle, timeout=timeout
        )
        return result

    def rules(self, *, timeout: float = DEFAULT_TIMEOUT) -> rules_pb2.RulesView:
        """The province rule book this node judges deadlines by."""
        result: rules_pb2.RulesView = self._call(
            self.rules_service.GetRules, rules_pb2.GetRulesRequest(), timeout=timeout
        )
        return result

    def amend_rules(
        self, change: rules_pb2.RuleAmendment, *, timeout: float = 60.0
    ) -> rules_pb2.RulesView:
        """Issue the next rule book with one change (a province node, its head or supervisor)."""
        result: rules_pb2.RulesView = self._call(
            self.rules_service.AmendRules, change, timeout=timeout
        )
        return result

    def wait_ready(self, *, timeout: float = 20.0) -> None:
        """Block until the node answers health checks with SERVING."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise CallError("UNAVAILABLE", f"{self.target} did not come up in {timeout}s") from None
        response = self._call(self._health.Check, health_pb2.HealthCheckRequest(), timeout=timeout)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise CallError("UNAVAILABLE", f"{self.target} is not serving")
