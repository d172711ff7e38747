"""Who may call what: the one table of every client-port RPC, and the rule that judges a call.

Issue 11, item 3. Every method of every service an officer's tool calls (Intake, Casework,
Supervision, Rules, Admin, Access, Enrolment) has one ``Permission`` here: the roles, any one
of which lets an officer call it, and the jurisdiction rule the call must also pass. A method
without a row is refused (deny by default), and ``tests/node/test_permissions.py`` fails for
it, so a new RPC cannot ship without a decision. SyncService is not here: it is served on the
peer port, to nodes proven by mutual TLS, never to officers; health and reflection stay open.

The command-level rules of the domain stay where they are: the roles of a ticket command are
``core.ticket.authority.ROLES_FOR`` (read here, not copied), and whether a unit has a part in a
ticket is ``core.ticket.authority.why_outside_ticket``. The edge (``node.edge.guard``) gathers
the facts (the acting officer, the ticket, the unit asked about) and asks ``why_refused``.
docs/security.md ("Who may call what") prints ``markdown_table()``; a test keeps the two equal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.access.principals import OUTSIDERS, Principal, PrincipalKind
from core.access.reasons import CallRefusal
from core.officers import ADMIN_ROLES, TICKET_ROLES, Officer, Role
from core.personal.access import REVEAL_ROLES
from core.ticket import commands as c
from core.ticket.authority import ROLES_FOR, covers, why_outside_ticket
from core.ticket.state import TicketState

PACKAGE = "hotline.v1"


class Jurisdiction(enum.Enum):
    """What a call must lie inside, besides the caller's role."""

    NONE = "none"
    """Nothing: the call is about the caller's own session, or reads what any officer may."""
    TICKET = "ticket"
    """The ticket named in the request: the caller's unit holds it, held it, supervises its
    holder, or was ordered to report on it (``why_outside_ticket``)."""
    UNIT = "unit"
    """The unit named in the request (empty: the node's own unit) lies inside the caller's
    unit's jurisdiction: a county reads its own queue, a city those of its counties."""
    NODE = "node"
    """The caller's unit is the node's unit: what changes or runs the node itself."""


@dataclass(frozen=True)
class Permission:
    """Who may call one RPC."""

    roles: frozenset[Role]
    """Any one of these lets an officer call it; empty with ``open``: no officer is needed."""
    jurisdiction: Jurisdiction = Jurisdiction.NONE
    field: str = ""
    """The request field naming the ticket (TICKET) or the unit (UNIT)."""
    open: bool = False
    """No officer needed at all (the sign-ins: they are how one becomes a caller)."""
    outsiders: frozenset[PrincipalKind] = frozenset()
    """Callers who are not officers and may call it too: ``enterprise`` users, ``consumer``s
    (``core.access.principals``). A consumer's call must name their own ticket in ``field``
    (``why_outsider_refused``)."""


EVERY_ROLE = frozenset(Role)
"""Any officer on the roster."""

_TICKET = Jurisdiction.TICKET
_NODE = Jurisdiction.NODE


def _step(command: type) -> Permission:
    """A casework step: the command's roles (``ROLES_FOR``), on a ticket the unit has part in."""
    return Permission(ROLES_FOR[command], _TICKET, "ticket_id")


def _admin(*roles: Role, jurisdiction: Jurisdiction = _NODE) -> Permission:
    return Permission(frozenset(roles), jurisdiction)


_READ_TICKET = Permission(TICKET_ROLES, _TICKET, "ticket_id")
_EVERYONE_SIGNED_IN = Permission(EVERY_ROLE, outsiders=OUTSIDERS)
"""Any officer, enterprise user or consumer: what is about the caller's own session."""

_CONSUMERS_OWN = Permission(
    frozenset(), _TICKET, "ticket_id", outsiders=frozenset({PrincipalKind.CONSUMER})
)
"""The consumer's session of the ticket the request names, and nobody else (no officer)."""

