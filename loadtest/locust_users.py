"""The people of a 12315 network as Locust users: the Locust file of ``hotline loadtest surge``.

Why this exists: a surge is not one RPC repeated but a mix of people working at once. The
call-takers register consultations (咨询), complaints (投诉) and reports (举报) in the shares a
12315 centre sees; a dispatcher routes them (分派); enterprises read and answer their ODR
disputes (在线纠纷解决); the command centre reads queues and tickets. What follows dispatch
(county handlers, station officers, unit heads, the city's extension decisions,
callbacks) is ``loadtest.casework_users``,
imported here so that Locust finds it. Every call is timed into Locust's request statistics,
so Locust's CSV and HTML reports show each type's rate and percentiles.

This is a Locust file (``locust -f loadtest/locust_users.py``), run by ``hotline loadtest
surge`` or by ops as master and workers; signing in and timing are
``loadtest.network_users``'s. Every ticket a call-taker was answered is appended to
``acks-<pid>.txt`` for the loss check.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from functools import partial

from locust import LoadTestShape, between, task

from core.ticket.vocabulary import TicketKind
from loadtest.casework_users import (
    CallbackOfficer,
    ChengguanHandler,
    ChengguanHead,
    CityHead,
    QiliheHandler,
    QiliheHead,
    StationOfficer,
)
from loadtest.network_users import NetworkUser, network, now_stamp, record_ack
from loadtest.shapes import users_at
from node.devnet.samples import GYM, random_ticket
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import common_pb2, intake_pb2, odr_pb2, ticket_pb2
from sync.codec import to_message

KIND_SHARES = (
    (TicketKind.CONSULTATION, 45),
    (TicketKind.COMPLAINT, 45),
    (TicketKind.REPORT, 10),
)
"""Shares of the calls by kind (per cent): a 12315 line answers about as many questions as it
takes complaints, and far fewer reports."""

GREEN_CHANNEL_SHARE = 0.1
"""Share of complaints against the enrolled gym whose consumer chooses the ODR green channel."""


class CallTaker(NetworkUser):
    """A 12315 call-taker (话务员) registering what callers say, in the usual shares, and
    answering a consultation on the line (解答咨询), which closes it."""

    role = "call_taker"
    weight = 6

    @task
    def register_a_call(self) -> None:
        """Register one call as a consultation, complaint or report; answer a consultation."""
        kinds = [kind for kind, _ in KIND_SHARES]
        kind = self.rng.choices(kinds, weights=[share for _, share in KIND_SHARES])[0]
        command = replace(random_ticket(self.rng), kind=kind)
        green = (
            kind is TicketKind.COMPLAINT
            and network().get("odr_green_channel", False)
            and self.rng.random() < GREEN_CHANNEL_SHARE
        )
        if green:
            command = replace(command, respondent=GYM)
        ticket = to_message(command, intake_pb2.NewTicket)
        ticket.facts = f"{ticket.facts}（{uuid.uuid4().hex[:8]}）"
        ticket.odr_green_channel = green
        answer = self.timed(
            f"RegisterTicket {'odr' if green else kind.name.lower()}",
            lambda: self.client.register(uuid.uuid4().hex, ticket),
        )
        if answer is None:
            return
        record_ack(answer.ticket_id)
        if kind is TicketKind.CONSULTATION:
            self.step(
                "AnswerInquiry",
                cw.AnswerInquiryRequest(
                    ticket_id=answer.ticket_id,
                    answer="已告知消费者可依法要求经营者退货，并说明维权途径。",
                ),
            )


class Dispatcher(NetworkUser):
    """The centre's dispatcher (派单员): routes registered complaints and reports by
    jurisdiction. One in the whole run (Locust counts ``fixed_count`` across workers), so two
    never route the same ticket."""

    role = "dispatcher"
    fixed_count = 1
    wait_time = between(1.0, 2.0)

    @task
    def route_the_waiting(self) -> None:
        """Route up to five tickets waiting at the centre."""
        waiting = self.timed(
            "ListTickets registered",
            lambda: self.page(ticket_pb2.TICKET_STATUS_REGISTERED, 50),
        )
        routable = [
            t
            for t in getattr(waiting, "tickets", [])
            if t.kind != common_pb2.TICKET_KIND_CONSULTATION
        ][:5]
        for summary in routable:
            self.step("RouteTicket", cw.RouteTicketRequest(ticket_id=summary.ticket_id))


class Enterprise(NetworkUser):
    """An enterprise user (企业用户) at its county's node: reads its ODR disputes and its
    standing, and records a contact on the first dispute still open."""

    role = "enterprise"
    weight = 1
    wait_time = between(2.0, 4.0)

    @task
    def answer_disputes(self) -> None:
        """Read the disputes and the standing; record a phone contact on an open one."""
        listed = self.timed(
            "ListDisputes",
            partial(self.client.call, "OdrService", "ListDisputes", odr_pb2.ListDisputesRequest()),
        )
        self.timed(
            "GetPerformance",
            partial(
                self.client.call, "OdrService", "GetPerformance", odr_pb2.GetPerformanceRequest()
            ),
        )
        for dispute in getattr(listed, "disputes", [])[:1]:
            self.timed(
                "RecordContact",
                partial(
                    self.client.call,
                    "OdrService",
                    "RecordContact",
                    odr_pb2.RecordContactRequest(
                        ticket_id=dispute.ticket_id,
                        method=odr_pb2.CONTACT_METHOD_PHONE,
                        contacted_at=now_stamp(),
                        result="已电话联系消费者，协商退款。",
                    ),
                ),
            )


class Reader(NetworkUser):
    """A command-centre reader (指挥中心): the unit's queue and a ticket or two."""

    role = "reader"
    weight = 2

    @task
    def read_the_queue(self) -> None:
        """Read the centre's queue and the newest tickets held at the centre."""
        self.timed("GetQueue", lambda: self.client.queue(self.unit))
        recent = self.timed(
            "ListTickets held",
            lambda: self.page(ticket_pb2.TICKET_STATUS_UNSPECIFIED, 20),
        )
        for summary in getattr(recent, "tickets", [])[:2]:
            self.timed("GetTicket", partial(self.client.get, summary.ticket_id))


CASEWORK = (
    ChengguanHandler,
    QiliheHandler,
    StationOfficer,
    ChengguanHead,
    QiliheHead,
    CityHead,
    CallbackOfficer,
)
"""The casework users (``loadtest.casework_users``), here so that Locust finds them."""

ALWAYS_ON = Dispatcher.fixed_count + sum(user.fixed_count for user in CASEWORK)
"""Users whose number does not follow the calls: the dispatcher and the casework, one each."""


class SurgeShape(LoadTestShape):
    """The Locust load shape of a surge run: the shape's name, the peak and the length come
    from the environment (``HOTLINE_SURGE_SHAPE``, ``HOTLINE_SURGE_USERS``,
    ``HOTLINE_SURGE_MINUTES``), so one shape drives a local run and a master with workers."""

    def tick(self) -> tuple[int, float] | None:
        """The users and spawn rate for this second of the run (Locust asks every second)."""
        return users_at(
            os.environ.get("HOTLINE_SURGE_SHAPE", "315"),
            self.get_run_time(),  # type: ignore[no-untyped-call]
            peak_users=int(os.environ.get("HOTLINE_SURGE_USERS", "10")),
            minutes=float(os.environ.get("HOTLINE_SURGE_MINUTES", "1")),
            always_on=ALWAYS_ON,
        )
