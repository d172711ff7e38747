"""The casework after dispatch as Locust users: county handlers, station officers, unit heads
and the centre's callback officers, each signed in as a real officer of the surge's network.

Why this exists: a 3·15 surge does not end at the call. The counties accept (受理) the
complaints routed to them and hand some to a market-supervision station (派至市场监管所),
whose officers mediate (调解) them on the spot; whoever mediated signs the result (签字负责制);
the county's unit head approves it, or sends it back (审批, issue 14: approvals), which closes
the complaint; and the centre that took the call calls the consumer back (回访) to record the
rating. A hub that holds the calls but whose counties cannot close them has not held the surge.

Every role here is one user in the whole run (``fixed_count = 1``, counted across workers by
Locust), so two officers never race for the same step on one ticket; each works its queue in
no particular order (a sample of the page), and looks at a ticket (``GetTicket``) before the
step its stage asks for, as an officer opens the file first. They are imported into the Locust
file (``loadtest.locust_users``), which is where Locust finds them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from locust import between, task

from loadtest.network_users import NetworkUser, network
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import common_pb2, intake_pb2, ticket_pb2

STATION_SHARE = 1 / 3
"""Share of accepted complaints a county with a station hands to it (the station is nearer
the business: a gym's refund is mediated at the gym)."""

REJECTED_SHARE = 0.1
"""Share of submitted results the unit head sends back for more work."""

SATISFACTION_SHARES = (
    (common_pb2.SATISFACTION_VERY_SATISFIED, 30),
    (common_pb2.SATISFACTION_SATISFIED, 50),
    (common_pb2.SATISFACTION_NEUTRAL, 15),
    (common_pb2.SATISFACTION_DISSATISFIED, 5),
)
"""Callback ratings (per cent); a dissatisfied consumer reopens the ticket (回炉重办), and its
county works it again."""

EXTENSION_SHARE = 0.1
"""Share of mediations for which the county asks the city for more time (延期申请: testing or
appraisal will take longer than the limit)."""

EXTENSION_DAYS = 15
"""Working days asked for."""

DENIED_SHARE = 0.2
"""Share of extension requests the city denies."""

LOOK_AT = 4
"""Tickets an officer opens per round of its queue."""

_MEDIATING = (ticket_pb2.STAGE_MEDIATING, ticket_pb2.STAGE_MEDIATION_PAUSED)


def complaint_stage(ticket: ticket_pb2.Ticket) -> ticket_pb2.Stage.ValueType:
    """The stage of the ticket's complaint part (unspecified when it has none)."""
    for track in ticket.tracks:
        if track.track == common_pb2.TRACK_COMPLAINT:
            return track.stage
    return ticket_pb2.STAGE_UNSPECIFIED


class CaseworkOfficer(NetworkUser):
    """An officer working a queue of tickets: one in the whole run, opening a sample of the
    queue's page each round."""

    abstract = True
    fixed_count = 1
    wait_time = between(1.0, 2.0)

    def mine(self, summary: intake_pb2.TicketSummary) -> bool:
        """True for a listed ticket this officer works on (default: every one)."""
        return True

    def opened(
        self,
        queue: str,
        status: ticket_pb2.TicketStatus.ValueType,
        holder_prefix: str | None = None,
    ) -> list[tuple[str, ticket_pb2.Ticket]]:
        """A sample of this officer's tickets in ``status`` (timed as ``ListTickets
        queue``), each opened (``GetTicket``): the ticket id and the ticket, for those that
        opened."""
        listed = self.timed(
            f"ListTickets {queue}", lambda: self.page(status, 100, holder_prefix=holder_prefix)
        )
        own = [t for t in getattr(listed, "tickets", []) if self.mine(t)]
        files = []
        for summary in self.rng.sample(own, min(LOOK_AT, len(own))):
            ticket = self.timed("GetTicket", partial(self.client.get, summary.ticket_id))
            if ticket is not None:
                files.append((summary.ticket_id, ticket))
        return files


def mediation_extensions(ticket: ticket_pb2.Ticket) -> list[ticket_pb2.Extension]:
    """The extensions asked for the ticket's mediation, pending, decided or lapsed."""
    return [x for x in ticket.extensions if x.duty == common_pb2.DUTY_END_MEDIATION]


def is_pending(extension: ticket_pb2.Extension) -> bool:
    """True while nobody decided the request and its duty has not ended."""
    return not extension.decided_hlc and not extension.lapsed_hlc


class FieldOfficer(CaseworkOfficer):
    """An officer who mediates complaints and signs their results: a county handler
    (承办人) or a station officer (市场监管所)."""

    abstract = True
    asks_for_time = False
    """True for the holding county's officer, who may ask the unit above for more time."""

    def work_in_handling(self, queue: str, holder_prefix: str | None = None) -> None:
        """Open a sample of the in-handling tickets of this officer and take each one the step
        its stage asks (``next_step``)."""
        for ticket_id, ticket in self.opened(
            queue, ticket_pb2.TICKET_STATUS_IN_HANDLING, holder_prefix
        ):
            step = self.next_step(ticket_id, ticket)
            if step is not None:
                self.step(*step)

    def next_step(self, ticket_id: str, ticket: ticket_pb2.Ticket) -> tuple[str, Any] | None:
        """The step the complaint's stage asks of this officer (None: nothing now). A
        mediation is not ended while the city has its request for more time before it."""
        stage = complaint_stage(ticket)
        asked = mediation_extensions(ticket)
        asks_now = self.asks_for_time and not asked and self.rng.random() < EXTENSION_SHARE
        if stage in _MEDIATING and asks_now:
            return "RequestExtension", cw.RequestExtensionRequest(
                ticket_id=ticket_id,
                duty=common_pb2.DUTY_END_MEDIATION,
                days=EXTENSION_DAYS,
                reason="商品送检，检测结果需十五个工作日。",
            )
        if stage in _MEDIATING and not (asked and is_pending(asked[-1])):
            return "EndMediation", cw.EndMediationRequest(
                ticket_id=ticket_id,
                outcome=common_pb2.MEDIATION_OUTCOME_AGREEMENT,
                agreement="双方同意退款。",
                amount_recovered_fen=10_000,
            )
        if stage == ticket_pb2.STAGE_MEDIATION_ENDED:
            return "SubmitResult", cw.SubmitResultRequest(
                ticket_id=ticket_id,
                track=common_pb2.TRACK_COMPLAINT,
                summary="经调解双方达成协议，经营者退款。",
            )
        return None


class CountyHandler(FieldOfficer):
    """A county's handler: accepts the complaints routed to the county, hands a share to its
    station, and mediates and signs the rest."""

    abstract = True
    role = "county_officer"
    asks_for_time = True

    def on_start(self) -> None:
        """Sign in, and find the county's stations in the network."""
        super().on_start()
        self.stations = sorted(
            node["unit"]
            for node in network()["nodes"].values()
            if node["unit"] != self.unit and node["unit"].startswith(self.unit)
        )

    def mine(self, summary: intake_pb2.TicketSummary) -> bool:
        """The county's own tickets: not handed to a station."""
        return not summary.assigned_station

    @task
    def work_the_county_queue(self) -> None:
        """Accept up to three routed complaints (a share goes to the station), then take
        in-handling tickets one step each."""
        routed = self.timed(
            "ListTickets routed", lambda: self.page(ticket_pb2.TICKET_STATUS_ROUTED, 50)
        )
        complaints = [
            t for t in getattr(routed, "tickets", []) if t.kind == common_pb2.TICKET_KIND_COMPLAINT
        ]
        for summary in complaints[:3]:
            accepted = self.step(
                "AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=summary.ticket_id)
            )
            if accepted is not None and self.stations and self.rng.random() < STATION_SHARE:
                self.step(
                    "AssignToStation",
                    cw.AssignToStationRequest(
                        ticket_id=summary.ticket_id,
                        station_code=self.rng.choice(self.stations),
                        note="请到经营场所现场调解。",
                    ),
                )
        self.work_in_handling("in handling")


class ChengguanHandler(CountyHandler):
    """The handler at Chengguan (620102), which has the Zhangye Road station."""

    at = "chengguan"


class QiliheHandler(CountyHandler):
    """The handler at Qilihe (620103)."""

    at = "qilihe"


class StationOfficer(FieldOfficer):
    """An officer of the Zhangye Road station at its own node: mediates the complaints its
    county assigned to it and signs their results, in the county's name."""

    role = "station_officer"

    def mine(self, summary: intake_pb2.TicketSummary) -> bool:
        """The tickets assigned to this station."""
        return bool(summary.assigned_station == self.unit)

    @task
    def work_the_station_queue(self) -> None:
        """Take the station's in-handling tickets one step each (held by the county)."""
        self.work_in_handling("station", holder_prefix="")


class UnitHead(CaseworkOfficer):
    """A county's unit head (负责人): approves the signed results of the county's complaints
    (the complaint closes), or sends one back to its handler."""

    abstract = True
    role = "unit_head"
    wait_time = between(1.5, 3.0)

    @task
    def approve_results(self) -> None:
        """Open a sample of the county's tickets in handling; decide those awaiting approval."""
        for ticket_id, ticket in self.opened("to approve", ticket_pb2.TICKET_STATUS_IN_HANDLING):
            if complaint_stage(ticket) != ticket_pb2.STAGE_RESULT_SUBMITTED:
                continue
            if self.rng.random() < REJECTED_SHARE:
                self.step(
                    "RejectResult",
                    cw.RejectResultRequest(
                        ticket_id=ticket_id,
                        track=common_pb2.TRACK_COMPLAINT,
                        reason="退款金额未写明，请补充。",
                    ),
                )
            else:
                self.step(
                    "ApproveResult",
                    cw.ApproveResultRequest(
                        ticket_id=ticket_id, track=common_pb2.TRACK_COMPLAINT, note="同意。"
                    ),
                )


class ChengguanHead(UnitHead):
    """The unit head at Chengguan."""

    at = "chengguan"


class QiliheHead(UnitHead):
    """The unit head at Qilihe."""

    at = "qilihe"


class CityHead(CaseworkOfficer):
    """The city's unit head (负责人), the unit above the counties: decides their requests
    for more time to end a mediation (延期审批), most approved as asked, some denied."""

    role = "city_head"
    at = "city"
    wait_time = between(1.5, 3.0)

    def mine(self, summary: intake_pb2.TicketSummary) -> bool:
        """The counties' tickets (those the city holds itself it cannot decide for)."""
        return bool(summary.holder_unit != self.unit)

    @task
    def decide_extensions(self) -> None:
        """Open a sample of the counties' tickets in handling; decide pending requests."""
        for ticket_id, ticket in self.opened(
            "extensions", ticket_pb2.TICKET_STATUS_IN_HANDLING, holder_prefix=""
        ):
            asked = mediation_extensions(ticket)
            if not asked or not is_pending(asked[-1]):
                continue
            denied = self.rng.random() < DENIED_SHARE
            self.step(
                "DecideExtension",
                cw.DecideExtensionRequest(
                    ticket_id=ticket_id,
                    duty=common_pb2.DUTY_END_MEDIATION,
                    approved=not denied,
                    note="检测可在限期内完成，不予延期。" if denied else "同意延期。",
                ),
            )


class CallbackOfficer(CaseworkOfficer):
    """The centre's callback officer (回访员): calls back the consumers of closed tickets the
    centre registered and records their rating."""

    role = "callback"
    wait_time = between(1.5, 3.0)

    @task
    def call_back(self) -> None:
        """Open a sample of the closed tickets; record the callback of those awaiting one."""
        ratings = [rating for rating, _ in SATISFACTION_SHARES]
        weights = [share for _, share in SATISFACTION_SHARES]
        closed = self.opened("closed", ticket_pb2.TICKET_STATUS_CLOSED, holder_prefix="")
        for ticket_id, ticket in closed:
            if not ticket.awaiting_callback:
                continue
            self.step(
                "RecordCallback",
                cw.RecordCallbackRequest(
                    ticket_id=ticket_id,
                    satisfaction=self.rng.choices(ratings, weights=weights)[0],
                    note="消费者对处理结果的评价。",
                ),
            )
