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


class FieldOfficer(CaseworkOfficer):
    """An officer who mediates complaints and signs their results: a county handler
    (承办人) or a station officer (市场监管所)."""

    abstract = True

    def work_in_handling(self, queue: str, holder_prefix: str | None = None) -> None:
        """Open a sample of the in-handling tickets of this officer and take each one step:
        end its mediation with an agreement, or sign its result."""
        for ticket_id, ticket in self.opened(
            queue, ticket_pb2.TICKET_STATUS_IN_HANDLING, holder_prefix
        ):
            stage = complaint_stage(ticket)
            if stage in _MEDIATING:
                self.step(
                    "EndMediation",
                    cw.EndMediationRequest(
                        ticket_id=ticket_id,
                        outcome=common_pb2.MEDIATION_OUTCOME_AGREEMENT,
                        agreement="双方同意退款。",
                        amount_recovered_fen=10_000,
                    ),
                )
            elif stage == ticket_pb2.STAGE_MEDIATION_ENDED:
                self.step(
                    "SubmitResult",
                    cw.SubmitResultRequest(
                        ticket_id=ticket_id,
                        track=common_pb2.TRACK_COMPLAINT,
                        summary="经调解双方达成协议，经营者退款。",
                    ),
                )


class CountyHandler(FieldOfficer):
    """A county's handler: accepts the complaints routed to the county, hands a share to its
    station, and mediates and signs the rest."""

    abstract = True
    role = "county_officer"

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
