"""The pure domain's small world: units, officers, ticket drafts and a history builder.

For tests of ``core`` (no node, no database): hypothesis tests, which cannot use
function-scoped fixtures, build the same world as the fixtures of ``tests/core/conftest.py``.
Everything here is pure: the clock is a number the history advances by hand.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from core import hlc
from core.officers import Officer, Role, system_officer
from core.regions import standard_units
from core.ticket import commands as c
from core.ticket.decisions import DecisionContext, decide, forward_walk_in, register_ticket
from core.ticket.events import DomainEvent, EventMeta, RecordedEvent
from core.ticket.fold import fold
from core.ticket.state import TicketState
from core.ticket.vocabulary import (
    BusinessForm,
    Channel,
    Consumer,
    Finding,
    MediationOutcome,
    Respondent,
    SourceLine,
    TicketKind,
    Track,
)
from core.units import Unit, UnitDirectory, UnitLevel
from node.devnet.samples import credit_code

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 16, 9, 30, tzinfo=CHINA)
"""The fixed 'now' of every decision: the Monday after 3·15."""

STATION = Unit("620102001", "张掖路市场监管所", UnitLevel.STATION, "620102")
OTHER_STATION = Unit("620103001", "西湖市场监管所", UnitLevel.STATION, "620103")


def units() -> UnitDirectory:
    """The standard directory plus one station in Chengguan and one in Qilihe."""
    return standard_units(stations=[STATION, OTHER_STATION])


def context(now: datetime = NOW) -> DecisionContext:
    """A decision context over ``units()`` at a fixed time."""
    return DecisionContext(units(), now)


def officer(officer_id: str, name: str, unit: str, *roles: Role) -> Officer:
    """An officer whose level is read off the unit directory."""
    return Officer(officer_id, name, unit, units().get(unit).level, frozenset(roles))


# Province hub (甘肃省局指挥中心)
HUB = officer("620000-01", "王芳", "620000", Role.OPERATOR, Role.DISPATCHER)
HUB_SUPERVISOR = officer("620000-02", "刘洋", "620000", Role.OPERATOR, Role.SUPERVISOR)
HUB_HEAD = officer("620000-03", "马局", "620000", Role.UNIT_HEAD)
# Lanzhou city (兰州市局)
CITY = officer("620100-01", "孙伟", "620100", Role.DISPATCHER, Role.HANDLER)
# Chengguan district (城关区局) and its station
HANDLER = officer("620102-01", "李娜", "620102", Role.HANDLER)
HEAD = officer("620102-02", "张强", "620102", Role.UNIT_HEAD)
HANDLER_AND_HEAD = officer("620102-03", "赵敏", "620102", Role.HANDLER, Role.UNIT_HEAD)
STATION_OFFICER = officer("620102001-01", "周杰", "620102001", Role.STATION_OFFICER)
# Qilihe district (七里河区局), the county next door
OTHER_HANDLER = officer("620103-01", "吴刚", "620103", Role.HANDLER)
OTHER_HEAD = officer("620103-02", "郑洁", "620103", Role.UNIT_HEAD)
# National level and another province, for cross-province routing
NATIONAL = officer("100000-01", "陈立", "100000", Role.DISPATCHER, Role.OPERATOR)
HUNAN_HUB = officer("430000-01", "黄磊", "430000", Role.OPERATOR, Role.DISPATCHER)
ZHUZHOU_HANDLER = officer("430202-01", "罗敏", "430202", Role.HANDLER)


def consumer() -> Consumer:
    """A consumer with a valid mobile number."""
    return Consumer("王小明", "13893112345", "兰州市城关区庆阳路1号")


def respondent(
    *,
    operating: str = "620102",
    registered: str = "",
    form: BusinessForm = BusinessForm.PHYSICAL,
    credit: str | None = None,
    **more: str,
) -> Respondent:
    """A respondent business; by default a gym operating in Chengguan with a valid credit code."""
    home = registered or operating
    home = home if home.isdigit() and len(home) == 6 else "620102"
    code = credit_code(home, 7) if credit is None else credit
    return Respondent(
        name="金城健身俱乐部",
        credit_code=code,
        form=form,
        address="兰州市城关区张掖路88号",
        operating_region=operating,
        registered_region=registered,
        **more,
    )


def draft(kind: TicketKind = TicketKind.COMPLAINT, **changes: Any) -> c.RegisterTicket:
    """A registration command for a prepaid-gym complaint; ``changes`` override any field."""
    base = c.RegisterTicket(
        kind=kind,
        channel=Channel.PHONE,
        source_line=SourceLine.LINE_12315,
        # A consultation keeps no address (core.ticket.registration_checks.MINIMAL_KINDS).
        consumer=replace(consumer(), address="") if kind is TicketKind.CONSULTATION else consumer(),
        respondent=respondent(),
        category="预付式消费/健身",
        facts="办理年卡后健身房闭店，剩余课时无法使用。",
        request="退还剩余费用3000元",
        amount_fen=300_000,
    )
    return replace(base, **changes)


_ids = itertools.count(1)


@dataclass
class History:
    """One ticket's events as recorded by the nodes of the world, with a hand-driven clock.

    ``do`` folds the events held so far, asks ``decide`` for the command's events, wraps each in
    an envelope from the officer's node with the next clock value, and keeps them.
    """

    ticket_id: str
    ctx: DecisionContext = field(default_factory=context)
    events: list[RecordedEvent] = field(default_factory=list)
    wall_ms: int = int(NOW.timestamp() * 1000)
    last_hlc: int = 0
    seqs: dict[str, int] = field(default_factory=dict)

    @classmethod
    def registered(
        cls, by: Officer = HUB, command: c.RegisterTicket | None = None, **kw: object
    ) -> History:
        """A new history that starts with the registration of ``command`` by ``by``."""
        history = cls(f"T{next(_ids):06d}", **kw)  # type: ignore[arg-type]
        event = register_ticket(command or draft(), by, history.ctx, ticket_id=history.ticket_id)
        history.record(by, event)
        return history

    @property
    def state(self) -> TicketState:
        """The fold of every event held."""
        return fold(self.ticket_id, self.events)

    def node_of(self, officer: Officer) -> str:
        """The node an officer works on: one node per unit."""
        return f"node-{officer.unit_code}"

    def advance(self, *, days: float = 0, minutes: float = 0) -> None:
        """Move the wall clock forward."""
        self.wall_ms += int((days * 86_400 + minutes * 60) * 1000)

    def envelope(
        self, officer: Officer, event: DomainEvent, *, node: str = "", at: int | None = None
    ) -> RecordedEvent:
        """Wrap ``event`` as recorded by ``officer`` on ``node`` (default: their unit's node)."""
        node = node or self.node_of(officer)
        seq = self.seqs.get(node, 0) + 1
        self.seqs[node] = seq
        if at is None:
            self.last_hlc = hlc.tick(self.last_hlc, self.wall_ms)
            at = self.last_hlc
        meta = EventMeta(
            event_id=f"{self.ticket_id}-{node}-{seq}",
            ticket_id=self.ticket_id,
            origin_node=node,
            origin_seq=seq,
            hlc=at,
            officer=officer.ref(),
            ticket_version=len(self.events),
        )
        return RecordedEvent(meta, event)

    def record(self, officer: Officer, *events: DomainEvent, node: str = "") -> None:
        """Keep ``events`` as recorded by ``officer`` (no check: they are facts)."""
        for event in events:
            self.events.append(self.envelope(officer, event, node=node))

    def do(self, officer: Officer, command: c.TicketCommand, *, node: str = "") -> TicketState:
        """Carry out ``command`` as ``officer``; returns the new state (raises if refused)."""
        decided = decide(self.state, command, officer, self.ctx)
        self.record(officer, *decided, node=node)
        return self.state


# Common stretches of a ticket's life -------------------------------------------------------


def routed(command: c.RegisterTicket | None = None) -> History:
    """Registered at the province hub and routed by jurisdiction (to Chengguan by default)."""
    history = History.registered(HUB, command or draft())
    history.do(HUB, c.RouteTicket())
    return history


def system(unit: str) -> Officer:
    """The system officer of ``unit``'s node (``core.officers.system_officer``), as an Officer."""
    ref = system_officer(units().get(unit))
    return Officer(ref.officer_id, ref.name, ref.unit_code, ref.unit_level, frozenset())


def walked_in(command: c.RegisterTicket | None = None, by: Officer = OTHER_HANDLER) -> History:
    """Registered at a county or station (Qilihe by default) and forwarded by its node at once
    when another unit is competent (转办): the default gym complaint goes to Chengguan."""
    history = History.registered(by, command or draft())
    signer = system(by.unit_code)
    history.record(signer, *forward_walk_in(history.state, signer.ref(), history.ctx))
    return history


def accepted(command: c.RegisterTicket | None = None) -> History:
    """A complaint routed to Chengguan and accepted there: mediation is under way."""
    history = routed(command)
    history.do(HANDLER, c.AcceptComplaint("要素齐全，予以受理"))
    return history


def mediation_ended(
    end: c.EndMediation | None = None, command: c.RegisterTicket | None = None
) -> History:
    """An accepted complaint whose mediation ended (settled by default)."""
    history = accepted(command)
    history.do(HANDLER, end or c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=1))
    return history


def result_submitted(command: c.RegisterTicket | None = None) -> History:
    """Mediation ended and the handler signed the result: it awaits the unit head."""
    history = mediation_ended(command=command)
    history.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "双方协商一致，商家退款"))
    return history


def closed_complaint(command: c.RegisterTicket | None = None) -> History:
    """A complaint closed by the unit head's approval: it awaits its callback."""
    history = result_submitted(command)
    history.do(HEAD, c.ApproveResult(Track.COMPLAINT, "同意办结"))
    return history


def verified_report(finding: Finding = Finding.SUBSTANTIATED, evidence: str = "") -> History:
    """A report routed to Chengguan and verified."""
    history = routed(draft(TicketKind.REPORT, incident_region="620102"))
    history.do(HANDLER, c.VerifyReport(finding, evidence or "现场检查笔录及照片"))
    return history