PERMISSIONS: dict[str, dict[str, Permission]] = {
    "IntakeService": {
        "RegisterTicket": Permission(ROLES_FOR[c.RegisterTicket], _NODE),
        "GetTicket": Permission(
            TICKET_ROLES, _TICKET, "ticket_id", outsiders=frozenset({PrincipalKind.CONSUMER})
        ),
        "ListTickets": Permission(TICKET_ROLES, Jurisdiction.UNIT, "holder_prefix"),
        "GetTicketHistory": _READ_TICKET,
        "GetTicketDeadlines": _READ_TICKET,
        # A look at a filer in full (core.personal.access): the table judges roles and the
        # ticket; the desk asks the reporter rule (举报人信息保密) of the ticket as it stands.
        "RevealPersonalData": Permission(REVEAL_ROLES, _TICKET, "ticket_id"),
    },
    "CaseworkService": {
        "RouteTicket": _step(c.RouteTicket),
        "ReturnTicket": _step(c.ReturnTicket),
        "AcceptComplaint": _step(c.AcceptComplaint),
        "RefuseComplaint": _step(c.RefuseComplaint),
        "AssignToStation": _step(c.AssignToStation),
        "PauseMediation": _step(c.PauseMediation),
        "ResumeMediation": _step(c.ResumeMediation),
        "EndMediation": _step(c.EndMediation),
        "VerifyReport": _step(c.VerifyReport),
        "OpenCase": _step(c.OpenCase),
        "SubmitResult": _step(c.SubmitResult),
        "ApproveResult": _step(c.ApproveResult),
        "RejectResult": _step(c.RejectResult),
        "AnswerInquiry": _step(c.AnswerInquiry),
        "RecordCallback": _step(c.RecordCallback),
        "RequestExtension": _step(c.RequestExtension),
        "DecideExtension": _step(c.DecideExtension),
        "OrderSupervision": _step(c.OrderSupervision),
        "ReportSupervision": _step(c.ReportSupervision),
    },
    "SupervisionService": {
        "GetQueue": Permission(TICKET_ROLES, Jurisdiction.UNIT, "unit_code"),
    },
    "RulesService": {
        "GetRules": Permission(EVERY_ROLE),
        "AmendRules": Permission(frozenset({Role.UNIT_HEAD, Role.SUPERVISOR}), _NODE),
    },
    "AdminService": {
        "Ping": _admin(*EVERY_ROLE, jurisdiction=Jurisdiction.NONE),
        "GetNodeInfo": _admin(*EVERY_ROLE, jurisdiction=Jurisdiction.NONE),
        "ListUnits": _admin(*EVERY_ROLE, jurisdiction=Jurisdiction.NONE),
        "RegisterOfficer": _admin(Role.SECURITY_ADMIN),
        "ListOfficers": _admin(Role.SECURITY_ADMIN, Role.AUDIT_ADMIN),
        "RegisterUnit": _admin(Role.SYSTEM_ADMIN),
        "SyncNow": _admin(Role.SYSTEM_ADMIN),
        "GetSyncStatus": _admin(Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
        "ListAlerts": _admin(Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
        "ReleaseQuarantine": _admin(Role.SYSTEM_ADMIN),
        "PublishTrust": _admin(Role.SYSTEM_ADMIN),
        "PushOfficer": Permission(frozenset({Role.SECURITY_ADMIN}), Jurisdiction.UNIT, "unit_code"),
        "RevokeOfficer": _admin(Role.SECURITY_ADMIN),
        "ListOfficerAccounts": Permission(
            frozenset({Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}),
            Jurisdiction.UNIT,
            "prefix",
        ),
    },
    "AccessService": {
        "SignIn": Permission(frozenset(), open=True),
        "SignOut": _EVERYONE_SIGNED_IN,
        "WhoAmI": _EVERYONE_SIGNED_IN,
        "SetCredentials": Permission(frozenset({Role.SECURITY_ADMIN}), _NODE),
        "ReadAccessRecord": Permission(frozenset({Role.AUDIT_ADMIN}), _NODE),
        "EnterpriseSignIn": Permission(frozenset(), open=True),
        "ConsumerSignIn": Permission(frozenset(), open=True),
        "AddEnterpriseUser": Permission(frozenset({Role.SECURITY_ADMIN}), _NODE),
    },
    # The ODR green channel (issue 13): enterprise users only, whose dispute it is the desk
    # checks against the session's credit code (node.desks.odr), recording a refusal.
    "OdrService": {
        name: Permission(frozenset(), outsiders=frozenset({PrincipalKind.ENTERPRISE}))
        for name in (
            "ListDisputes",
            "GetDispute",
            "RecordContact",
            "ProposeSettlement",
            "CloseDispute",
            "GetPerformance",
        )
    },
    # The consumer's page (issue 13, item 4): filing online is open, like the sign-ins (the
    # desk limits it per caller address); the rest is the consumer's own ticket, no officer's.
    "ConsumerService": {
        "FileComplaint": Permission(frozenset(), open=True),
        "FollowTicket": _CONSUMERS_OWN,
        "AnswerProposal": _CONSUMERS_OWN,
        "RateHandling": _CONSUMERS_OWN,
    },
    # The ODR green channel's roster (issue 13): a county's handlers register applications,
    # its unit head reviews them and decides removals; officers of a county or above list a
    # unit (the desk checks the unit is theirs); any officer reads the roster and standings.
    "EnrolmentService": {
        "SubmitApplication": Permission(frozenset({Role.HANDLER, Role.UNIT_HEAD}), _NODE),
        "ReviewApplication": Permission(frozenset({Role.UNIT_HEAD}), _NODE),
        "ListApplications": Permission(frozenset({Role.HANDLER, Role.UNIT_HEAD}), _NODE),
        "GetRoster": Permission(EVERY_ROLE),
        "SetListing": Permission(frozenset({Role.HANDLER, Role.UNIT_HEAD, Role.SUPERVISOR}), _NODE),
        "GetStandings": Permission(
            frozenset({Role.HANDLER, Role.UNIT_HEAD, Role.SUPERVISOR}), _NODE
        ),
        "DecideRemoval": Permission(frozenset({Role.UNIT_HEAD}), _NODE),
        "ReviewStandings": Permission(frozenset({Role.UNIT_HEAD, Role.SUPERVISOR}), _NODE),
    },
}
"""Every client-port RPC by service and method, and who may call it."""


def permission_of(method: str) -> Permission | None:
    """The permission of ``/hotline.v1.Service/Method``; None when the table has no row."""
    service, _, name = method.removeprefix(f"/{PACKAGE}.").partition("/")
    return PERMISSIONS.get(service, {}).get(name)


@dataclass(frozen=True)
class Refused:
    """A call the table refuses, and the sentence the caller reads."""

    denial: CallRefusal
    """NO_RULE, MISSING_ROLE or OUTSIDE_JURISDICTION (the access record's reason)."""
    message: str


@dataclass(frozen=True)
class CallScope:
    """What a call is about, as the edge found it."""

    node_unit: str
    unit: str = ""
    """The unit the request names (UNIT); empty: the node's own unit."""
    ticket: TicketState | None = None
    """The ticket the request names (TICKET), as held here; None when not held here (the
    method answers NOT_FOUND itself)."""


def role_names(roles: frozenset[Role]) -> str:
    """``a, b or c``, in the order of the enum."""
    names = [r.value for r in Role if r in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def why_refused(
    method: str, rule: Permission, officer: Officer, scope: CallScope
) -> Refused | None:
    """The reason ``officer`` may not make this call, or None. Roles first, then jurisdiction."""
    name = method.rpartition("/")[2]
    if not rule.roles:
        kinds = " or ".join(k.value for k in PrincipalKind if k in rule.outsiders)
        return Refused(
            CallRefusal.MISSING_ROLE,
            f"{name} is not an officer's call: it is for a {kinds or 'nobody'} session; officer "
            f"{officer.officer_id} may not make it",
        )
    if not officer.has(*rule.roles):
        held = role_names(officer.roles) if officer.roles else "no role"
        return Refused(
            CallRefusal.MISSING_ROLE,
            f"{name} needs the role {role_names(rule.roles)}; officer {officer.officer_id} "
            f"holds {held}",
        )
    reason: str | None = None
    match rule.jurisdiction:
        case Jurisdiction.NODE:
            if officer.unit_code != scope.node_unit:
                reason = f"{name} is for officers of this node's unit {scope.node_unit}"
        case Jurisdiction.UNIT:
            unit = scope.unit or scope.node_unit
            if not covers(officer.ref(), unit):
                reason = f"{unit} ({rule.field}) is outside the jurisdiction of {officer.unit_code}"
        case Jurisdiction.TICKET:
            if scope.ticket is not None:
                reason = why_outside_ticket(scope.ticket, officer.ref())
    if reason is None:
        return None
    return Refused(CallRefusal.OUTSIDE_JURISDICTION, f"{name}: {reason}")


def why_outsider_refused(
    method: str, rule: Permission, principal: Principal, named: str
) -> Refused | None:
    """The reason an enterprise user or a consumer may not make this call, or None.

    Only rows that name their kind let them in; a consumer's call must be about their own
    ticket (``named``: the request's ``rule.field``); an enterprise user passes rows open to
    enterprises without a jurisdiction (their own session, OdrService: whose dispute it is the
    ODR desk checks against the session's credit code).
    """
    name = method.rpartition("/")[2]
    kind = principal.kind
    if kind not in rule.outsiders:
        return Refused(
            CallRefusal.MISSING_ROLE,
            f"{name} is not open to a {kind.value} ({principal.label}); it needs "
            + (f"the role {role_names(rule.roles)}" if rule.roles else "no session"),
        )
    if rule.jurisdiction is Jurisdiction.NONE:
        return None
    if kind is PrincipalKind.CONSUMER and rule.jurisdiction is _TICKET and named == principal.scope:
        return None
    return Refused(
        CallRefusal.OUTSIDE_JURISDICTION,
        f"{name}: {named or 'nothing'} ({rule.field}) is not the ticket of this {kind.value} "
        f"session",
    )


def _who(rule: Permission) -> str:
    if rule.open:
        return "anyone (no officer)"
    if rule.roles == EVERY_ROLE:
        who = "any officer"
    elif rule.roles == TICKET_ROLES:
        who = "any ticket role"
    else:
        who = ", ".join(f"`{r.value}`" for r in Role if r in rule.roles)
    outsiders = [f"`{k.value}`" for k in PrincipalKind if k in rule.outsiders]
    return ", ".join([who, *outsiders] if rule.roles else outsiders)


def markdown_table() -> str:
    """The table as docs/security.md shows it ("Who may call what")."""
    lines = [
        "| service | method | who (any of) | jurisdiction |",
        "|---|---|---|---|",
    ]
    for service, methods in PERMISSIONS.items():
        for name, rule in methods.items():
            where = rule.jurisdiction.value + (f" (`{rule.field}`)" if rule.field else "")
            lines.append(f"| {service} | {name} | {_who(rule)} | {where} |")
    return "\n".join(lines) + "\n"


__all__ = [
    "ADMIN_ROLES",
    "EVERY_ROLE",
    "PERMISSIONS",
    "CallScope",
    "Jurisdiction",
    "Permission",
    "Refused",
    "markdown_table",
    "permission_of",
    "why_outsider_refused",
    "why_refused",
]
